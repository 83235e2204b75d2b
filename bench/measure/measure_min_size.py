"""Measures the smallest photo a generator enlarges faithfully: below some size its
output is mostly border, where the network sees its own zero padding, and its error
there grows past what bicubic makes of the same photo.

    python bench/measure/measure_min_size.py [--checkpoint pretrained]

For each LR side S it cuts square crops of 4S px from scikit-image's photos (astronaut,
chelsea, coffee, rocket; several places each), downsizes them x4 as testing does, enlarges
them whole with the generator and with bicubic, and prints the RMS error against the HR
crop in the border (the outer 4 HR px, one LR px: the whole output at S <= 2), and in
the interior where there is one, for both, and the ratio of the two border errors.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from srgan.runtime.startup import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

import numpy as np  # noqa: E402
import skimage.data  # noqa: E402

from srgan.data.degrade import SCALE, downsample  # noqa: E402
from srgan.data.images import resize_bicubic  # noqa: E402
from srgan.inference.restore import load_generator  # noqa: E402
from srgan.inference.upscale import make_predictor  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")
SIDES = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 32, 48)
BORDER = SCALE  # HR px: one LR px of the input


def crops(side: int, per_photo: int) -> list[np.ndarray]:
    """HR crops of 4 x `side` px, `per_photo` of each photo on an even grid."""
    found = []
    for name in PHOTOS:
        photo = getattr(skimage.data, name)()[:, :, :3]
        hr = SCALE * side
        grid = int(np.ceil(np.sqrt(per_photo)))
        tops = np.linspace(0, photo.shape[0] - hr, grid).astype(int)
        lefts = np.linspace(0, photo.shape[1] - hr, grid).astype(int)
        found += [photo[top:top + hr, left:left + hr] for top in tops for left in lefts][:per_photo]
    return found


def rms(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    difference = a.astype(np.float64) - b.astype(np.float64)
    return float(np.sqrt(np.mean(difference[mask] ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="pretrained")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--per_photo", type=int, default=16)
    args = parser.parse_args()
    generator, _, path = load_generator(Path("checkpoint"), Path(args.checkpoint), args.precision)
    predict = make_predictor(generator)
    print(f"{path}, {args.precision}; RMS error in levels against the HR crop, "
          f"{args.per_photo} crops of each of {', '.join(PHOTOS)}")
    print("| LR side | border: generator | border: bicubic | ratio | interior: generator | "
          "interior: bicubic |")
    print("|---|---|---|---|---|---|")
    for side in SIDES:
        hr_side = SCALE * side
        border = np.ones((hr_side, hr_side, 3), bool)
        border[BORDER:hr_side - BORDER, BORDER:hr_side - BORDER] = False
        rows = {"model": ([], []), "bicubic": ([], [])}
        for hr in crops(side, args.per_photo):
            lr = downsample(hr, SCALE).numpy().astype(np.uint8)
            outputs = {"model": predict(lr), "bicubic": resize_bicubic(lr, hr_side, hr_side)}
            for method, sr in outputs.items():
                rows[method][0].append(rms(sr, hr, border))
                if not border.all():
                    rows[method][1].append(rms(sr, hr, ~border))
        model, bicubic = (np.mean(rows[m][0]) for m in ("model", "bicubic"))
        inner = (" | ".join(f"{np.mean(rows[m][1]):.2f}" for m in ("model", "bicubic"))
                 if rows["model"][1] else "- | -")
        print(f"| {side} | {model:.2f} | {bicubic:.2f} | {model / bicubic:.2f} | {inner} |",
              flush=True)


if __name__ == "__main__":
    main()
