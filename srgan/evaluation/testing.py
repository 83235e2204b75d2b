"""The test run (`--mode=testing`): trained generators against bicubic, as the seed's table.

Every HR photo in DATA_DIR/test is cropped at the top left to a multiple of 4 and
downsized x4 with the training degradation (`downsample`), unless DATA_DIR/test_lr
holds LR photos of the same names, which are then used as they are. Bicubic is PIL's
`Image.resize` x4 (BICUBIC) of the same uint8 LR. Metrics (srgan.metrics) compare the
cropped HR with each uint8 result. Photos too small for SSIM's window after the border
crop (HR under 19 px a side, so LR under 5 px) are skipped and listed, never scored
partly: every row of the table then covers the same photos.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from srgan.data.degrade import SCALE, downsample
from srgan.data.images import ImageError, check_replaceable, list_images, load_rgb, resize_bicubic, save_png
from srgan.errors import UserError
from srgan.evaluation.grids import sr_title
from srgan.evaluation.methods import BICUBIC, MODEL, parse_compare
from srgan.evaluation.provenance import load_named_generator
from srgan.evaluation.report import Score, grid_cell, method_means, write_csv, write_grid, write_summary
from srgan.inference.inputs import check_tile
from srgan.inference.outputs import output_names
from srgan.inference.upscale import (DEFAULT_TILE, Predictor, make_predictor, tile_count, tile_margin,
                                     upscale_array)
from srgan.metrics import gmsd, mean_gradient, ms_ssim, psnr, ssim
from srgan.metrics.ssim import WINDOW_SIZE
from srgan.runtime.backends import device_name

BORDER = 4
MIN_HR = 2 * BORDER + WINDOW_SIZE
GRID_IMAGES = 16


@dataclasses.dataclass
class Method:
    """A generator under test: its row name, its predictor, its tile margin, its file,
    and its grid column's title."""

    name: str
    predict: Predictor
    margin: int
    checkpoint: str
    title: str


def _method(name: str, checkpoint_dir: Path, checkpoint: Path | None, precision: str,
            margin: int | None, advise: bool = False, named: bool = True) -> Method:
    """The generator of a row, named in the log as it is loaded (see provenance.py)."""
    role = "" if name == MODEL else f"--compare {name}: "
    generator, config, source = load_named_generator(checkpoint_dir, checkpoint, precision, role,
                                                     advise, named)
    return Method(name, make_predictor(generator), tile_margin(config.model, config.blocks, margin),
                  source.path, sr_title(source.label if name == MODEL else name))


def test_folders(data_dir: Path) -> tuple[Path, Path | None]:
    """(where testing reads its HR photos, where it reads given LR ones or None): as this
    project lays data out, DATA_DIR/test and DATA_DIR/test_lr; as benchmark sets come
    (Set5, Set14, BSD100, Urban100), DATA_DIR/HR, or DATA_DIR itself, a flat folder of
    photos. The LR of those two is made from the HR, as for test/ without test_lr/."""
    if (data_dir / "test").is_dir():
        return data_dir / "test", data_dir / "test_lr"
    if (data_dir / "HR").is_dir():
        return data_dir / "HR", None
    return data_dir, None


def test_pairs(data_dir: Path, skipped: list[str] | None = None) -> list[tuple[Path, Path | None]]:
    """(HR path, LR path or None) for every photo testing reads (test_folders); files that
    are not regular files are named in `skipped`."""
    test_dir, lr_dir = test_folders(data_dir)
    paths = list_images(test_dir, skipped=skipped) if test_dir.is_dir() else []
    if not paths:
        raise UserError(f"no test photos in {data_dir / 'test'}, {data_dir / 'HR'} or {data_dir}: put "
                        "HR photos there (training on a fresh clone fills data2017/ with a demo "
                        "set), or pass --data_dir")
    if lr_dir is None or not lr_dir.is_dir():
        return [(path, None) for path in paths]
    by_name = {path.name: path for path in list_images(lr_dir)}
    by_stem = {path.stem: path for path in by_name.values()}
    pairs = [(path, by_name.get(path.name, by_stem.get(path.stem))) for path in paths]
    missing = [hr.name for hr, lr in pairs if lr is None]
    if missing:
        raise UserError(f"{lr_dir} has no LR photo for {len(missing)} of the {len(paths)} test "
                        f"photos (e.g. {missing[0]}): give every one, or move {lr_dir} away "
                        "to downsize the HR photos instead")
    return pairs


def hr_and_lr(hr_path: Path, lr_path: Path | None) -> tuple[np.ndarray, np.ndarray, bool]:
    """The HR as scored and its uint8 LR; True where a given LR made the HR be cropped
    more than to a multiple of 4."""
    hr = load_rgb(hr_path)
    height, width = hr.shape[:2]
    if lr_path is None:
        hr = hr[:height - height % SCALE, :width - width % SCALE]
        _check_scorable(hr_path, hr)
        return hr, np.asarray(downsample(hr, SCALE)).astype(np.uint8), False
    lr = load_rgb(lr_path)
    target = (SCALE * lr.shape[0], SCALE * lr.shape[1])
    if target[0] > height or target[1] > width:
        raise UserError(f"{lr_path} is {lr.shape[1]}x{lr.shape[0]}: 4x that is larger than its HR "
                        f"{hr_path} ({width}x{height}); LR photos must be the HR downsized x4")
    cropped_more = target[0] // SCALE < height // SCALE or target[1] // SCALE < width // SCALE
    hr = hr[:target[0], :target[1]]
    _check_scorable(hr_path, hr)
    return hr, lr, cropped_more


def _check_scorable(hr_path: Path, hr: np.ndarray) -> None:
    """ImageError unless the HR, as scored, is large enough for every step: checked
    before the downsizing, which fails on a side under 4 px."""
    if min(hr.shape[:2]) < MIN_HR:
        raise ImageError(hr_path, f"{hr.shape[1]}x{hr.shape[0]} px (after cropping to a multiple "
                                  f"of 4) is under the {MIN_HR} px SSIM needs")


def bicubic(lr: np.ndarray) -> np.ndarray:
    height, width = lr.shape[:2]
    return resize_bicubic(lr, SCALE * width, SCALE * height)


def _score(image: str, method: str, hr: np.ndarray, sr: np.ndarray, seconds: float,
           hr_detail: float) -> tuple[Score, int]:
    """`hr_detail` is mean_gradient(hr, BORDER), the same for every method: made once."""
    value, scales = ms_ssim(hr, sr, BORDER)
    return Score(image, method, psnr(hr, sr, BORDER), ssim(hr, sr, BORDER), value, gmsd(hr, sr),
                 1000.0 * seconds, mean_gradient(sr, BORDER), hr_detail), scales


def _timed(function, *args) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def run_testing(checkpoint_dir: Path, checkpoint: Path | None, data_dir: Path, results_dir: Path,
                compare: list[str] | None = None, tile: int = DEFAULT_TILE,
                precision: str = "float32", margin: int | None = None,
                advise: bool = False, named: bool = True) -> dict:
    """Scores bicubic, the model and each --compare checkpoint on DATA_DIR/test.

    Writes metrics.csv, summary.json, summary.md, comparison.png (titled columns) and
    each method's SR photos (RESULTS_DIR/METHOD/NAME.png) into `results_dir`; returns
    the summary. Every checkpoint is loaded, checked and named in the log before
    anything is written; with `advise`, one more line says where the model validated
    below the shipped generator on the same photos, and where the command did not name the
    run (`named` False) the shipped generator is scored instead (see provenance.py).
    """
    check_tile(tile)
    others = parse_compare(compare or [])
    # The checkpoints first: on a fresh clone "train one first" is the message that helps.
    methods = [_method(MODEL, Path(checkpoint_dir), checkpoint, precision, margin, advise, named)]
    methods += [_method(name, path.parent, path, precision, margin) for name, path in others]
    skipped: list[str] = []
    pairs = test_pairs(Path(data_dir), skipped)
    folders = test_folders(Path(data_dir))
    results_dir = Path(results_dir)
    _check_results_dir(results_dir, folders)
    results_dir.mkdir(parents=True, exist_ok=True)
    names = output_names([hr for hr, _ in pairs])
    check_replaceable([results_dir / method.name / names[hr] for method in methods for hr, _ in pairs],
                      "--results_dir")
    scored = _score_photos(pairs, methods, tile, results_dir, names, skipped)
    if not scored.scores:
        raise UserError(f"none of the {len(pairs)} photos in {Path(data_dir) / 'test'} could be "
                        "scored:\n  " + "\n  ".join(skipped))
    summary = _summary(scored, methods, pairs, folders[0], tile, precision, skipped)
    write_csv(results_dir / "metrics.csv", scored.scores)
    write_summary(results_dir, summary)
    write_grid(results_dir / "comparison.png", scored.grid,
               ["HR", BICUBIC, *(method.title for method in methods)])
    return summary


def _check_results_dir(results_dir: Path, folders: tuple[Path, Path | None]) -> None:
    for read in folders:
        if read is not None and results_dir.resolve().is_relative_to(read.resolve()):
            raise UserError(f"--results_dir {results_dir} is inside {read}, which testing reads: "
                            "the next run would score its outputs as test photos. Choose a "
                            "folder outside it")


@dataclasses.dataclass
class _Scored:
    """What scoring the test photos gave: a Score per photo and method, and what the
    summary says of them."""

    scores: list[Score] = dataclasses.field(default_factory=list)
    scales: set[int] = dataclasses.field(default_factory=set)  # MS-SSIM's scales used
    cropped: list[str] = dataclasses.field(default_factory=list)  # HR cropped to fit its LR
    grid: list[list[np.ndarray]] = dataclasses.field(default_factory=list)
    tiled: bool = False  # whether any photo ran in tiles


def _score_photos(pairs: list[tuple[Path, Path | None]], methods: list, tile: int,
                  results_dir: Path, names: dict[Path, str], skipped: list[str]) -> _Scored:
    """Bicubic and each method on every (HR, LR) pair, each method's SR photo written;
    a photo that cannot be read is added to `skipped`."""
    scored = _Scored()
    warmed: set[str] = set()
    for hr_path, lr_path in tqdm(pairs, desc="testing", unit="photo", disable=len(pairs) < 2):
        try:
            hr, lr, cropped_more = hr_and_lr(hr_path, lr_path)
        except ImageError as error:
            skipped.append(str(error))
            continue
        if cropped_more:
            scored.cropped.append(hr_path.name)
        scored.tiled = scored.tiled or tile_count(*lr.shape[:2], tile) > 1
        row, hr_detail = [hr], mean_gradient(hr, BORDER)
        sr, seconds = _timed(bicubic, lr)
        score, count = _score(hr_path.name, BICUBIC, hr, sr, seconds, hr_detail)
        scored.scores.append(score)
        scored.scales.add(count)
        row.append(sr)
        for method in methods:
            if method.name not in warmed:
                # The first call traces the graph and sets up the device: not timed.
                upscale_array(method.predict, lr, tile, method.margin)
                warmed.add(method.name)
            sr, seconds = _timed(upscale_array, method.predict, lr, tile, method.margin)
            scored.scores.append(_score(hr_path.name, method.name, hr, sr, seconds, hr_detail)[0])
            save_png(results_dir / method.name / names[hr_path], sr, marked=True)
            row.append(sr)
        if len(scored.grid) < GRID_IMAGES:
            scored.grid.append([grid_cell(image) for image in row])
    return scored


def _summary(scored: _Scored, methods: list, pairs: list[tuple[Path, Path | None]],
             test_dir: Path, tile: int, precision: str, skipped: list[str]) -> dict:
    notes = []
    if scored.cropped:
        notes.append(f"{len(scored.cropped)} HR photo(s) were cropped (top left) to 4x the size of "
                     f"their LR in test_lr/, e.g. {scored.cropped[0]}")
    return {
        "images": sum(score.method == BICUBIC for score in scored.scores),
        "test_dir": str(test_dir),
        "lr": ("given in test_lr/" if pairs[0][1] is not None else
               "HR cropped to a multiple of 4, downsized x4 with antialiased bicubic (as training)"),
        "bicubic": "PIL Image.resize x4, BICUBIC, of the same uint8 LR",
        "timing": ("mean per image of the generator call (output copied back, first call excluded)"
                   + (f"; photos over {tile} LR px run in tiles" if scored.tiled else "")),
        "device": device_name(),
        "precision": precision,
        "ms_ssim_scales": sorted(scored.scales),
        "methods": method_means(scored.scores, [BICUBIC] + [m.name for m in methods]),
        "checkpoints": {method.name: method.checkpoint for method in methods},
        "notes": notes,
        "skipped": skipped,
    }
