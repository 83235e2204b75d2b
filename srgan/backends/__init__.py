"""What each Keras backend does its own way, in one small module per backend: taking a
gradient with respect to a network's input (the WGAN-GP penalty's) and compiling a
function of arrays. Everything else the losses and the input compute is keras.ops, the
same under every backend; the compiled steps are srgan/steps.py (TensorFlow) and
srgan/jax_steps.py (JAX)."""

from collections.abc import Callable
from types import ModuleType
from typing import Any

import keras


def _module() -> ModuleType:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from srgan.backends import tf_backend as module
    elif backend == "jax":
        from srgan.backends import jax_backend as module
    else:
        raise ValueError(f"no support for the {backend} backend; this project runs on "
                         "tensorflow and jax")
    return module


def input_gradient(function: Callable[[Any], Any], x: Any) -> Any:
    """The gradient of sum(function(x)) with respect to x, itself differentiable (the
    penalty built on it is minimised through the critic's weights). For a function that
    treats its samples independently, row i is the gradient of its i-th output."""
    return _module().input_gradient(function, x)


def compiled(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function` of arrays (NumPy's or the backend's) compiled once per input shape, its
    results the backend's tensors."""
    return _module().compiled(function)


def compiled_for_images(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`function` of a uint8 NHWC batch, compiled for any height and width where the
    backend can (one TensorFlow graph), else once per shape."""
    return _module().compiled_for_images(function)


def gpu() -> tuple[str, tuple[int, int]] | None:
    """(the first GPU's name, its CUDA compute capability) where the backend sees one."""
    return _module().gpu()
