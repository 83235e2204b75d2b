"""Colour and range of a generator on held-out photos: is its PSNR-Y gap detail or colour?

    python bench/measure/colour_bias.py --data_dir data_wallpapers [--checkpoint_dir DIR] [--checkpoint CKPT]

On every photo of DATA_DIR/test (the 4 px border cropped, as the metrics do) it prints,
for bicubic and the generator: the mean signed error of R, G and B in levels (SR - HR),
the range of the output against the photos', PSNR-Y as --mode=testing scores it, and
PSNR-Y after one gain and offset per channel, fitted by least squares over all the
tiles at once (what a perfect global colour correction would gain; a gain of more than
0.2 dB, or a channel off by more than 1 level, is a colour error, not missing detail).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from srgan.runtime.startup import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

import numpy as np  # noqa: E402

from srgan.evaluation.testing import BORDER, bicubic, hr_and_lr, test_pairs  # noqa: E402
from srgan.inference.restore import load_generator  # noqa: E402
from srgan.inference.upscale import make_predictor, tile_margin, upscale_array  # noqa: E402
from srgan.metrics import crop_border, psnr  # noqa: E402
from srgan.metrics.color import channel_bias  # noqa: E402


def report(name: str, photos: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """photos: (hr, sr) uint8 pairs."""
    hr = np.concatenate([crop_border(h, BORDER).reshape(-1, 3) for h, _ in photos]).astype(np.float64)
    sr = np.concatenate([crop_border(s, BORDER).reshape(-1, 3) for _, s in photos]).astype(np.float64)
    bias = channel_bias(hr, sr)
    score = np.mean([psnr(h, s, BORDER) for h, s in photos])
    fits = [np.polyfit(sr[:, c], hr[:, c], 1) for c in range(3)]
    corrected = [(h, np.clip(np.rint(s * [f[0] for f in fits] + [f[1] for f in fits]), 0, 255)
                  .astype(np.uint8)) for h, s in photos]
    fitted = np.mean([psnr(h, s, BORDER) for h, s in corrected])
    print(f"{name:10} bias R {bias[0]:+.2f} G {bias[1]:+.2f} B {bias[2]:+.2f} levels; range "
          f"{int(sr.min())}..{int(sr.max())} (photos {int(hr.min())}..{int(hr.max())}); PSNR-Y "
          f"{score:.3f} dB, {fitted:.3f} after a fitted gain and offset per channel "
          f"({fitted - score:+.3f}); gains " + " ".join(f"{f[0]:.3f}" for f in fits)
          + "; offsets " + " ".join(f"{f[1]:+.1f}" for f in fits), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--checkpoint_dir", default="checkpoint")
    parser.add_argument("--checkpoint", default="pretrained")
    args = parser.parse_args()
    generator, config, prefix = load_generator(Path(args.checkpoint_dir), Path(args.checkpoint))
    predict = make_predictor(generator)
    margin = tile_margin(config.model, config.blocks)
    pairs = [hr_and_lr(*pair)[:2] for pair in test_pairs(Path(args.data_dir))]
    print(f"{prefix} on {len(pairs)} photos of {args.data_dir}/test")
    report("bicubic", [(hr, bicubic(lr)) for hr, lr in pairs])
    report("generator", [(hr, upscale_array(predict, lr, 128, margin)) for hr, lr in pairs])


if __name__ == "__main__":
    main()
