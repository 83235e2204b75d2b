"""4x upscaling of photos of any size, in overlapping tiles so that memory stays bounded.

Tiles are cut in LR space. Each tile is run with `margin` LR pixels of real image
content around it, and only the centre 4x region of its output is kept. Tiles never
pad the image border: a tile at the border sees the model's own zero 'same' padding
there, exactly as the whole image does, so with the full receptive field as margin the
tiled result equals the untiled one (see `context_margin`). A trained generator's output
depends on far less context than that: `tile_margin` uses the measured effective margin.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from srgan.data.degrade import SCALE, from_model, to_model
from srgan.data.images import check_replaceable, frame_count, load_rgba, read_kind, read_size, resize_bicubic
from srgan.errors import UserError, shown
from srgan.inference.inputs import check_margin, check_size, photo_inputs
from srgan.inference.outputs import OutputOptions, output_names, rescale, save_output
from srgan.models import registry
from srgan.runtime import backends

log = logging.getLogger(__name__)

DEFAULT_TILE = 128

Predictor = Callable[[np.ndarray], np.ndarray]


def context_margin(model: str, blocks: int) -> int:
    """LR pixels of context each side of a tile: the generator's receptive-field radius.

    With it each kept output pixel sees exactly the inputs it sees in the untiled run,
    so the two differ only by floating-point summation order (at most 1 level after
    rounding). Each model's spec knows its own (srgan/models/registry.py).
    """
    return registry.spec(model).context_margin(blocks)


def tile_margin(model: str, blocks: int, margin: int | None = None) -> int:
    """The context each tile gets: `margin` if given (--margin); else the model's measured
    effective margin where it has one (the seed's generator: a quarter of the full
    receptive field's work per tile), else its full receptive field."""
    if margin is not None:
        check_margin(margin)
        return margin
    return registry.spec(model).tile_margin(blocks)


def make_predictor(generator: keras.Model) -> Predictor:
    """uint8 HxWx3 LR -> uint8 4Hx4Wx3 SR, in inference mode (BatchNorm's moving statistics).

    Compiled once for every size where the backend can (TensorFlow), else once per tile
    or photo size (JAX; tiles take few distinct sizes). The copy to NumPy waits for the
    device: timing a call times the whole computation.
    """
    predict = backends.compiled_for_images(
        lambda lr: from_model(generator(to_model(lr), training=False)))
    return lambda lr: keras.ops.convert_to_numpy(predict(np.ascontiguousarray(lr)[np.newaxis]))[0]


def _spans(size: int, tile: int) -> list[tuple[int, int]]:
    """[start, end) cuts of 0..size into ceil(size / tile) nearly equal parts: no sliver
    tiles, so every tile costs about the same and few distinct shapes occur."""
    count = math.ceil(size / tile)
    edges = [round(i * size / count) for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))


def tile_count(height: int, width: int, tile: int) -> int:
    if tile <= 0:
        return 1
    return math.ceil(height / tile) * math.ceil(width / tile)


def _tiles_of(path: Path, tile: int) -> int:
    """The tiles of the photo at `path`, from its header (0 where it cannot be read: the
    loop names it)."""
    try:
        width, height = read_size(path)
    except UserError:
        return 0
    return tile_count(height, width, tile)


def upscale_array(predict: Predictor, lr: np.ndarray, tile: int, margin: int,
                  progress: tqdm | None = None) -> np.ndarray:
    """uint8 HxWx3 `lr` -> uint8 4Hx4Wx3, in tiles of at most `tile` LR px (0: whole).

    `margin` LR px of neighbouring content are added around each tile where the image
    has them. `progress`, if given, is advanced by one per tile.
    """
    height, width = lr.shape[:2]
    if tile <= 0 or (height <= tile and width <= tile):
        sr = predict(lr)
        if progress is not None:
            progress.update(1)
        return sr
    sr = np.empty((SCALE * height, SCALE * width, 3), np.uint8)
    for top, bottom in _spans(height, tile):
        for left, right in _spans(width, tile):
            # Context only where the image has content; never past its border.
            top_in, bottom_in = max(0, top - margin), min(height, bottom + margin)
            left_in, right_in = max(0, left - margin), min(width, right + margin)
            out = predict(lr[top_in:bottom_in, left_in:right_in])
            dy, dx = SCALE * (top - top_in), SCALE * (left - left_in)
            sr[SCALE * top:SCALE * bottom, SCALE * left:SCALE * right] = out[
                dy:dy + SCALE * (bottom - top), dx:dx + SCALE * (right - left)]
            if progress is not None:
                progress.update(1)
    return sr


def upscale_alpha(alpha: np.ndarray) -> np.ndarray:
    """uint8 HxW alpha -> 4Hx4W with PIL's bicubic: transparency is not photo content."""
    height, width = alpha.shape
    return resize_bicubic(alpha, SCALE * width, SCALE * height)


@dataclasses.dataclass
class Written:
    """What an upscale did: the files written (and of them, those that replaced an
    earlier output of this tool), and the photos left alone by --skip_existing."""

    written: list[Path] = dataclasses.field(default_factory=list)
    replaced: list[Path] = dataclasses.field(default_factory=list)
    existing: list[Path] = dataclasses.field(default_factory=list)


def upscale_files(generator: keras.Model, source: Path, output: Path, tile: int,
                  margin: int, options: OutputOptions = OutputOptions()) -> Written:
    """Writes each photo of `source` (a file or a folder; with `options.recursive` its
    subfolders too, the tree mirrored) into `output`, `options.outscale` times larger
    (the model's 4x, then Lanczos), named and in the format `options` say.

    RGB through the generator (8 bits a channel); a gray photo is written gray (the
    output's luma; 16 bits where it had them and the format has them), palette photos as
    RGB; an alpha channel is upscaled with bicubic and kept (not in JPEG); the colour
    profile and EXIF data are carried over, the EXIF orientation set upright (the pixels
    were turned on reading). A single photo that cannot be read is a UserError; in a
    folder, each one is logged and the rest still run, then one UserError names them all.
    """
    options.check()
    source = Path(source)
    paths, targets = _targets(source, Path(output), options)
    single = len(paths) == 1
    done = Written()
    if options.skip_existing:
        done.existing = [path for path in paths if targets[path].exists()]
        paths = [path for path in paths if not targets[path].exists()]
    check_replaceable([targets[path] for path in paths], "--output")
    predict = make_predictor(generator)
    failed = []
    # One bar over every tile of the folder, counted from the headers: its time left holds
    # for photos of any mix of sizes, as a bar over photos would not.
    tiles = {path: _tiles_of(path, tile) for path in paths}
    bar = tqdm(total=sum(tiles.values()), desc="upscaling", unit="tile", dynamic_ncols=True,
               disable=sum(tiles.values()) < 2)
    with bar:
        for path in paths:
            bar.set_postfix_str(shown(path.name), refresh=False)
            try:
                rgb, alpha = load_rgba(path)
                check_size(path, rgb.shape[1], rgb.shape[0])
            except UserError as error:  # an ImageError, or too small
                if single:
                    raise
                failed.append(str(error))
                log.warning(f"skipped: {error}")
                bar.total -= tiles[path]
                bar.refresh()
                continue
            target = targets[path]
            existed = target.exists()
            _upscale_photo(predict, path, rgb, alpha, target, tile, margin, options, bar)
            done.written.append(target)
            if existed:
                done.replaced.append(target)
    if failed:
        raise UserError(f"{len(failed)} of {len(paths)} file(s) could not be upscaled "
                        f"({len(done.written)} written to {output}): " + "; ".join(failed))
    return done


def _targets(source: Path, output: Path, options: OutputOptions) -> tuple[list[Path], dict[Path, Path]]:
    """(the photos of `source` to upscale, each one's output file); UserError where an
    output would overwrite its input."""
    paths, skipped = photo_inputs(source, options.recursive)
    for line in skipped:
        log.warning(f"skipped: {line}")
    inside = output.resolve()
    if source.is_dir() and inside != source.resolve() and inside.is_relative_to(source.resolve()):
        # Earlier outputs inside the input tree are outputs, not photos to upscale again.
        paths = [path for path in paths if not path.resolve().is_relative_to(inside)]
    names = output_names(paths, source if source.is_dir() else None, options.suffix, options.ext)
    targets = {path: output / names[path] for path in paths}
    overwritten = [str(path) for path, target in targets.items() if target.resolve() == path.resolve()]
    if overwritten:
        raise UserError(f"--output {output} would overwrite the input {overwritten[0]}; "
                        "choose another --output folder")
    return paths, targets


def _upscale_photo(predict, path: Path, rgb: np.ndarray, alpha: np.ndarray | None, target: Path,
                   tile: int, margin: int, options: OutputOptions, bar: tqdm) -> None:
    """The photo at `path` (read as `rgb` and `alpha`) written into `target`."""
    height, width = rgb.shape[:2]
    frames = frame_count(path)
    if frames > 1:
        log.info(f"{shown(path)} holds {frames} frames (an animation, or pages): upscaled the "
                 "first alone")
    sr = upscale_array(predict, rgb, tile, margin, bar)
    sr, alpha = rescale(sr, None if alpha is None else upscale_alpha(alpha), width, height,
                        options.outscale)
    lost = save_output(target, sr, alpha, read_kind(path), options.quality)
    if lost:
        log.info(f"{shown(target.name)}: {options.ext} cannot hold {' or '.join(lost)} of "
                 f"{shown(path.name)}; --ext png keeps everything")
