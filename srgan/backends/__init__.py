"""What each Keras backend does its own way, in one small module per backend: so far,
taking a gradient with respect to a network's input (the WGAN-GP penalty's). Everything
else the losses compute is keras.ops, the same under every backend; the compiled steps
are srgan/steps.py (TensorFlow) and srgan/jax_steps.py (JAX)."""

from collections.abc import Callable
from typing import Any

import keras


def input_gradient(function: Callable[[Any], Any], x: Any) -> Any:
    """The gradient of sum(function(x)) with respect to x, itself differentiable (the
    penalty built on it is minimised through the critic's weights). For a function that
    treats its samples independently, row i is the gradient of its i-th output."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from srgan.backends import tf_backend as module
    elif backend == "jax":
        from srgan.backends import jax_backend as module
    else:
        raise ValueError(f"no input gradient for the {backend} backend; this project runs on "
                         "tensorflow and jax")
    return module.input_gradient(function, x)
