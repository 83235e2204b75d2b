"""Time to quality of the MSE warm-up: what a user with N minutes gets from each recipe.

    # Each variant trains the same number of wall-clock minutes, scored at fixed marks:
    python bench/measure/time_to_quality.py sweep --data_dir data_wallpapers --marks 1,2,3 \\
        --out docs/results/time_to_quality.csv
    python bench/measure/time_to_quality.py plot docs/results/time_to_quality.csv img/time_to_quality.png
    # A training run's own validation curve (minutes since its logs began):
    python bench/measure/time_to_quality.py curve CHECKPOINT_DIR [--minutes 30]

A variant is INIT/PRECISION/CROP/OPTIMIZER (reference/mixed_bfloat16/96/adam2e-4; the
optimizer is one of srgan/config.py's OPTIMIZERS, rmsprop being TF1's rule): the
seed's generator at its defaults, batch 16, a constant rate, crops of the 46 training
photos. The clock runs only while training steps run (input pipeline included, the first
step's tracing not); at each
mark it stops, the BatchNorm statistics are recomputed from 32 training batches as a
checkpoint does, and PSNR-Y / SSIM-Y are measured as --mode=testing does on the first
--val_images held-out tiles (spread over the folder). Every variant starts from the same
random seed. The CPU and the same-run float32 and bfloat16 yardsticks head the CSV, so
that runs on other machines can be compared by ratio. Run it on an otherwise idle machine.
"""

import argparse
import csv
import itertools
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from srgan.runtime.startup import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

DEFAULT_VARIANTS = [f"{init}/{precision}/{crop}/adam2e-4" for init, precision, crop in itertools.product(
    ("reference", "glorot"), ("float32", "mixed_bfloat16"), (48, 96))] + [
    "reference/float32/48/rmsprop8e-5"]  # the seed's own recipe
COLUMNS = ["variant", "minutes", "steps", "psnr_y", "ssim_y", "bicubic_psnr_y", "bicubic_ssim_y"]


def sweep(args: argparse.Namespace) -> None:
    import keras
    import tensorflow as tf

    from bench.common import yardsticks
    from srgan.config import TrainConfig
    from srgan.data.pipeline import load_photo_set, training_dataset
    from srgan.runtime.backends import device_name
    from srgan.evaluation.validation import Validator
    from srgan.losses.content import content_loss
    from srgan.runtime.precision import policy as dtype_policy
    from srgan.run.state import Networks
    from srgan.models.registry import build_networks
    from srgan.training.tf_steps import TrainSteps
    from srgan.training.batchnorm import recompute_batchnorm_statistics
    from srgan.training.recipe import optimizers

    data_dir = Path(args.data_dir)
    photos, _ = load_photo_set(data_dir / "train")
    marks = [float(m) for m in args.marks.split(",")]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sticks = yardsticks()
    with out.open("w", newline="") as handle:
        handle.write(f"# {device_name()}; TensorFlow {tf.__version__}; yardsticks (GFLOP/s): "
                     + ", ".join(f"{name} {value:.1f}" for name, value in sticks.items()) + "\n")
        handle.write(f"# python bench/measure/time_to_quality.py sweep --data_dir {args.data_dir} --marks "
                     f"{args.marks} --val_images {args.val_images} --variants {','.join(args.variants)}\n")
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for variant in args.variants:
            init, precision, crop, recipe = variant.split("/")
            name, rate = re.fullmatch(r"([a-z_]+?)([0-9.]+e-?[0-9]+)", recipe).groups()
            keras.utils.set_random_seed(args.seed)
            with dtype_policy(precision):
                generator, critic = build_networks("seed", 64, 16, 48, init)
            config = TrainConfig(warmup_optimizer=name, warmup_lr=float(rate))
            generator_optimizer, critic_optimizer, warmup_optimizer = optimizers(config)
            steps = TrainSteps(Networks(generator, critic, generator_optimizer, critic_optimizer,
                                        warmup_optimizer), None, content_loss("ssim"))
            validator = Validator(generator, data_dir, args.val_images, margin=12)
            batches = (batch for epoch in itertools.count()
                       for batch in training_dataset(photos, 16, epoch, args.seed, int(crop)))
            # The first step traces the graph (10-20 s here): run outside the clock, as the
            # cost a user pays once per process, not per minute of training.
            float(steps.warmup_step(*next(batches))["content"])
            clock, count = 0.0, 1
            for mark in marks:
                start = time.perf_counter()
                while clock + time.perf_counter() - start < mark * 60:
                    float(steps.warmup_step(*next(batches))["content"])
                    count += 1
                clock += time.perf_counter() - start
                recompute_batchnorm_statistics(generator, (lr for lr, _ in itertools.islice(training_dataset(
                    photos, 16, -1, args.seed, 48), 32)))
                scores = validator.score()
                row = [variant, f"{clock / 60:.2f}", count, f"{scores['psnr_y']:.3f}",
                       f"{scores['ssim_y']:.4f}", f"{validator.bicubic['psnr_y']:.3f}",
                       f"{validator.bicubic['ssim_y']:.4f}"]
                writer.writerow(row)
                handle.flush()
                print(" ".join(str(value) for value in row), flush=True)


def read_rows(path: Path) -> list[dict]:
    with path.open() as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


COLOURS = [(200, 30, 30), (30, 90, 200), (20, 150, 60), (230, 140, 0), (140, 60, 180),
           (0, 160, 170), (120, 120, 0), (220, 80, 160), (0, 0, 0)]


def plot(args: argparse.Namespace) -> None:
    """PSNR-Y against minutes, one line per variant, bicubic dashed; PIL alone."""
    from PIL import Image, ImageDraw

    rows = read_rows(Path(args.csv))
    variants = list(dict.fromkeys(row["variant"] for row in rows))
    width, height, pad, legend = 760, 420, 56, 250
    values = [float(row["psnr_y"]) for row in rows]
    bicubic = float(rows[0]["bicubic_psnr_y"])
    low, high = min(values + [bicubic]) - 0.3, max(values + [bicubic]) + 0.3
    last = max(float(row["minutes"]) for row in rows)
    right = width - legend

    def xy(minutes: float, value: float) -> tuple[float, float]:
        return (pad + (right - pad) * minutes / last,
                height - pad - (height - 2 * pad) * (value - low) / (high - low))

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([pad, pad, right, height - pad], outline="black")
    for value in range(int(low) + 1, int(high) + 1):
        y = xy(0, value)[1]
        draw.line([pad - 4, y, pad, y], fill="black")
        draw.text((8, y - 6), f"{value} dB", fill="black")
    for minute in sorted({float(row["minutes"]) for row in rows if row["variant"] == variants[0]}):
        x = xy(minute, low)[0]
        draw.line([x, height - pad, x, height - pad + 4], fill="black")
        draw.text((x - 4, height - pad + 8), f"{minute:.0f}", fill="black")
    draw.text(((pad + right) / 2 - 60, height - pad + 24), "minutes of training", fill="black")
    y = xy(0, bicubic)[1]
    for x in range(pad, right, 12):
        draw.line([x, y, min(x + 6, right), y], fill="gray", width=2)
    draw.text((right - 130, y + 6), f"bicubic {bicubic:.2f} dB", fill="gray")
    for i, variant in enumerate(variants):
        colour = COLOURS[i % len(COLOURS)]
        points = [xy(float(row["minutes"]), float(row["psnr_y"])) for row in rows
                  if row["variant"] == variant]
        dashed = variant.startswith("glorot")
        draw.line(points, fill=colour, width=1 if dashed else 2)
        for cx, cy in points:
            draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], outline=colour,
                         fill="white" if dashed else colour)
        draw.text((right + 12, pad + 18 * i), variant, fill=colour)
    draw.text((pad, 18), "held-out PSNR-Y after N minutes of MSE warm-up (hollow: --init glorot)",
              fill="black")
    Path(args.png).parent.mkdir(parents=True, exist_ok=True)
    image.save(args.png)
    print(f"wrote {args.png}: {len(variants)} variants")


def curve(args: argparse.Namespace) -> None:
    from srgan.evaluation.curve import read_validation_curve

    start, series = read_validation_curve(Path(args.run_dir))
    model, bicubic = series["psnr_y"], series["bicubic_psnr_y"]
    print(f"{'step':>6} {'minutes':>8} {'PSNR-Y':>7} {'bicubic':>8}")
    for (step, wall, value), (_, _, base) in zip(model, bicubic):
        print(f"{step:6d} {(wall - start) / 60:8.1f} {value:7.2f} {base:8.2f}")
    passed = [(step, wall) for (step, wall, value), (_, _, base) in zip(model, bicubic) if value > base]
    if passed:
        print(f"passed bicubic at step {passed[0][0]}, {(passed[0][1] - start) / 60:.1f} minutes")
    else:
        print(f"never passed bicubic in {len(model)} validations "
              f"(best {max(v for _, _, v in model):.2f} dB against {bicubic[-1][2]:.2f})")
    by_then = [value for _, wall, value in model if (wall - start) / 60 <= args.minutes]
    if by_then:
        print(f"PSNR-Y at {args.minutes:g} minutes: {by_then[-1]:.2f} dB (bicubic {bicubic[-1][2]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("sweep", help="train each variant for the same minutes")
    run.add_argument("--data_dir", required=True)
    run.add_argument("--marks", default="1,2,3", help="minutes at which to score, comma-separated")
    run.add_argument("--variants", type=lambda text: text.split(","), default=DEFAULT_VARIANTS)
    run.add_argument("--val_images", type=int, default=128)
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--out", default="docs/results/time_to_quality.csv")
    run.set_defaults(call=sweep)
    draw = commands.add_parser("plot", help="PSNR-Y against minutes from a sweep's CSV")
    draw.add_argument("csv")
    draw.add_argument("png")
    draw.set_defaults(call=plot)
    read = commands.add_parser("curve", help="a training run's validation curve")
    read.add_argument("run_dir")
    read.add_argument("--minutes", type=float, default=30)
    read.set_defaults(call=curve)
    args = parser.parse_args()
    args.call(args)


if __name__ == "__main__":
    main()
