"""Times the training steps in each precision, with and without XLA.

    python bench/speed/bench_train.py [--batch_size 16] [--steps 3] [--no_jit]

Faithful defaults (64 features, 16 blocks, 12 -> 48, VGG19 perceptual term with
random weights, which cost the same as ImageNet's). For float32 and mixed_bfloat16,
each without and with XLA (jit_compile=True), prints images/s, FLOPs per image (those
of the ops a step runs, convolution gradients included; and, for reference,
TensorFlow's profiler count of the whole traced graph), achieved GFLOP/s, and the
ratio to the 3x3 conv yardstick of the same type timed in the same run; then the
full step fed by the real tf.data pipeline against constant tensors.
"""

import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import PRECISIONS, build_train_steps, step_flops, step_parser, timed, yardsticks  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from srgan.data.demo import build_demo_set  # noqa: E402
from srgan.data.pipeline import load_photo_set, training_dataset  # noqa: E402
from srgan.runtime.backends import device_name  # noqa: E402
from srgan.training.draws import penalty_draws  # noqa: E402


def step_calls(steps, lr, hr) -> dict:
    use_mse = tf.constant(False)
    full = lambda: (steps.critic_step(lr, hr, penalty_draws(0, 0, steps.global_batch(hr))), steps.generator_step(lr, hr, use_mse))  # noqa: E731
    return {"full GAN step (critic + generator)": (full, ("critic", "generator")),
            "critic update alone": (lambda: steps.critic_step(lr, hr, penalty_draws(0, 0, steps.global_batch(hr))), ("critic",)),
            "generator update alone": (lambda: steps.generator_step(lr, hr, use_mse), ("generator",)),
            "generator-only MSE step (warm-up)": (lambda: steps.warmup_step(lr, hr), ("warmup",))}


def main() -> None:
    parser = step_parser(__doc__)
    parser.add_argument("--data_dir", default="/tmp/srgan-bench-data",
                        help="demo photos are written here for the pipeline comparison")
    parser.add_argument("--no_jit", action="store_true", help="skip the XLA rows")
    args = parser.parse_args()
    batch = args.batch_size

    print(f"device: {device_name()}; TensorFlow {tf.__version__}; batch {batch}, 12 -> 48, "
          f"generator {args.features} features x {args.blocks} blocks")
    yard = yardsticks()
    # The same ops run in every precision: count them once, on the float32 graph.
    flops = step_flops(build_train_steps("seed", args.features, args.blocks), batch)
    lr = tf.random.uniform([batch, 12, 12, 3], -1, 1)
    hr = tf.random.uniform([batch, 48, 48, 3], -1, 1)
    print(f"\n{'precision':15} {'XLA':3} {'step':36} {'img/s':>8} {'GFLOP/img':>9} {'(profiler)':>10} "
          f"{'GFLOP/s':>8} {'x conv':>7}")
    speeds = {}
    for policy in PRECISIONS:
        for jit in (False,) if args.no_jit else (False, True):
            steps = build_train_steps("seed", args.features, args.blocks, policy, jit)
            for name, (call, parts) in step_calls(steps, lr, hr).items():
                seconds = timed(call, args.steps)
                total = sum(flops[p][0] for p in parts) / batch
                counted = sum(flops[p][1] for p in parts) / batch
                rate = total * batch / seconds / 1e9
                speeds[policy, jit, name] = batch / seconds
                print(f"{policy:15} {'on' if jit else 'off':3} {name:36} {batch / seconds:8.2f} "
                      f"{total / 1e9:9.2f} {counted / 1e9:10.2f} {rate:8.1f} "
                      f"{rate / yard[f'conv {policy}']:7.2f}", flush=True)
    for name in step_calls(None, lr, hr):
        print(f"mixed_bfloat16 / float32, {name}: "
              f"{speeds['mixed_bfloat16', False, name] / speeds['float32', False, name]:.2f}x")

    data_dir = Path(args.data_dir)
    if not any((data_dir / "train").glob("*.png")):
        build_demo_set(data_dir)
    photos, _ = load_photo_set(data_dir / "train")
    steps = build_train_steps("seed", args.features, args.blocks, "mixed_bfloat16")
    use_mse = tf.constant(False)

    def full(lr: tf.Tensor, hr: tf.Tensor):
        return steps.critic_step(lr, hr, penalty_draws(0, 0, steps.global_batch(hr))), steps.generator_step(lr, hr, use_mse)

    # Full batches only: the partial last batch of an epoch would flatter the pipeline.
    batches = (pair for _ in itertools.count()
               for pair in training_dataset(photos, batch, epoch=0, seed=0) if pair[1].shape[0] == batch)
    full(*next(batches))
    # Interleaved, so that load from other processes hits both alike.
    constant, real = [], []
    for _ in range(args.steps):
        constant.append(timed(lambda: full(lr, hr), 1, warmup=0))
        real.append(timed(lambda: full(*next(batches)), 1, warmup=0))
    constant, real = float(np.median(constant)), float(np.median(real))
    print(f"\nmixed_bfloat16 full step fed by tf.data (demo photos): {batch / real:.2f} img/s, "
          f"constant tensors: {batch / constant:.2f} img/s, ratio {constant / real:.3f}")


if __name__ == "__main__":
    main()
