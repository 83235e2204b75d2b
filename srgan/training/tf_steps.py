"""The compiled training steps: generator warm-up, critic update, generator update.

One critic update then one generator update per batch (ref). Each step is a
tf.function traced once for any batch size (the last batch of an epoch is partial).
srgan/training/jax_steps.py computes the same steps under JAX, behind the same interface.

Under a tf.distribute strategy each step runs on every replica's share of the global
batch (`strategy.run`): each replica's loss is divided by the replica count, so the
all-reduced gradient is that of the global batch's mean loss; the losses reported are
the mean over replicas. One step on N replicas computes what one device does.
TrainSteps is the seed's model; SRGANSteps and WSRGANSteps the baselines', whose
generator loss is their content term (VGG54, or MSE without VGG) + the adversarial one.
"""

import functools
from collections.abc import Callable, Iterator

import keras
import tensorflow as tf

from srgan.losses.adversarial import (critic_loss, discriminator_bce_loss, generator_adversarial_loss,
                                      generator_bce_loss, gradient_penalty)
from srgan.losses.content import mse_loss
from srgan.losses.perceptual import perceptual_loss
from srgan.models.srresnet import discriminator_logits
from srgan.run.state import Networks

Losses = dict[str, tf.Tensor]


class TrainSteps:
    """Binds the networks, optimizers and losses of one run into compiled steps."""

    def __init__(self, networks: Networks, vgg: keras.Model | None,
                 content: Callable[[tf.Tensor, tf.Tensor], tf.Tensor], jit: bool = False,
                 strategy: tf.distribute.Strategy | None = None):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.replicas = self.strategy.num_replicas_in_sync
        self.generator = networks.generator
        self.critic = critic = networks.critic
        self.generator_optimizer = networks.generator_optimizer
        self.critic_optimizer = networks.critic_optimizer
        self.warmup_optimizer = networks.warmup
        self.vgg = vgg
        self.content = content
        images = tf.TensorSpec((None, None, None, 3), tf.float32)
        # The critic fixes the HR size of the GAN steps; the warm-up takes any crop size.
        hr_size = tf.TensorSpec((None, *critic.input_shape[1:]), tf.float32)
        draws = tf.TensorSpec((None, 1, 1, 1), tf.float32)
        self.warmup_step = self._compile(self._replicated(self._warmup_step), [images, images], jit)
        self.critic_step = self._compile(self._critic_with_penalty_draws, [images, hr_size, draws],
                                         jit)
        # The content loss switches from MSE after the first 4% of epochs: one compiled step
        # for each (traced at its first use), as JAX's step takes it as a static argument.
        # A tf.cond inside one trace cannot be compiled by XLA (--jit) with SSIM's gradient.
        generator_steps = {use_mse: self._compile(
            self._replicated(functools.partial(self._generator_step, use_mse=use_mse)),
            [images, hr_size], jit) for use_mse in (False, True)}
        self.generator_step = lambda lr, hr, use_mse: generator_steps[bool(use_mse)](lr, hr)

    def _compile(self, step: Callable, signature: list[tf.TensorSpec], jit: bool) -> Callable:
        # A strategy's inputs are per-replica values, which a signature of plain tensors
        # cannot describe: there, the trace is kept general instead.
        if self.replicas == 1:
            return tf.function(step, input_signature=signature, jit_compile=jit)
        return tf.function(step, reduce_retracing=True, jit_compile=jit)

    def _replicated(self, step: Callable) -> Callable:
        """`step` on every replica's share, its losses averaged over the replicas."""
        def run(*args) -> Losses:
            losses = self.strategy.run(step, args)
            return {name: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                    for name, value in losses.items()}
        return run

    def set_learning_rate(self, rate: float) -> None:
        for optimizer in (self.generator_optimizer, self.critic_optimizer, self.warmup_optimizer):
            optimizer.learning_rate.assign(rate)

    def sync(self) -> None:
        """The Keras variables hold the steps' values: always so under TensorFlow."""

    def reload(self) -> None:
        """The steps take the Keras variables' values up again: always so under TensorFlow."""

    def global_batch(self, hr) -> int:
        """How many crops the global batch `hr` (one tensor, or one per replica) holds."""
        local = self.strategy.experimental_local_results(hr)
        return sum(int(part.shape[0]) for part in local) * (self.replicas // len(local))

    def distribute(self, batches: Iterator) -> Iterator:
        """`batches` of the global batch as the steps take them: split over the replicas
        under a strategy, where every worker builds the whole, seeded span and keeps its
        replicas' shares."""
        if self.replicas == 1:
            return batches
        spec = tf.TensorSpec((None, None, None, 3), tf.float32)
        data = tf.data.Dataset.from_generator(lambda: batches, output_signature=(spec, spec))
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return iter(self.strategy.experimental_distribute_dataset(data.with_options(options)))

    def _critic_with_penalty_draws(self, lr: tf.Tensor, hr: tf.Tensor, epsilon: tf.Tensor) -> Losses:
        """The critic step, with the gradient penalty's random mixing weights `epsilon`
        drawn for the global batch (srgan/training/draws.py) and shared out by replica:
        the same draws as on one device."""
        return self._replicated(self._critic_step)(lr, hr, epsilon)

    @staticmethod
    def _share(epsilon: tf.Tensor, hr: tf.Tensor) -> tf.Tensor:
        """This replica's rows of a global-batch tensor (replicas get equal shares)."""
        local = tf.shape(hr)[0]
        first = tf.distribute.get_replica_context().replica_id_in_sync_group * local
        return epsilon[first:first + local]

    def _apply(self, optimizer, model: keras.Model, tape: tf.GradientTape, loss: tf.Tensor):
        # Under mixed_float16 the optimizer is a LossScaleOptimizer: the gradients are
        # taken of the scaled loss, and apply_gradients unscales them (and skips a step
        # whose gradients overflowed). For the other optimizers the scale is 1.
        scale = optimizer.scale_loss(tf.ones_like(loss)) / self.replicas
        grads = tape.gradient(loss, model.trainable_variables, output_gradients=scale)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))

    def _warmup_step(self, lr: tf.Tensor, hr: tf.Tensor) -> Losses:
        """Generator alone on MSE (SRGAN's initialisation, `--n_epoch_init`)."""
        with tf.GradientTape() as tape:
            sr = self.generator(lr, training=True)
            loss = mse_loss(hr, sr)
        self._apply(self.warmup_optimizer, self.generator, tape, loss)
        return {"content": loss}

    def _critic_step(self, lr: tf.Tensor, hr: tf.Tensor, epsilon: tf.Tensor) -> Losses:
        sr = self.generator(lr, training=True)
        epsilon = self._share(epsilon, hr)
        with tf.GradientTape() as tape:
            # One critic call on the joined batch: no BatchNorm, so samples stay
            # independent, and one large convolution beats two half-size ones on CPU.
            real, fake = tf.split(self.critic(tf.concat([hr, sr], 0), training=True), 2)
            penalty = gradient_penalty(lambda x: self.critic(x, training=True), hr, sr, epsilon)
            loss, wasserstein = critic_loss(real, fake, penalty)
        self._apply(self.critic_optimizer, self.critic, tape, loss)
        return {"wasserstein": wasserstein, "gp": penalty, "critic": loss}

    def _generator_step(self, lr: tf.Tensor, hr: tf.Tensor, use_mse: bool) -> Losses:
        with tf.GradientTape() as tape:
            sr = self.generator(lr, training=True)
            content = mse_loss(hr, sr) if use_mse else self.content(hr, sr)
            vgg = perceptual_loss(self.vgg, hr, sr) if self.vgg is not None else tf.constant(0.0)
            adversarial = generator_adversarial_loss(self.critic(sr, training=True))
            loss = content + vgg + adversarial
        self._apply(self.generator_optimizer, self.generator, tape, loss)
        return {"content": content, "vgg": vgg, "adversarial": adversarial, "generator": loss}


class _BaselineSteps(TrainSteps):
    """The baselines' generator step: their content term (VGG54, or MSE without VGG)
    plus an adversarial term; the seed's switch from MSE to --content_loss does not
    apply, so `use_mse` is ignored."""

    def _adversarial(self, sr: tf.Tensor) -> tf.Tensor:
        raise NotImplementedError

    def _generator_step(self, lr: tf.Tensor, hr: tf.Tensor, use_mse: bool) -> Losses:
        with tf.GradientTape() as tape:
            sr = self.generator(lr, training=True)
            content = self.content(hr, sr)
            adversarial = self._adversarial(sr)
            loss = content + adversarial
        self._apply(self.generator_optimizer, self.generator, tape, loss)
        return {"content": content, "adversarial": adversarial, "generator": loss}


class WSRGANSteps(_BaselineSteps):
    """W-SRGAN: the seed's WGAN-GP critic step; adversarial term -1e-3 mean(D(SR))."""

    def _adversarial(self, sr: tf.Tensor) -> tf.Tensor:
        return generator_adversarial_loss(self.critic(sr, training=True))


class SRGANSteps(_BaselineSteps):
    """SRGAN: discriminator on binary cross-entropy; adversarial term 1e-3 BCE."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.logits = discriminator_logits(self.critic)

    def _critic_step(self, lr: tf.Tensor, hr: tf.Tensor, epsilon: tf.Tensor) -> Losses:
        # No gradient penalty: `epsilon` goes unused.
        sr = self.generator(lr, training=True)
        with tf.GradientTape() as tape:
            # Two calls, not one on the joined batch: BatchNorm would otherwise mix
            # the statistics of real and generated images.
            real = self.logits(hr, training=True)
            fake = self.logits(sr, training=True)
            loss = discriminator_bce_loss(real, fake)
        self._apply(self.critic_optimizer, self.critic, tape, loss)
        return {"discriminator": loss, "d_real": tf.reduce_mean(tf.sigmoid(real)),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake))}

    def _adversarial(self, sr: tf.Tensor) -> tf.Tensor:
        return generator_bce_loss(self.logits(sr, training=True))
