"""Draws a learning curve (held-out PSNR-Y against steps, minutes under them, bicubic as
a dashed line) into a PNG, with PIL alone, from a run's TensorBoard logs or from a
curve.csv (seconds, step, held_out_psnr_y; the shipped generator's GPU stage wrote
docs/results/warmup_jax/curve.csv with a script since folded into main.py). A curve.csv
records no bicubic score: pass it.

    python scripts/plot_curve.py CHECKPOINT_DIR img/learning_curve.png
    python scripts/plot_curve.py docs/results/warmup_jax/curve.csv img/learning_curve_jax.png --bicubic 30.72
"""

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srgan.runtime.startup import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

from PIL import Image, ImageDraw  # noqa: E402

import math  # noqa: E402

from srgan.errors import UserError, exit_status  # noqa: E402
from srgan.evaluation.curve import read_validation_curve  # noqa: E402
from srgan.cli.flags import finite_float  # noqa: E402

WIDTH, HEIGHT, PAD = 640, 360, 56


Point = tuple[float, float, float]  # step, minutes, PSNR-Y


CSV_COLUMNS = ("seconds", "step", "held_out_psnr_y")


def from_run(run: Path) -> tuple[list[Point], float]:
    if not run.is_dir():
        raise UserError(f"{run} is not a run folder (nor a .csv)")
    start, scalars = read_validation_curve(run)
    if not scalars.get("psnr_y") or not scalars.get("bicubic_psnr_y"):
        raise UserError(f"{run} logged no validation scores (validation off, no test photos, "
                        "or no checkpoint yet): no curve to draw")
    points = [(step, (wall - start) / 60, value) for step, wall, value in scalars["psnr_y"]]
    return points, scalars["bicubic_psnr_y"][-1][2]


def from_csv(path: Path) -> list[Point]:
    """The scored rows of a curve.csv (a row with an empty score, made without held-out
    tiles, is left out)."""
    with open(path, newline="") as file:
        rows = csv.DictReader(file)
        missing = [name for name in CSV_COLUMNS if name not in (rows.fieldnames or [])]
        if missing:
            raise UserError(f"{path} has no column {', '.join(missing)} (it needs {', '.join(CSV_COLUMNS)})")
        points = []
        for line, row in enumerate(rows, start=2):
            if not row["held_out_psnr_y"]:
                continue
            try:
                points.append((int(row["step"]), float(row["seconds"]) / 60,
                               float(row["held_out_psnr_y"])))
            except (TypeError, ValueError):
                raise UserError(f"{path}, line {line}: {dict(row)} is not a step and two numbers") from None
    if not points:
        raise UserError(f"{path} holds no scored row: no curve to draw")
    return points


def check_finite(points: list[Point], bicubic: float, source: Path) -> None:
    """Only finite scores can be drawn: a set of flat tiles scores an infinite PSNR."""
    bad = [value for value in [p[2] for p in points] + [bicubic] if not math.isfinite(value)]
    if bad:
        raise UserError(f"{source} holds a PSNR-Y of {bad[0]}: only finite scores can be drawn "
                        "(test tiles that are all flat score inf)")


def draw(model: list[Point], bicubic: float, title: str, output: Path) -> None:
    steps = [p[0] for p in model]
    values = [p[2] for p in model] + [bicubic]
    low, high = min(values) - 0.5, max(values) + 0.5
    last = max(steps)
    span = max(last, 1)  # one point at step 0 still needs a width

    def xy(step: float, value: float) -> tuple[float, float]:
        return (PAD + (WIDTH - 2 * PAD) * step / span,
                HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value - low) / (high - low))

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([PAD, PAD, WIDTH - PAD, HEIGHT - PAD], outline="black")
    for value in range(int(low) + 1, int(high) + 1):
        y = xy(0, value)[1]
        draw.line([PAD - 4, y, PAD, y], fill="black")
        draw.text((8, y - 6), f"{value} dB", fill="black")
    ticks = model[:: max(1, len(model) // 5)]
    # The last point is always labelled; a regular tick too close before it would overprint it.
    ticks = [t for t in ticks if last - t[0] > last / 10] + model[-1:]
    for step, minutes, _ in ticks:
        x = xy(step, low)[0]
        draw.line([x, HEIGHT - PAD, x, HEIGHT - PAD + 4], fill="black")
        draw.text((x - 18, HEIGHT - PAD + 8), f"{step}", fill="black")
        draw.text((x - 18, HEIGHT - PAD + 22), f"{minutes:.0f} min", fill="gray")
    y = xy(0, bicubic)[1]
    for x in range(PAD, WIDTH - PAD, 12):
        draw.line([x, y, min(x + 6, WIDTH - PAD), y], fill="gray", width=2)
    draw.text((WIDTH - PAD - 150, y - 16), f"bicubic {bicubic:.2f} dB", fill="gray")
    draw.line([xy(p[0], p[2]) for p in model], fill=(200, 30, 30), width=2)
    for p in model:
        cx, cy = xy(p[0], p[2])
        draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=(200, 30, 30))
    draw.text((PAD, 18), title, fill="black")
    output.parent.mkdir(parents=True, exist_ok=True)
    image.save(output)
    print(f"wrote {output}: {len(model)} points, last {model[-1][2]:.2f} dB at step {last}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="a run's checkpoint folder, or a curve.csv")
    parser.add_argument("output", type=Path)
    parser.add_argument("--bicubic", type=finite_float,
                        help="bicubic's PSNR-Y on the same tiles (csv)")
    args = parser.parse_args(argv)
    if args.source.suffix == ".csv" and args.bicubic is None:
        parser.error("a curve.csv records no bicubic score: pass --bicubic")

    def run() -> None:
        if args.source.suffix == ".csv":
            points, bicubic = from_csv(args.source), args.bicubic
            title = "held-out PSNR-Y of the seed generator, by step (minutes below)"
        else:
            points, bicubic = from_run(args.source)
            title = "held-out PSNR-Y of the seed generator during its warm-up (steps; minutes below)"
        check_finite(points, bicubic, args.source)
        draw(points, bicubic, title, args.output)
    return exit_status(run)


if __name__ == "__main__":
    sys.exit(main())
