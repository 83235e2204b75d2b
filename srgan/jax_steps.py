"""The compiled training steps under Keras' JAX backend: the warm-up, the seed's critic
step and its generator step, as srgan/steps.py's TrainSteps computes them under
TensorFlow (tests/test_backends.py holds their first steps equal).

JAX's steps are pure functions: the networks' and optimizers' variables travel as explicit
state (state_of), through Keras' stateless_call and stateless_apply, and go back into the
Keras variables (load_state) to be saved or scored. The training loop around them is still
TensorFlow's (srgan/training/loop.py).
"""

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import keras

from srgan.losses.adversarial import critic_loss, generator_adversarial_loss, gradient_penalty
from srgan.losses.content import mse_loss

# A network's trainable values, its non-trainable ones, its optimizer's variables.
State = tuple[list[jax.Array], list[jax.Array], list[jax.Array]]


def state_of(network: keras.Model, optimizer: keras.optimizers.Optimizer) -> State:
    """The values a step carries for `network`, its optimizer's slots built first."""
    optimizer.build(network.trainable_variables)
    return ([v.value for v in network.trainable_variables],
            [v.value for v in network.non_trainable_variables],
            [v.value for v in optimizer.variables])


def load_state(network: keras.Model, optimizer: keras.optimizers.Optimizer, state: State) -> None:
    """Writes a step's state back into the Keras variables (to save or score them)."""
    variables = (network.trainable_variables, network.non_trainable_variables,
                 optimizer.variables)
    for group, values in zip(variables, state, strict=True):
        for variable, value in zip(group, values, strict=True):
            variable.assign(value)


def warmup_step(generator: keras.Model, optimizer: keras.optimizers.Optimizer
                ) -> Callable[[State, jax.Array, jax.Array, float], tuple[State, jax.Array]]:
    """The MSE warm-up step, jitted: (state, lr, hr, learning rate) -> (state, loss),
    images in model values."""
    rate_index = _rate_index(optimizer)

    def loss_of(trainable, non_trainable, lr, hr):
        sr, non_trainable = generator.stateless_call(trainable, non_trainable, lr, training=True)
        return mse_loss(hr, sr), non_trainable

    @jax.jit
    def step(state: State, lr: jax.Array, hr: jax.Array, rate: float) -> tuple[State, jax.Array]:
        trainable, non_trainable, slots = state
        (value, non_trainable), grads = jax.value_and_grad(loss_of, has_aux=True)(
            trainable, non_trainable, lr, hr)
        trainable, slots = optimizer.stateless_apply(_with_rate(slots, rate_index, rate), grads,
                                                     trainable)
        return (trainable, non_trainable, slots), value

    return step


def gan_steps(generator: keras.Model, critic: keras.Model,
              generator_optimizer: keras.optimizers.Optimizer,
              critic_optimizer: keras.optimizers.Optimizer,
              content: Callable[[Any, Any], Any]) -> tuple[Callable, Callable]:
    """The seed's WGAN-GP critic step and generator step, jitted, over (generator state,
    critic state) as state_of gives them. As TensorFlow's TrainSteps: the critic step calls
    the generator in training mode too (its BatchNorm statistics move), and the generator
    step's content is MSE where `use_mse`, else `content`.

        critic_step(g_state, c_state, lr, hr, epsilon, rate) -> (g_state, c_state, terms)
        generator_step(g_state, c_state, lr, hr, use_mse, rate) -> (g_state, terms)
    """
    critic_rate = _rate_index(critic_optimizer)
    generator_rate = _rate_index(generator_optimizer)

    @jax.jit
    def critic_step(g_state, c_state, lr, hr, epsilon, rate):
        g_trainable, g_fixed, g_slots = g_state
        c_trainable, c_fixed, c_slots = c_state
        sr, g_fixed = generator.stateless_call(g_trainable, g_fixed, lr, training=True)

        def loss_of(weights):
            def score(images):
                return critic.stateless_call(weights, c_fixed, images, training=True)[0]
            real, fake = jnp.split(score(jnp.concatenate([hr, sr], 0)), 2)
            penalty = gradient_penalty(score, hr, sr, epsilon)
            loss, wasserstein = critic_loss(real, fake, penalty)
            return loss, (wasserstein, penalty)

        (loss, (wasserstein, penalty)), grads = jax.value_and_grad(loss_of, has_aux=True)(c_trainable)
        c_trainable, c_slots = critic_optimizer.stateless_apply(
            _with_rate(c_slots, critic_rate, rate), grads, c_trainable)
        terms = {"wasserstein": wasserstein, "gp": penalty, "critic": loss}
        return (g_trainable, g_fixed, g_slots), (c_trainable, c_fixed, c_slots), terms

    @functools.partial(jax.jit, static_argnums=4)
    def generator_step(g_state, c_state, lr, hr, use_mse, rate):
        g_trainable, g_fixed, g_slots = g_state
        c_trainable, c_fixed, _ = c_state

        def loss_of(weights, fixed):
            sr, fixed = generator.stateless_call(weights, fixed, lr, training=True)
            pixels = (mse_loss if use_mse else content)(hr, sr)
            scores = critic.stateless_call(c_trainable, c_fixed, sr, training=True)[0]
            adversarial = generator_adversarial_loss(scores)
            return pixels + adversarial, (fixed, pixels, adversarial)

        (loss, (g_fixed, pixels, adversarial)), grads = jax.value_and_grad(loss_of, has_aux=True)(
            g_trainable, g_fixed)
        g_trainable, g_slots = generator_optimizer.stateless_apply(
            _with_rate(g_slots, generator_rate, rate), grads, g_trainable)
        terms = {"content": pixels, "adversarial": adversarial, "generator": loss}
        return (g_trainable, g_fixed, g_slots), terms

    return critic_step, generator_step


def _rate_index(optimizer: keras.optimizers.Optimizer) -> int:
    """Where the learning rate sits among the optimizer's variables."""
    return next(i for i, v in enumerate(optimizer.variables) if v is optimizer._learning_rate)


def _with_rate(slots: list[jax.Array], index: int, rate: float) -> list[jax.Array]:
    return [jnp.asarray(rate, v.dtype) if i == index else v for i, v in enumerate(slots)]
