"""What each Keras backend does its own way, in one small module per backend: taking a
gradient with respect to a network's input (the WGAN-GP penalty's) and compiling a
function of arrays. Everything else the losses and the input compute is keras.ops, the
same under every backend; the compiled steps are srgan/training/tf_steps.py (TensorFlow) and
srgan/training/jax_steps.py (JAX)."""

import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

import keras


def _module() -> ModuleType:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        from srgan.runtime import tf_backend as module
    elif backend == "jax":
        from srgan.runtime import jax_backend as module
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


def device_name() -> str:
    """The device the generator runs on, named as a results table should name it."""
    found = gpu()
    if found is not None:
        return f"GPU {found[0]}"
    model = "unknown model"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo
                          if line.startswith("model name")), model)
    except OSError:
        pass
    return f"CPU {model} ({len(os.sched_getaffinity(0))} cores usable)"
