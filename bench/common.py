"""Shared benchmark helpers: same-run yardsticks, FLOP counting, timing.

Speeds are quoted as ratios to yardsticks timed in the same run, because bare seconds
on a shared machine say little: a 2048x2048 matmul and a 3x3 convolution (256 -> 512
channels on 16x48x48, the size of the critic's widest layer), each in float32 and in
bfloat16. A step in one precision is compared with the conv of the same type.
"""

import argparse
import time
from collections.abc import Callable

from srgan.runtime.startup import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework import ops  # noqa: E402
from tensorflow.python.profiler import model_analyzer, option_builder  # noqa: E402


def step_parser(description: str) -> argparse.ArgumentParser:
    """The flags the training-step benchmarks share: the faithful sizes by default."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3, help="timed calls per measurement")
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=16)
    return parser


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


PRECISIONS = ("float32", "mixed_bfloat16")


def matmul_gflops(size: int = 2048, repeats: int = 5, dtype: tf.DType = tf.float32) -> float:
    a = tf.cast(tf.random.uniform([size, size]), dtype)
    b = tf.cast(tf.random.uniform([size, size]), dtype)
    matmul = tf.function(lambda: tf.matmul(a, b))
    return 2 * size**3 / timed(matmul, repeats) / 1e9


def conv_gflops(repeats: int = 5, dtype: tf.DType = tf.float32) -> float:
    """3x3 convolution, 256 -> 512 channels, on 16x48x48: GFLOP/s."""
    images = tf.cast(tf.random.uniform([16, 48, 48, 256]), dtype)
    kernel = tf.cast(tf.random.uniform([3, 3, 256, 512]), dtype)
    conv = tf.function(lambda: tf.nn.conv2d(images, kernel, 1, "SAME"))
    return 2 * 16 * 48 * 48 * 9 * 256 * 512 / timed(conv, repeats) / 1e9


def yardsticks() -> dict[str, float]:
    """GFLOP/s of the matmul and the conv in each precision, printed as one line each.
    Keys: 'matmul float32', 'conv float32', 'matmul mixed_bfloat16', 'conv mixed_bfloat16'."""
    result = {}
    for policy, dtype in (("float32", tf.float32), ("mixed_bfloat16", tf.bfloat16)):
        result[f"matmul {policy}"] = matmul_gflops(dtype=dtype)
        result[f"conv {policy}"] = conv_gflops(dtype=dtype)
        print(f"yardsticks {dtype.name}: 2048x2048 matmul {result[f'matmul {policy}']:.1f} GFLOP/s, "
              f"3x3 conv 256->512 on 16x48x48 {result[f'conv {policy}']:.1f} GFLOP/s")
    return result


def profiled_flops(concrete: tf.types.experimental.ConcreteFunction) -> int:
    """FLOPs of one call as TensorFlow's profiler counts them on the traced graph.

    It counts every op of the graph with registered statistics, whether or not a call
    runs it, and no convolution gradient: see `live_flops` for what a call does.
    """
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(model_analyzer.profile(concrete.graph, options=options).total_float_ops)


def _conv_gradient_flops(op: tf.Operation) -> int:
    """2 * (forward output elements) * kh * kw * c_in, what the forward conv costs;
    TensorFlow registers FLOPs for Conv2D but not for its two gradients."""
    # The kernel: Conv2DBackpropInput's second input; Conv2DBackpropFilter's output.
    kernel = op.inputs[1].shape if op.type == "Conv2DBackpropInput" else op.outputs[0].shape
    out = op.inputs[2].shape
    if not (out.is_fully_defined() and kernel.is_fully_defined()):
        return 0
    return 2 * out.num_elements() * kernel[0] * kernel[1] * kernel[2]


def live_flops(concrete: tf.types.experimental.ConcreteFunction) -> int:
    """FLOPs of the ops a call actually runs: those the outputs and the variable
    updates depend on, convolution gradients included.

    The profiler counts every op in the traced graph, and a gradient graph holds
    many that run pruned: Conv2D's registered gradient builds the filter and the
    input gradient both, where the gradient penalty needs only the input's.
    """
    graph = concrete.graph
    live, stack = set(), [t.op for t in graph.outputs] + list(graph.control_outputs)
    while stack:
        op = stack.pop()
        if op not in live:
            live.add(op)
            stack.extend(t.op for t in op.inputs)
            stack.extend(op.control_inputs)
    total = 0
    for op in live:
        if op.type in ("Conv2DBackpropInput", "Conv2DBackpropFilter"):
            total += _conv_gradient_flops(op)
            continue
        try:
            total += ops.get_stats_for_node_def(graph, op.node_def, "flops").value or 0
        except ValueError:  # no statistics registered for this op type
            pass
    return total


def _random_vgg(weights: str, layer: str, size: int):
    """A VGG19 of random weights (`weights` is ignored): the cost of ImageNet's."""
    import keras
    vgg19 = keras.applications.VGG19(include_top=False, weights=None, input_shape=(size, size, 3))
    vgg = keras.Model(vgg19.input, vgg19.get_layer(layer).output)
    vgg.trainable = False
    return vgg


def build_train_steps(model: str, features: int, blocks: int, policy: str = "float32",
                      jit: bool = False, config=None):
    """`model`'s compiled training steps at 12 -> 48 in `policy`, built as training builds
    them from `config` (a TrainConfig; its optimizers, warm-up's included, and its content
    terms). By default the model's own content term on a VGG19 of random weights (the same
    cost as ImageNet's): block4_pool at 56 px for the seed's model, VGG54 at 48 px for the
    baselines."""
    import keras

    from srgan.config import TrainConfig
    from srgan.models import registry
    from srgan.runtime.precision import policy as dtype_policy
    from srgan.run.state import Networks
    from srgan.training.recipe import optimizers, recipe, step_class

    config = config or TrainConfig(model=model, vgg_weights="random")
    keras.utils.set_random_seed(0)
    with dtype_policy(policy):
        generator, critic = registry.build_networks(model, features, blocks, 48, config.weights_init)
        vgg, content = recipe(model).losses(config, _random_vgg)
    generator_optimizer, critic_optimizer, warmup_optimizer = optimizers(
        config, loss_scale=policy == "mixed_float16")
    generator_optimizer.build(generator.trainable_variables)
    critic_optimizer.build(critic.trainable_variables)
    return step_class(model)(Networks(generator, critic, generator_optimizer, critic_optimizer,
                                      warmup_optimizer), vgg, content, jit=jit)


def step_flops(steps, batch: int) -> dict[str, tuple[int, int]]:
    """(live FLOPs, profiler FLOPs) per batch of each compiled step, traced at a fixed
    batch so that every shape is known."""
    lr, hr = tf.TensorSpec([batch, 12, 12, 3]), tf.TensorSpec([batch, 48, 48, 3])
    epsilon = tf.TensorSpec([batch, 1, 1, 1])
    traced = {"critic": tf.function(steps._critic_step).get_concrete_function(lr, hr, epsilon),
              "generator": tf.function(steps._generator_step).get_concrete_function(
                  lr, hr, tf.TensorSpec([], tf.bool)),
              "warmup": tf.function(steps._warmup_step).get_concrete_function(lr, hr)}
    return {name: (live_flops(c), profiled_flops(c)) for name, c in traced.items()}
