"""The training steps under Keras' JAX backend, behind srgan/training/tf_steps.py's interface: the
warm-up, the critic step and the generator step of the seed's model and of both
baselines, computing what TensorFlow's TrainSteps computes (tests/unit/runtime/test_backends.py holds
their first steps equal).

JAX's steps are pure, jitted functions: the networks' and optimizers' variables travel as
explicit state, through Keras' stateless_call and stateless_apply. The state is taken up
from the Keras variables at the first step after a `reload` (a restore, a recomputation
of the BatchNorm statistics) and written back into them at `sync` (to save or score).

Under a Keras DataParallel distribution (srgan/training/jax_devices.py) the state is
replicated on every device and `distribute` splits each batch over them; the same jitted
steps then run partitioned, with nothing of their own to say about devices.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import keras

from srgan.losses.adversarial import (critic_loss, discriminator_bce_loss, generator_adversarial_loss,
                                      generator_bce_loss, gradient_penalty)
from srgan.losses.content import mse_loss
from srgan.losses.perceptual import perceptual_loss
from srgan.models.srresnet import discriminator_logits
from srgan.run.state import Networks

State = dict[str, Any]
Losses = dict[str, jax.Array]


def _shared_call(model: keras.Model, network: keras.Model) -> Callable:
    """`model`'s stateless call over the variable lists of `network`, whose variables it
    shares (a discriminator up to its logit): (weights, fixed, x) -> (y, fixed)."""
    if model is network:
        return lambda weights, fixed, x: network.stateless_call(weights, fixed, x, training=True)
    where = {id(v): i for i, v in enumerate(network.trainable_variables)}
    fixed_where = {id(v): i for i, v in enumerate(network.non_trainable_variables)}
    picks = [where[id(v)] for v in model.trainable_variables]
    fixed_picks = [fixed_where[id(v)] for v in model.non_trainable_variables]

    def call(weights, fixed, x):
        y, moved = model.stateless_call([weights[i] for i in picks],
                                        [fixed[i] for i in fixed_picks], x, training=True)
        fixed = list(fixed)
        for i, value in zip(fixed_picks, moved):
            fixed[i] = value
        return y, fixed
    return call


class JaxSteps:
    """The seed's model: MSE warm-up, WGAN-GP critic, generator on content (MSE for the
    first epochs), VGG where given, and -1e-3 mean(D(SR))."""

    def __init__(self, networks: Networks, vgg: keras.Model | None,
                 content: Callable[[Any, Any], Any], jit: bool = False,
                 strategy: keras.distribution.DataParallel | None = None):
        """As TrainSteps; `jit` changes nothing (JAX's steps are always compiled), and the
        `strategy` is a Keras DataParallel distribution, or None for one device."""
        self.distribution = strategy
        self.replicas = len(strategy.device_mesh.devices.flat) if strategy is not None else 1
        self.generator = networks.generator
        self.critic = networks.critic
        self.generator_optimizer = networks.generator_optimizer
        self.critic_optimizer = networks.critic_optimizer
        self.warmup_optimizer = networks.warmup
        self.vgg = vgg
        self.content = content
        # One state per optimizer: the warm-up's is the generator's unless set apart.
        self._optimizers = networks.optimizers()
        self._warmup_key = "warmup" if "warmup" in self._optimizers else "generator"
        # Built in the distribution's scope, so that the slots are replicated as the weights.
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            for optimizer, network in self._optimizers.values():
                if not optimizer.built:
                    optimizer.build(network.trainable_variables)
        self._rate_index = {key: _rate_index(optimizer)
                            for key, (optimizer, _) in self._optimizers.items()}
        self._scale_index = {key: _scale_index(optimizer)
                             for key, (optimizer, _) in self._optimizers.items()}
        self._score = _shared_call(self._scorer(), self.critic)
        self._state: State | None = None
        self._order: dict[frozenset, list[str]] = {}
        self._rate = float(keras.ops.convert_to_numpy(self.generator_optimizer.learning_rate))
        self._warmup = jax.jit(self._warmup_fn)
        self._critic = jax.jit(self._critic_fn)
        self._generator = jax.jit(self._generator_fn, static_argnums=3)

    def _scorer(self) -> keras.Model:
        return self.critic

    # The interface the training loop uses, as TrainSteps'.

    def warmup_step(self, lr, hr) -> Losses:
        self._state, terms = self._warmup(self._take(), lr, hr, self._rate)
        return self._ordered(terms)

    def critic_step(self, lr, hr, epsilon) -> Losses:
        self._state, terms = self._critic(self._take(), lr, hr, epsilon, self._rate)
        return self._ordered(terms)

    def generator_step(self, lr, hr, use_mse: bool) -> Losses:
        self._state, terms = self._generator(self._take(), lr, hr, bool(use_mse), self._rate)
        return self._ordered(terms)

    def _ordered(self, terms: Losses) -> Losses:
        """The terms in the order the step wrote them (TensorFlow's, which the progress
        bar shows): jit returns a dict's keys sorted."""
        return {name: terms[name] for name in self._order[frozenset(terms)]}

    def _traced(self, terms: Losses) -> Losses:
        """Notes the order of a step's terms while it is traced."""
        self._order[frozenset(terms)] = list(terms)
        return terms

    def set_learning_rate(self, rate: float) -> None:
        self._rate = float(rate)
        for optimizer, _ in self._optimizers.values():
            optimizer.learning_rate.assign(rate)

    def global_batch(self, hr) -> int:
        return int(hr.shape[0])

    def distribute(self, batches: Iterator) -> Iterator:
        """The batches split over the devices along their first axis, where distributed."""
        if self.distribution is None:
            return batches
        return ((self._split(lr), self._split(hr)) for lr, hr in batches)

    def _split(self, images):
        layout = self.distribution.get_data_layout(images.shape)
        return keras.distribution.distribute_tensor(images, layout)

    def sync(self) -> None:
        """Writes the steps' state into the Keras variables."""
        if self._state is None:
            return
        for key, variables in self._variables().items():
            for variable, value in zip(variables, self._state[key], strict=True):
                variable.assign(value)

    def reload(self) -> None:
        """Drops the steps' state: the next step takes the Keras variables up again."""
        self._state = None

    def _variables(self) -> dict[str, list]:
        found = {"g": self.generator.trainable_variables,
                 "gf": self.generator.non_trainable_variables,
                 "c": self.critic.trainable_variables,
                 "cf": self.critic.non_trainable_variables}
        for key, (optimizer, _) in self._optimizers.items():
            found[f"slots_{key}"] = optimizer.variables
        return found

    def _take(self) -> State:
        if self._state is None:
            self._state = {key: [v.value for v in variables]
                           for key, variables in self._variables().items()}
        return self._state

    def _gradients(self, state: State, key: str, loss_of: Callable, weights, *more):
        """(the aux of `loss_of`, the gradients of its loss by `weights`). Under
        mixed_float16 the optimizer is a LossScaleOptimizer: the gradients are taken of
        the loss times its dynamic scale, and its stateless_apply unscales them (and
        skips a step whose gradients overflowed), as TensorFlow's steps do."""
        index = self._scale_index[key]
        scale = state[f"slots_{key}"][index] if index is not None else None

        def scaled(weights, *more):
            loss, aux = loss_of(weights, *more)
            return (loss * scale if scale is not None else loss), aux

        (_, aux), grads = jax.value_and_grad(scaled, has_aux=True)(weights, *more)
        return aux, grads

    def _apply(self, state: State, key: str, network_key: str, grads, rate) -> State:
        optimizer = self._optimizers[key][0]
        slots = _with_rate(state[f"slots_{key}"], self._rate_index[key], rate)
        weights, slots = optimizer.stateless_apply(slots, grads, state[network_key])
        return {**state, network_key: weights, f"slots_{key}": slots}

    # The pure steps.

    def _warmup_fn(self, state: State, lr, hr, rate) -> tuple[State, Losses]:
        def loss_of(weights, fixed):
            sr, fixed = self.generator.stateless_call(weights, fixed, lr, training=True)
            loss = mse_loss(hr, sr)
            return loss, (fixed, loss)

        (fixed, loss), grads = self._gradients(state, self._warmup_key, loss_of, state["g"], state["gf"])
        state = self._apply({**state, "gf": fixed}, self._warmup_key, "g", grads, rate)
        return state, self._traced({"content": loss})

    def _critic_fn(self, state: State, lr, hr, epsilon, rate) -> tuple[State, Losses]:
        # As TensorFlow's step: the generator runs in training mode, its BatchNorm
        # statistics move.
        sr, g_fixed = self.generator.stateless_call(state["g"], state["gf"], lr, training=True)
        (fixed, terms), grads = self._gradients(state, "critic", self._critic_loss,
                                                state["c"], state["cf"], hr, sr, epsilon)
        state = self._apply({**state, "gf": g_fixed, "cf": fixed}, "critic", "c", grads, rate)
        return state, terms

    def _critic_loss(self, weights, fixed, hr, sr, epsilon):
        def score(images):
            return self._score(weights, fixed, images)[0]
        # One critic call on the joined batch, as TensorFlow's step: no BatchNorm.
        real, fake = jnp.split(score(jnp.concatenate([hr, sr], 0)), 2)
        penalty = gradient_penalty(score, hr, sr, epsilon)
        loss, wasserstein = critic_loss(real, fake, penalty)
        return loss, (fixed, self._traced({"wasserstein": wasserstein, "gp": penalty, "critic": loss}))

    def _generator_fn(self, state: State, lr, hr, use_mse: bool, rate) -> tuple[State, Losses]:
        def loss_of(weights, fixed, critic_fixed):
            sr, fixed = self.generator.stateless_call(weights, fixed, lr, training=True)
            scores, critic_fixed = self._score(state["c"], critic_fixed, sr)
            loss, terms = self._generator_loss(hr, sr, scores, use_mse)
            return loss, (fixed, critic_fixed, terms)

        (fixed, critic_fixed, terms), grads = self._gradients(state, "generator", loss_of,
                                                              state["g"], state["gf"], state["cf"])
        state = self._apply({**state, "gf": fixed, "cf": critic_fixed}, "generator", "g", grads, rate)
        return state, terms

    def _generator_loss(self, hr, sr, scores, use_mse: bool) -> tuple[Any, Losses]:
        content = mse_loss(hr, sr) if use_mse else self.content(hr, sr)
        vgg = perceptual_loss(self.vgg, hr, sr) if self.vgg is not None else jnp.float32(0.0)
        adversarial = generator_adversarial_loss(scores)
        loss = content + vgg + adversarial
        return loss, self._traced({"content": content, "vgg": vgg, "adversarial": adversarial,
                                   "generator": loss})


class JaxWSRGANSteps(JaxSteps):
    """W-SRGAN: the seed's critic step; the generator on its content term (VGG54, or MSE
    without VGG) + -1e-3 mean(D(SR)); `use_mse` is ignored, as in TensorFlow's."""

    def _generator_loss(self, hr, sr, scores, use_mse: bool) -> tuple[Any, Losses]:
        content = self.content(hr, sr)
        adversarial = self._adversarial(scores)
        loss = content + adversarial
        return loss, self._traced({"content": content, "adversarial": adversarial, "generator": loss})

    def _adversarial(self, scores):
        return generator_adversarial_loss(scores)


class JaxSRGANSteps(JaxWSRGANSteps):
    """SRGAN: the discriminator on binary cross-entropy from its logits; the generator's
    adversarial term 1e-3 BCE."""

    def _scorer(self) -> keras.Model:
        return discriminator_logits(self.critic)

    def _critic_loss(self, weights, fixed, hr, sr, epsilon):
        # Two calls, not one on the joined batch: BatchNorm would otherwise mix the
        # statistics of real and generated images. No gradient penalty.
        real, fixed = self._score(weights, fixed, hr)
        fake, fixed = self._score(weights, fixed, sr)
        loss = discriminator_bce_loss(real, fake)
        return loss, (fixed, self._traced({"discriminator": loss,
                                           "d_real": jnp.mean(jax.nn.sigmoid(real)),
                                           "d_fake": jnp.mean(jax.nn.sigmoid(fake))}))

    def _adversarial(self, logits):
        return generator_bce_loss(logits)


def _rate_index(optimizer: keras.optimizers.Optimizer) -> int:
    """Where the learning rate that moves the weights sits among the optimizer's variables
    (a LossScaleOptimizer's inner optimizer's)."""
    rate = getattr(optimizer, "inner_optimizer", optimizer)._learning_rate
    return next(i for i, v in enumerate(optimizer.variables) if v is rate)


def _scale_index(optimizer: keras.optimizers.Optimizer) -> int | None:
    """Where a LossScaleOptimizer's dynamic loss scale sits among its variables; None for
    an optimizer without one."""
    scale = getattr(optimizer, "dynamic_scale", None)
    if scale is None:
        return None
    return next(i for i, v in enumerate(optimizer.variables) if v is scale)


def _with_rate(slots: list, index: int, rate) -> list:
    return [jnp.asarray(rate, v.dtype) if i == index else v for i, v in enumerate(slots)]

