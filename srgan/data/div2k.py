"""DIV2K (Agustsson and Timofte, 2017): 800 training and 100 validation photos of about
2K pixels, the data set the field trains 4x super-resolution on.

The two HR zips hold DIV2K_train_HR/0001.png .. 0800.png and DIV2K_valid_HR/0801.png ..
0900.png. They are read in place, never extracted: each photo is decoded straight from
its zip (or from an extracted folder the user already has).
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from srgan.data.download import download
from srgan.data.images import load_photo
from srgan.data.zips import members, open_archive, read_member
from srgan.errors import UserError

# The ETH Zurich CVL site, where the challenge published it and where the peers fetch it.
BASE_URL = "http://data.vision.ee.ethz.ch/cvl/DIV2K/"


@dataclasses.dataclass(frozen=True)
class Part:
    """One of DIV2K's two HR zips and the split folder it fills."""

    folder: str  # the zip's one folder, and the zip's name without .zip
    split: str
    # The site publishes no checksum; these are the MD5s that torchsr's and other SR
    # loaders record for the official files.
    md5: str
    archive_bytes: int  # about; assumed for the free-space check when the server does not say

    @property
    def archive(self) -> str:
        return f"{self.folder}.zip"


PARTS = (
    Part("DIV2K_train_HR", "train", "bdc2d9338d4e574fe81bf7d158758658", 3_530_000_000),
    Part("DIV2K_valid_HR", "test", "9fcdda83005c5e5997799b69f955ff88", 449_000_000),
)


def find_div2k(path: Path) -> dict[str, Path] | None:
    """Each split's zip or extracted folder, when `path` is a folder holding both parts
    (zipped or extracted) or one of the two zips with the other beside it; else None."""
    path = Path(path)
    folder = path.parent if path.is_file() else path
    if path.is_file() and path.name not in {part.archive for part in PARTS}:
        return None
    found = {}
    for part in PARTS:
        for candidate in (folder / part.folder, folder / part.archive):
            if candidate.exists():
                found[part.split] = candidate
                break
    if len(found) == len(PARTS):
        return found
    if path.is_file() or found:
        missing = [part.archive for part in PARTS if part.split not in found]
        raise UserError(f"{folder} holds only part of DIV2K: {', '.join(missing)} (or its "
                        "extracted folder) is missing beside it")
    return None


def fetch_div2k(downloads: Path, mirror: str | None) -> dict[str, Path]:
    """Each split's zip in `downloads`, downloaded from `mirror` (a URL of the folder that
    holds the two zips) or from the official site when not already there."""
    base = (mirror or BASE_URL).rstrip("/") + "/"
    total = sum(part.archive_bytes for part in PARTS)
    sources = {}
    for index, part in enumerate(PARTS):
        # Room is kept for the zips still to come and for the photos written from both
        # (PNGs again, about the zips' size).
        later = sum(other.archive_bytes for other in PARTS[index + 1:])
        sources[part.split] = download(base + part.archive, downloads / part.archive, part.md5,
                                       size_hint=part.archive_bytes, reserve=later + total)
    return sources


@dataclasses.dataclass(frozen=True)
class Photo:
    """One photo of a part: its DIV2K name ('0001') and how to load it."""

    name: str
    label: str  # where it is, for messages
    archive: zipfile.ZipFile | None  # None: `entry` is a file on disk
    entry: zipfile.ZipInfo | Path

    def load(self, min_side: int) -> np.ndarray:
        """The photo as uint8 RGB; ImageError if it cannot be used, UserError if its zip
        is damaged."""
        if self.archive is None:
            return load_photo(self.entry, min_side)
        return load_photo(Path(self.label), min_side,
                          file=io.BytesIO(read_member(self.archive, self.entry)))


def photos(source: Path, part: Part, stack: ExitStack) -> list[Photo]:
    """The PNG photos of `part` in `source` (its zip or extracted folder), sorted by name;
    a zip stays open until `stack` closes."""
    if source.is_dir():
        paths = sorted(path for path in source.iterdir()
                       if path.suffix.lower() == ".png" and not path.name.startswith("."))
        found = [Photo(path.stem, str(path), None, path) for path in paths]
    else:
        handle = stack.enter_context(open_archive(source))
        found = [Photo(Path(info.filename).stem, f"{source}/{info.filename}", handle, info)
                 for info in members(handle, part.folder, ".png")]
    if not found:
        raise UserError(f"{source} holds no {part.folder}/*.png photos: give DIV2K's "
                        f"{part.archive} or its extracted {part.folder}/ folder")
    return found


def list_parts(sources: dict[str, Path], stack: ExitStack) -> list[tuple[Part, list[Photo]]]:
    """(part, its photos) for both parts: every zip is opened and checked here, so that a
    hostile or damaged one is refused before any photo is written."""
    return [(part, photos(sources[part.split], part, stack)) for part in PARTS]
