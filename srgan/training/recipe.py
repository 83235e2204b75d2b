"""What each epoch trains with: the optimizers, the learning rate and the content loss."""

import math

import keras

from srgan import registry
from srgan.config import TrainConfig
from srgan.training.rmsprop import TF1RMSprop

# The seed switches from MSE to the SSIM content loss after 4% of the GAN epochs (ref).
MSE_FRACTION = 0.04


def learning_rate(config: TrainConfig, epoch: int, step: int = 0) -> float:
    """During warm-up warmup_lr, constant (the seed) or on a cosine from it towards 0 at
    the end of the warm-up: by epoch, or by `step` where the warm-up's length is fitted to
    --minutes_init (rate_by_step); then lr_init x lr_decay every decay period of GAN epochs."""
    if epoch < config.n_epoch_init:
        if config.warmup_schedule == "cosine":
            return config.warmup_lr * 0.5 * (1 + math.cos(math.pi * _warmup_progress(config, epoch, step)))
        return config.warmup_lr
    gan_epoch = epoch - config.n_epoch_init
    return config.lr_init * config.lr_decay ** (gan_epoch // config.decay_period)


def rate_by_step(config: TrainConfig) -> bool:
    """Whether the warm-up's rate changes at every step: a cosine over a fitted length."""
    return config.warmup_schedule == "cosine" and (
        config.minutes_init is not None or config.warmup_steps is not None)


def _warmup_progress(config: TrainConfig, epoch: int, step: int) -> float:
    """How far the cosine is along: 0 until a budget's length is fitted (the rate holds at
    warmup_lr while the run times its steps)."""
    if not rate_by_step(config):
        return epoch / config.n_epoch_init
    return 0.0 if config.warmup_steps is None else min(1.0, step / config.warmup_steps)


def content_is_mse(config: TrainConfig, epoch: int) -> bool:
    """Whether the seed's generator trains on MSE in `epoch` (the first 4% of GAN
    epochs, ref) rather than on --content_loss."""
    return epoch - config.n_epoch_init < MSE_FRACTION * config.n_epoch


def _optimizer(name: str, rate: float, loss_scale: bool) -> keras.optimizers.Optimizer:
    """`name` of config.OPTIMIZERS: rmsprop is TF1's rule, as the seed's reference ran it;
    keras_rmsprop Keras' own (accumulator from zeros, epsilon 1e-7), for comparison."""
    builders = {"rmsprop": TF1RMSprop, "keras_rmsprop": keras.optimizers.RMSprop,
                "adam": lambda rate: keras.optimizers.Adam(rate, beta_1=0.9)}
    optimizer = builders[name](rate)
    # float16's narrow range needs a dynamic loss scale; bfloat16 has float32's range.
    return keras.optimizers.LossScaleOptimizer(optimizer) if loss_scale else optimizer


def optimizers(config: TrainConfig, loss_scale: bool = False) -> tuple[
        keras.optimizers.Optimizer, keras.optimizers.Optimizer, keras.optimizers.Optimizer | None]:
    """(generator's, critic's, warm-up's or None where the warm-up uses the generator's).

    Each model's own (srgan/registry.py): the seed's RMSProp with TF1's rule (ref); the
    baselines' Adam with beta1 0.9, as the SRGAN paper.
    """
    gan = registry.spec(config.model).optimizer
    warmup = (None if config.warmup_optimizer == "same"
              else _optimizer(config.warmup_optimizer, config.warmup_lr, loss_scale))
    return (_optimizer(gan, config.lr_init, loss_scale), _optimizer(gan, config.lr_init, loss_scale),
            warmup)
