"""Times the training steps: the full GAN step and the generator-only MSE step.

    python bench/bench_train.py [--batch_size 16] [--steps 3]

Faithful defaults (64 features, 16 blocks, 12 -> 48, VGG19 perceptual term with
random weights, which cost the same as ImageNet's). Prints images/s, FLOPs per
image (those of the ops a step runs, convolution gradients included; and, for
reference, TensorFlow's profiler count of the whole traced graph), achieved GFLOP/s
from the first, and the ratio to a float32 2048x2048 matmul timed in the same run;
and the full step fed by the real tf.data pipeline against constant tensors.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import build_train_steps, matmul_gflops, step_flops, step_parser, timed  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from srgan.data.demo import build_demo_set  # noqa: E402
from srgan.data.pipeline import load_photo_set, training_dataset  # noqa: E402
from srgan.evaluation.testing import device_name  # noqa: E402


def main() -> None:
    parser = step_parser(__doc__)
    parser.add_argument("--data_dir", default="/tmp/srgan-bench-data",
                        help="demo photos are written here for the pipeline comparison")
    args = parser.parse_args()
    batch = args.batch_size

    print(f"device: {device_name()}; TensorFlow {tf.__version__}; batch {batch}, 12 -> 48, "
          f"generator {args.features} features x {args.blocks} blocks")
    matmul = matmul_gflops()
    print(f"float32 2048x2048 matmul: {matmul:.1f} GFLOP/s")

    steps = build_train_steps("seed", args.features, args.blocks)
    flops = step_flops(steps, batch)
    lr = tf.random.uniform([batch, 12, 12, 3], -1, 1)
    hr = tf.random.uniform([batch, 48, 48, 3], -1, 1)
    use_mse = tf.constant(False)
    full = lambda lr, hr: (steps.critic_step(lr, hr), steps.generator_step(lr, hr, use_mse))  # noqa: E731
    runs = {"full GAN step (critic + generator)": (lambda: full(lr, hr), ("critic", "generator")),
            "critic update alone": (lambda: steps.critic_step(lr, hr), ("critic",)),
            "generator update alone": (lambda: steps.generator_step(lr, hr, use_mse), ("generator",)),
            "generator-only MSE step (warm-up)": (lambda: steps.warmup_step(lr, hr), ("warmup",))}
    print(f"\n{'step':38} {'img/s':>8} {'GFLOP/img':>10} {'(profiler)':>10} {'GFLOP/s':>8} {'x matmul':>8}")
    for name, (call, parts) in runs.items():
        seconds = timed(call, args.steps)
        total = sum(flops[p][0] for p in parts) / batch
        counted = sum(flops[p][1] for p in parts) / batch
        rate = total * batch / seconds / 1e9
        print(f"{name:38} {batch / seconds:8.2f} {total / 1e9:10.2f} {counted / 1e9:10.2f} "
              f"{rate:8.1f} {rate / matmul:8.2f}")

    data_dir = Path(args.data_dir)
    if not any((data_dir / "train").glob("*.png")):
        build_demo_set(data_dir)
    photos, _ = load_photo_set(data_dir / "train")
    # Full batches only: the partial last batch of an epoch would flatter the pipeline.
    batches = iter(training_dataset(photos, batch, epoch=0, seed=0)
                   .filter(lambda lr, hr: tf.shape(hr)[0] == batch).repeat())
    full(*next(batches))
    # Interleaved, so that load from other processes hits both alike.
    constant, real = [], []
    for _ in range(args.steps):
        constant.append(timed(lambda: full(lr, hr), 1, warmup=0))
        real.append(timed(lambda: full(*next(batches)), 1, warmup=0))
    constant, real = float(np.median(constant)), float(np.median(real))
    print(f"\nfull step fed by tf.data (demo photos): {batch / real:.2f} img/s, "
          f"constant tensors: {batch / constant:.2f} img/s, ratio {constant / real:.3f}")


if __name__ == "__main__":
    main()
