"""Draws a run's validation curve (PSNR-Y against steps, minutes on a second axis label,
bicubic as a dashed line) from its TensorBoard logs into a PNG, with PIL alone.

    python scripts/plot_curve.py CHECKPOINT_DIR img/learning_curve.png
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srgan.cli import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

from PIL import Image, ImageDraw  # noqa: E402

from srgan.evaluation.curve import read_validation_curve  # noqa: E402

WIDTH, HEIGHT, PAD = 640, 360, 56


def main() -> None:
    run, output = Path(sys.argv[1]), Path(sys.argv[2])
    start, scalars = read_validation_curve(run)
    model = scalars["psnr_y"]
    bicubic = scalars["bicubic_psnr_y"][-1][2]
    steps = [p[0] for p in model]
    values = [p[2] for p in model] + [bicubic]
    low, high = min(values) - 0.5, max(values) + 0.5
    last = max(steps)

    def xy(step: float, value: float) -> tuple[float, float]:
        return (PAD + (WIDTH - 2 * PAD) * step / last,
                HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value - low) / (high - low))

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([PAD, PAD, WIDTH - PAD, HEIGHT - PAD], outline="black")
    for value in range(int(low) + 1, int(high) + 1):
        y = xy(0, value)[1]
        draw.line([PAD - 4, y, PAD, y], fill="black")
        draw.text((8, y - 6), f"{value} dB", fill="black")
    for step, wall, _ in model[:: max(1, len(model) // 5)] + model[-1:]:
        x = xy(step, low)[0]
        draw.line([x, HEIGHT - PAD, x, HEIGHT - PAD + 4], fill="black")
        draw.text((x - 18, HEIGHT - PAD + 8), f"{step}", fill="black")
        draw.text((x - 18, HEIGHT - PAD + 22), f"{(wall - start) / 60:.0f} min", fill="gray")
    y = xy(0, bicubic)[1]
    for x in range(PAD, WIDTH - PAD, 12):
        draw.line([x, y, min(x + 6, WIDTH - PAD), y], fill="gray", width=2)
    draw.text((WIDTH - PAD - 150, y - 16), f"bicubic {bicubic:.2f} dB", fill="gray")
    draw.line([xy(p[0], p[2]) for p in model], fill=(200, 30, 30), width=2)
    for p in model:
        cx, cy = xy(p[0], p[2])
        draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=(200, 30, 30))
    draw.text((PAD, 18), "held-out PSNR-Y of the seed generator during its warm-up "
              "(steps; minutes below)", fill="black")
    output.parent.mkdir(parents=True, exist_ok=True)
    image.save(output)
    print(f"wrote {output}: {len(model)} points, last {model[-1][2]:.2f} dB at step {last}")


if __name__ == "__main__":
    main()
