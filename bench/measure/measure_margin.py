"""Measures the effective tile margin of a trained generator: the smallest context (LR px
around each tile) from which on a tiled upscale differs from the whole-photo upscale by
at most 1 level, on real photos.

    python bench/measure/measure_margin.py [--checkpoint pretrained] [--tile 32]

Small tiles make the most seams, so the margin found holds for larger ones. The photos
are scikit-image's (astronaut, chelsea, coffee, rocket), downsized x4 as testing does.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from srgan.runtime.startup import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

import numpy as np  # noqa: E402
import skimage.data  # noqa: E402

from srgan.data.degrade import downsample  # noqa: E402
from srgan.inference.restore import load_generator  # noqa: E402
from srgan.inference.upscale import context_margin, make_predictor, upscale_array  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="pretrained")
    parser.add_argument("--tile", type=int, default=32)
    parser.add_argument("--precision", default="float32")
    args = parser.parse_args()
    generator, config, path = load_generator(Path("checkpoint"), Path(args.checkpoint), args.precision)
    predict = make_predictor(generator)
    full = context_margin(config.model, config.blocks)
    print(f"{path}: receptive-field radius {full} LR px; tiles of {args.tile} LR px; {args.precision}")
    lrs = []
    for name in PHOTOS:
        hr = getattr(skimage.data, name)()[:, :, :3]
        hr = hr[:hr.shape[0] // 4 * 4, :hr.shape[1] // 4 * 4]
        lrs.append(downsample(hr).numpy().astype(np.uint8))
    wholes = [predict(lr) for lr in lrs]
    for margin in (0, 2, 4, 6, 8, 10, 12, 16, 20, 24, 32, full):
        worst = max(int(np.abs(upscale_array(predict, lr, args.tile, margin).astype(int)
                               - whole.astype(int)).max()) for lr, whole in zip(lrs, wholes))
        share = np.mean([np.mean(upscale_array(predict, lr, args.tile, margin) != whole)
                         for lr, whole in zip(lrs, wholes)])
        print(f"margin {margin:3d}: largest difference {worst:3d} levels, {100 * share:.3f}% of values differ",
              flush=True)


if __name__ == "__main__":
    main()
