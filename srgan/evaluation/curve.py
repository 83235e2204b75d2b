"""A run's validation curve: the scalars training logs under VALIDATION_TAG in RUN_DIR/logs
at each checkpoint (PSNR-Y and SSIM-Y of the generator and of bicubic), read back.

The logs hold a few loss scalars at every step and these at each checkpoint alone, so
only the records whose bytes name the tag are parsed (srgan/run/events.py reads them).
"""

from __future__ import annotations

from pathlib import Path

from srgan.run import events

VALIDATION_TAG = "validation/"


def read_validation_curve(run_dir: Path) -> tuple[float, dict[str, list[tuple[int, float, float]]]]:
    """(the wall-clock time the run's logs began, its validation scalars: tag ('psnr_y',
    'bicubic_psnr_y', ...) -> [(step, wall-clock time, value)] in step order), from
    RUN_DIR/logs; a file cut short by a killed run is read up to its cut."""
    series: dict[str, list[tuple[int, float, float]]] = {}
    start = float("inf")
    for path in events.event_files(run_dir):
        for index, (step, wall_time, values) in enumerate(
                events.scalars(path, VALIDATION_TAG.encode())):
            if index == 0:
                start = min(start, wall_time)
            for tag, value in values:
                if tag.startswith(VALIDATION_TAG):
                    series.setdefault(tag[len(VALIDATION_TAG):], []).append((step, wall_time, value))
    return start, {tag: sorted(points) for tag, points in series.items()}


def validation_at(run_dir: Path, step: int) -> dict[str, float] | None:
    """The run's validation scalars logged at `step` ('psnr_y', 'bicubic_psnr_y', ...), the
    latest where a resumed run logged that step twice; None where it logged none there
    (validation off, no test photos, or a save made by a stop request)."""
    _, series = read_validation_curve(run_dir)
    scores = {}
    for tag, points in series.items():
        values = [value for at, _, value in points if at == step]
        if values:
            scores[tag] = values[-1]
    return scores if {"psnr_y", "bicubic_psnr_y"} <= scores.keys() else None
