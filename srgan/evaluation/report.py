"""Writing a test run's results: metrics.csv, summary.json, summary.md, comparison.png."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from srgan import files
from srgan.data.images import centre_crop, save_png
from srgan.evaluation.grids import image_grid
from srgan.metrics.sharpness import detail_ratio

METRICS = ("psnr", "ssim", "ms_ssim", "gmsd", "sharpness", "time_ms")
COLUMNS = ("image", "method", *METRICS)
# Larger photos show their centre at this size in the grid, at full resolution:
# downsizing would hide the very detail being compared.
GRID_CELL = 256
GRID_GAP = 4


@dataclasses.dataclass
class Score:
    """One image scored for one method: a row of metrics.csv."""

    image: str
    method: str
    psnr: float
    ssim: float
    ms_ssim: float
    gmsd: float
    time_ms: float
    detail: float  # the SR's mean gradient on Y (srgan/metrics/sharpness.py)
    hr_detail: float  # the HR's

    @property
    def sharpness(self) -> float:
        """This image's SR detail over its HR's; NaN for a flat HR."""
        return detail_ratio(self.detail, self.hr_detail)


def write_csv(path: Path, scores: list[Score]) -> None:
    """One row per image and method, columns COLUMNS, metrics to 6 decimals."""
    files.write_csv(path, COLUMNS, ([score.image, score.method,
                                     *(f"{getattr(score, name):.6f}" for name in METRICS)]
                                    for score in scores))


def method_means(scores: list[Score], methods: list[str]) -> dict[str, dict[str, float]]:
    """The mean of each metric per method, in the order of `methods`; sharpness as the
    set's mean SR gradient over its mean HR gradient, so that a flat tile (no gradient
    to compare with) weighs by its detail, nothing, instead of dividing by 0."""
    means = {}
    for method in methods:
        mine = [score for score in scores if score.method == method]
        means[method] = {name: float(np.mean([getattr(s, name) for s in mine]))
                         for name in METRICS if name != "sharpness"}
        means[method]["sharpness"] = detail_ratio(sum(score.detail for score in mine),
                                                  sum(score.hr_detail for score in mine))
    return {method: {name: means[method][name] for name in METRICS} for method in methods}


def scales_label(scales: list[int]) -> str:
    """'3 scales', or '2-5 scales' where the photos' sizes allowed different counts."""
    low, high = min(scales), max(scales)
    count = f"{low}" if low == high else f"{low}-{high}"
    return f"{count} scale{'' if high == 1 else 's'}"


def _finite_or_none(value):
    # JSON has no Infinity (PSNR of identical images): written as null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    return value


def summary_markdown(summary: dict) -> str:
    """The seed's results table: one row per method, means over all test images."""
    lines = [
        "| method | PSNR (dB) | SSIM | MS-SSIM (" + scales_label(summary["ms_ssim_scales"])
        + ") | GMSD | sharpness | time (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, means in summary["methods"].items():
        lines.append(f"| {method} | {means['psnr']:.4f} | {means['ssim']:.4f} | "
                     f"{means['ms_ssim']:.4f} | {means['gmsd']:.4f} | {means['sharpness']:.4f} | "
                     f"{means['time_ms']:.2f} |")
    lines += [
        "",
        f"{summary['images']} images from {summary['test_dir']}; LR: {summary['lr']}.",
        f"Bicubic: {summary['bicubic']}. Time: {summary['timing']}, on {summary['device']}.",
        "PSNR and SSIM on the BT.601 Y channel, 4 px border cropped, SR rounded to uint8; "
        "GMSD on the whole gray image (lower is better); sharpness: the SR's mean gradient "
        "magnitude on Y over the HR's (1: as detailed as the photo, below: smoother).",
    ]
    lines.append("Checkpoints: " + ", ".join(f"{method} = {path}"
                                            for method, path in summary["checkpoints"].items()) + ".")
    lines += [f"Note: {note}" for note in summary["notes"]]
    if summary["skipped"]:
        lines.append(f"Skipped {len(summary['skipped'])} file(s):")
        lines += [f"- {reason}" for reason in summary["skipped"]]
    return "\n".join(lines) + "\n"


def write_summary(folder: Path, summary: dict) -> None:
    """summary.json (the means per method and how they were made) and summary.md."""
    files.write_text(folder / "summary.json", json.dumps(_finite_or_none(summary), indent=2) + "\n")
    files.write_text(folder / "summary.md", "# Test results\n\n" + summary_markdown(summary))


def grid_cell(image: np.ndarray) -> np.ndarray:
    """What a comparison grid shows of an image; a copy, so the grid keeps 16 rows,
    not 16 whole photos and their SR."""
    return centre_crop(image, GRID_CELL)


def write_grid(path: Path, rows: list[list[np.ndarray]], titles: list[str]) -> None:
    """HR | bicubic | SR | ... per row (cells from `grid_cell`), under `titles`."""
    save_png(path, image_grid(rows, GRID_GAP, titles))
