"""JAX's way: function transformations. An input gradient that a jitted step
differentiates again, and a jitted warm-up step over a Keras generator and optimizer held
as explicit state (the networks' and the optimizer's variables as arrays)."""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import keras

# (the generator's trainable values, its non-trainable ones, the optimizer's variables)
State = tuple[list[jax.Array], list[jax.Array], list[jax.Array]]


def input_gradient(function: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    return jax.grad(lambda v: jnp.sum(function(v).astype(jnp.float32)))(x)


def state_of(generator: keras.Model, optimizer: keras.optimizers.Optimizer) -> State:
    """The values a step carries, with the optimizer's slots built for the generator."""
    optimizer.build(generator.trainable_variables)
    return ([v.value for v in generator.trainable_variables],
            [v.value for v in generator.non_trainable_variables],
            [v.value for v in optimizer.variables])


def load_state(generator: keras.Model, optimizer: keras.optimizers.Optimizer, state: State) -> None:
    """Writes a step's state back into the Keras variables (to save or score them)."""
    variables = (generator.trainable_variables, generator.non_trainable_variables,
                 optimizer.variables)
    for group, values in zip(variables, state, strict=True):
        for variable, value in zip(group, values, strict=True):
            variable.assign(value)


def warmup_step(generator: keras.Model, optimizer: keras.optimizers.Optimizer,
                loss: Callable[[Any, Any], Any]
                ) -> Callable[[State, jax.Array, jax.Array, float], tuple[State, jax.Array]]:
    """The warm-up step on `loss` of (hr, sr) (the warm-up's is MSE), jitted: (state, lr,
    hr, learning rate) -> (state, loss), images in model values. The same update as
    TensorFlow's TrainSteps.warmup_step (tests/test_backends.py)."""
    rate_index = next(i for i, v in enumerate(optimizer.variables) if v is optimizer._learning_rate)

    def loss_of(trainable, non_trainable, lr, hr):
        sr, non_trainable = generator.stateless_call(trainable, non_trainable, lr, training=True)
        return loss(hr, sr), non_trainable

    @jax.jit
    def step(state: State, lr: jax.Array, hr: jax.Array, rate: float) -> tuple[State, jax.Array]:
        trainable, non_trainable, slots = state
        (value, non_trainable), grads = jax.value_and_grad(loss_of, has_aux=True)(
            trainable, non_trainable, lr, hr)
        slots = [jnp.asarray(rate, v.dtype) if i == rate_index else v for i, v in enumerate(slots)]
        trainable, slots = optimizer.stateless_apply(slots, grads, trainable)
        return (trainable, non_trainable, slots), value

    return step
