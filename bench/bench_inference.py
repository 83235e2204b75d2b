"""Times inference: 12 -> 48 batches and a 256x256 -> 1024x1024 photo.

    python bench/bench_inference.py [--repeats 5]

The faithful generator (64 features, 16 blocks) with random weights (speed does not
depend on the weights). Prints images/s, output megapixels/s, GFLOP per call (of the
ops a call runs; TensorFlow's profiler gives the same for a forward pass), achieved
GFLOP/s, and the ratio to a float32 2048x2048 matmul timed in the same run.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import live_flops, matmul_gflops, timed  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from srgan.data.degrade import from_model, to_model  # noqa: E402
from srgan.evaluation.testing import device_name  # noqa: E402
from srgan.inference.upscale import DEFAULT_TILE, context_margin, make_predictor, upscale_array  # noqa: E402
from srgan.models import build_generator  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=16)
    args = parser.parse_args()

    print(f"device: {device_name()}; TensorFlow {tf.__version__}; "
          f"generator {args.features} features x {args.blocks} blocks")
    matmul = matmul_gflops()
    print(f"float32 2048x2048 matmul: {matmul:.1f} GFLOP/s\n")
    generator = build_generator(args.features, args.blocks)

    @tf.function
    def forward(lr: tf.Tensor) -> tf.Tensor:
        return from_model(generator(to_model(lr), training=False))

    rng = np.random.default_rng(0)
    batch = tf.constant(rng.integers(0, 256, (16, 12, 12, 3), dtype=np.uint8))
    photo = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    flops_batch = live_flops(forward.get_concrete_function(tf.TensorSpec(batch.shape, tf.uint8)))
    flops_photo = live_flops(forward.get_concrete_function(tf.TensorSpec((1, *photo.shape), tf.uint8)))

    print(f"{'workload':44} {'rate':>16} {'GFLOP/call':>10} {'GFLOP/s':>8} {'x matmul':>8}")
    seconds = timed(lambda: forward(batch), args.repeats)
    rate = flops_batch / seconds / 1e9
    print(f"{'12->48, batches of 16':44} {16 / seconds:10.1f} img/s {flops_batch / 1e9:10.2f} "
          f"{rate:8.1f} {rate / matmul:8.2f}")

    predict = make_predictor(generator)
    margin = context_margin("seed", args.blocks)
    for name, tile in (("256->1024 photo, whole", 0), (f"256->1024 photo, tiles of {DEFAULT_TILE} (margin {margin})", DEFAULT_TILE)):
        seconds = timed(lambda: tf.constant(upscale_array(predict, photo, tile, margin)), max(1, args.repeats // 2))
        rate = flops_photo / seconds / 1e9  # useful work: the whole photo's FLOPs
        print(f"{name:44} {1024 * 1024 / seconds / 1e6:10.2f} MP/s {flops_photo / 1e9:10.2f} "
              f"{rate:8.1f} {rate / matmul:8.2f}")


if __name__ == "__main__":
    main()
