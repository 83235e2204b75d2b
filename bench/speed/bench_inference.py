"""Times inference in each precision: 12 -> 48 batches, a 256x256 -> 1024x1024 photo,
and (with --big) the whole `--mode=upscale` of a 1024x1024 photo, with its peak memory.

    python bench/speed/bench_inference.py [--repeats 5] [--big]

The faithful generator (64 features, 16 blocks) with random weights (speed does not
depend on the weights). Prints images/s or output megapixels/s, GFLOP per call (of
the ops a call runs), achieved GFLOP/s, and the ratio to the 3x3 conv yardstick of the
same type timed in the same run. Tiled rows use the default tile (128 LR px) with the
measured effective margin and with the full receptive field (70 LR px, the old default).
--big runs main.py --mode=upscale in a child process (float32 with the old margin, then
the defaults) and reports its wall time and peak resident memory.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import PRECISIONS, live_flops, timed, yardsticks  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402

from srgan.data.degrade import from_model, to_model  # noqa: E402
from srgan.runtime.backends import device_name  # noqa: E402
from srgan.inference.upscale import DEFAULT_TILE, context_margin, make_predictor, tile_margin, upscale_array  # noqa: E402
from srgan.models.generator import build_generator  # noqa: E402
from srgan.runtime.precision import policy as dtype_policy  # noqa: E402


# RUSAGE_CHILDREN's peak is the largest of all children so far, so each upscale runs
# under a wrapper process of its own that reports its one child's peak.
_WRAPPER = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
            "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def run_upscale(photo: Path, output: Path, *flags: str) -> tuple[float, float]:
    """(seconds, peak resident MiB) of one main.py --mode=upscale process."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _WRAPPER, sys.executable, str(ROOT / "main.py"),
                             "--mode=upscale", f"--input={photo}", f"--output={output}", *flags],
                            check=True, capture_output=True, text=True)
    return time.perf_counter() - start, int(result.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=16)
    parser.add_argument("--big", action="store_true", help="also time a 1024x1024 -> 4096x4096 upscale")
    args = parser.parse_args()

    print(f"device: {device_name()}; TensorFlow {tf.__version__}; "
          f"generator {args.features} features x {args.blocks} blocks")
    yard = yardsticks()
    rng = np.random.default_rng(0)
    batch = tf.constant(rng.integers(0, 256, (16, 12, 12, 3), dtype=np.uint8))
    photo = rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)
    margins = {"effective": tile_margin("seed", args.blocks), "full": context_margin("seed", args.blocks)}
    print(f"\n{'precision':15} {'workload':46} {'rate':>16} {'GFLOP/call':>10} {'GFLOP/s':>8} {'x conv':>7}")
    for policy in PRECISIONS:
        with dtype_policy(policy):
            generator = build_generator(args.features, args.blocks)

        @tf.function
        def forward(lr: tf.Tensor) -> tf.Tensor:
            return from_model(generator(to_model(lr), training=False))

        flops_batch = live_flops(forward.get_concrete_function(tf.TensorSpec(batch.shape, tf.uint8)))
        flops_photo = live_flops(forward.get_concrete_function(tf.TensorSpec((1, *photo.shape), tf.uint8)))
        conv = yard[f"conv {policy}"]
        seconds = timed(lambda: forward(batch), args.repeats)
        rate = flops_batch / seconds / 1e9
        print(f"{policy:15} {'12->48, batches of 16':46} {16 / seconds:10.1f} img/s "
              f"{flops_batch / 1e9:10.2f} {rate:8.1f} {rate / conv:7.2f}", flush=True)
        predict = make_predictor(generator)
        rows = [("256->1024 photo, whole", 0, 0)]
        rows += [(f"256->1024, tiles of {DEFAULT_TILE}, margin {margin} ({kind})", DEFAULT_TILE, margin)
                 for kind, margin in margins.items()]
        for name, tile, margin in rows:
            seconds = timed(lambda: tf.constant(upscale_array(predict, photo, tile, margin)),
                            max(1, args.repeats // 2))
            rate = flops_photo / seconds / 1e9  # useful work: the whole photo's FLOPs
            print(f"{policy:15} {name:46} {1024 * 1024 / seconds / 1e6:10.2f} MP/s "
                  f"{flops_photo / 1e9:10.2f} {rate:8.1f} {rate / conv:7.2f}", flush=True)

    if args.big:
        with tempfile.TemporaryDirectory() as folder:
            big = Path(folder) / "big.png"
            # A real photo's content, not noise: scikit-image's astronaut at 1024 px.
            import skimage.data
            Image.fromarray(skimage.data.astronaut()).resize((1024, 1024), Image.BICUBIC).save(big)
            old = run_upscale(big, Path(folder) / "old", "--precision=float32",
                              f"--margin={margins['full']}")
            new = run_upscale(big, Path(folder) / "new")
        print(f"\n1024x1024 -> 4096x4096 with main.py --mode=upscale (shipped generator):\n"
              f"  float32, margin {margins['full']} (the old default): {old[0]:.1f} s, peak {old[1]:.0f} MiB\n"
              f"  the defaults (precision auto, margin {margins['effective']}): {new[0]:.1f} s, "
              f"peak {new[1]:.0f} MiB; {old[0] / new[0]:.2f}x faster")


if __name__ == "__main__":
    main()
