"""What `--mode=upscale` reads, and in what pieces: the photo --input names, or the photos
of the folder it names, and the ranges of --tile and --margin (upscale.py cuts the
tiles); free of TensorFlow, so that the command line checks them before it loads."""

from pathlib import Path

from srgan.data.images import IMAGE_EXTENSIONS, list_images, not_regular, read_size
from srgan.errors import UserError, shown

# LR px a side below which a photo is refused: its output is then mostly border, where the
# generator sees its zero padding. `python bench/measure/measure_min_size.py` on scikit-image's
# photos, shipped generator: its border RMS error is 7.4-10.1 levels from 3 px on (7.40 at
# 3, 1.01x bicubic's; 0.89-0.98x from 4 px on), then 8.4 at 2 px (1.19x) and 15.9 at 1
# (2.2x): at 3 px and above it does as well as bicubic or better.
MIN_SIDE = 3
# Smaller tiles spend most of their work on the margins around them.
MIN_TILE = 16


def check_size(path: Path, width: int, height: int) -> None:
    """UserError where the photo is too small to enlarge faithfully."""
    if min(height, width) < MIN_SIDE:
        raise UserError(f"{shown(path)} is {width}x{height} px, under the {MIN_SIDE} px a side "
                        "that upscale enlarges faithfully (docs/USAGE.md, \"Upscaling your photos\")")


def photo_inputs(source: Path, recursive: bool = False) -> tuple[list[Path], list[str]]:
    """(the photos of the folder `source`, not its subfolders unless `recursive`, or
    `source` itself, a file whose header is a photo's; a line for each other file of the
    folder named like a photo, which is skipped); UserError where there are none."""
    source = Path(source)
    if source.is_dir():
        skipped: list[str] = []
        paths = list_images(source, recursive=recursive, skipped=skipped)
        if not paths:
            raise UserError(f"no photos in {source} (looked for {', '.join(IMAGE_EXTENSIONS)})")
        return paths, skipped
    if not source.exists():
        raise UserError(f"--input {source} does not exist: give a photo or a folder of photos")
    if not source.is_file():
        raise UserError(f"--input {source} is {not_regular(source)}. Give a photo or a folder "
                        "of photos")
    check_size(source, *read_size(source))  # before the model loads, from the header alone
    return [source], []


def check_tile(tile: int) -> None:
    if tile < 0 or 0 < tile < MIN_TILE:
        raise UserError(f"--tile must be 0 (whole photos) or at least {MIN_TILE} LR px, got {tile}")


def check_margin(margin: int | None) -> None:
    """None is the model's own margin."""
    if margin is not None and margin < 0:
        raise UserError(f"--margin must not be negative, got {margin}")
