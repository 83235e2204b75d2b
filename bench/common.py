"""Shared benchmark helpers: a same-run matmul yardstick, FLOP counting, timing.

Speeds are quoted as ratios to a float32 2048x2048 matmul timed in the same run,
because bare seconds on a shared machine say little.
"""

import os
import platform
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.profiler import model_analyzer, option_builder  # noqa: E402


def device_name() -> str:
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    model = platform.processor() or "CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores"


def timed(call: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median seconds per call; `call` must return something whose numpy() syncs."""
    for _ in range(warmup):
        _sync(call())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _sync(call())
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _sync(result) -> None:
    for value in tf.nest.flatten(result):
        if hasattr(value, "numpy"):
            value.numpy()


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    a = tf.random.uniform([size, size])
    b = tf.random.uniform([size, size])
    matmul = tf.function(lambda: tf.matmul(a, b))
    return 2 * size**3 / timed(matmul, repeats) / 1e9


def profiled_flops(concrete: tf.types.experimental.ConcreteFunction) -> int:
    """FLOPs of one call as TensorFlow's profiler counts them on the traced graph.

    The profiler counts only ops with registered statistics; for convolutions that is
    the forward Conv2D alone, so backward passes are added by `conv_gradient_flops`.
    """
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(model_analyzer.profile(concrete.graph, options=options).total_float_ops)


def conv_gradient_flops(concrete: tf.types.experimental.ConcreteFunction) -> int:
    """FLOPs of the convolution gradients in the graph, which the profiler skips:
    each costs 2 * (forward output elements) * kh * kw * c_in, as the forward conv."""
    total = 0
    for op in concrete.graph.get_operations():
        if op.type == "Conv2DBackpropInput":
            grad_out, kernel = op.inputs[2], op.inputs[1]
        elif op.type == "Conv2DBackpropFilter":
            grad_out, kernel = op.inputs[2], None
        else:
            continue
        kernel_shape = (kernel.shape if kernel is not None
                        else tf.TensorShape(tf.get_static_value(op.inputs[1])))
        out = grad_out.shape
        if not (out.is_fully_defined() and kernel_shape.is_fully_defined()):
            continue
        total += 2 * out.num_elements() * kernel_shape[0] * kernel_shape[1] * kernel_shape[2]
    return total
