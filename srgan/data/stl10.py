"""STL10 (Coates, Lee and Ng, 2011) in its binary form: fetch, extract, read.

The folder stl10_binary/ holds train_X.bin (5,000 photos), test_X.bin (8,000) and
unlabeled_X.bin (100,000): raw uint8, each 96x96 colour photo stored as its three
channels one after the other, each channel column-major (the MATLAB layout).
"""

from __future__ import annotations

import gzip
import itertools
import shutil
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from srgan.data.download import check_free_space, download
from srgan.data.images import resize_bicubic
from srgan.errors import UserError

STL10_URL = "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
# The site publishes no checksum; this is the archive's MD5 as torchvision records it.
STL10_MD5 = "91f7769df0f17e558f3565bffb0c7dfb"
# About 2.64 GB; assumed for the free-space check when the server does not say.
STL10_ARCHIVE_BYTES = 2_640_000_000
SIDE = 96
IMAGE_BYTES = 3 * SIDE * SIDE
# 113,000 photos plus the small label, class-name and fold files.
STL10_EXTRACTED_BYTES = 113_000 * IMAGE_BYTES + 2 * 10**6
FOLDER_NAME = "stl10_binary"
ARCHIVE_NAME = "stl10_binary.tar.gz"
BINARY_FILES = {"train": "train_X.bin", "test": "test_X.bin", "unlabeled": "unlabeled_X.bin"}

# Photos per read: 27 MB at a time, so the 2.7 GB unlabeled file is never loaded whole.
_CHUNK = 1000
_SAFE_EXTRACTION = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def count_stl10_images(path: Path) -> int:
    """The number of photos in an STL10 *_X.bin file; UserError when it is truncated."""
    size = Path(path).stat().st_size
    if size % IMAGE_BYTES:
        raise UserError(f"{path} holds {size} bytes, not a whole number of STL10 photos "
                        f"({IMAGE_BYTES} bytes each): it is truncated or not STL10. "
                        "Extract the archive again.")
    return size // IMAGE_BYTES


def read_stl10_images(path: Path, start: int, count: int) -> np.ndarray:
    """Photos start .. start + count - 1 of an STL10 *_X.bin file: uint8 [count, 96, 96, 3] RGB, upright."""
    total = count_stl10_images(path)
    if start < 0 or count < 0 or start + count > total:
        raise ValueError(f"photos {start}..{start + count - 1} asked of {path}, which holds {total}")
    if count == 0:
        return np.empty((0, SIDE, SIDE, 3), dtype=np.uint8)
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=start * IMAGE_BYTES,
                    shape=(count, 3, SIDE, SIDE))
    # Column-major channels read as C order give [photo, channel, column, row].
    return np.ascontiguousarray(raw.transpose(0, 3, 2, 1))


def hr_images(path: Path, indices: Iterable[int], size: int) -> Iterator[tuple[int, np.ndarray]]:
    """(index, photo) for the ascending `indices` of an *_X.bin file, at size x size.

    Downsizing is PIL's bicubic, antialiased; size 96 gives the photos untouched.
    """
    for _, group in itertools.groupby(indices, key=lambda index: index // _CHUNK):
        group = list(group)
        batch = read_stl10_images(path, group[0], group[-1] - group[0] + 1)
        for index in group:
            photo = batch[index - group[0]]
            if size != SIDE:
                photo = resize_bicubic(photo, size, size)
            yield index, photo


def find_stl10_folder(path: Path) -> Path | None:
    """`path` or `path`/stl10_binary when it holds train_X.bin and test_X.bin, else None."""
    for folder in (Path(path), Path(path) / FOLDER_NAME):
        if all((folder / BINARY_FILES[split]).is_file() for split in ("train", "test")):
            return folder
    return None


def fetch_stl10(downloads: Path) -> Path:
    """The extracted stl10_binary/ folder in `downloads`, downloaded and extracted if need be."""
    downloads = Path(downloads)
    folder = find_stl10_folder(downloads / FOLDER_NAME)
    if folder is not None:
        return folder
    downloads.mkdir(parents=True, exist_ok=True)
    archive = download(STL10_URL, downloads / ARCHIVE_NAME, STL10_MD5,
                       size_hint=STL10_ARCHIVE_BYTES, reserve=STL10_EXTRACTED_BYTES)
    return extract_stl10(archive, downloads)


def extract_stl10(archive: Path, downloads: Path) -> Path:
    """Extract an STL10 archive to `downloads`/stl10_binary and return that folder.

    An extraction already there is reused. The files are first extracted into a hidden
    folder that is renamed when complete, so an interrupted extraction is redone.
    """
    archive, downloads = Path(archive), Path(downloads)
    final = downloads / FOLDER_NAME
    if find_stl10_folder(final) == final:
        return final
    if final.exists():
        raise UserError(f"{final} exists but holds no train_X.bin and test_X.bin: move it away "
                        "and run the command again")
    downloads.mkdir(parents=True, exist_ok=True)
    staging = downloads / f".{FOLDER_NAME}.extracting"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _extract_all(archive, staging)
        found = find_stl10_folder(staging)
        if found is None:
            raise UserError(f"{archive} holds no {FOLDER_NAME}/train_X.bin and test_X.bin: "
                            "give the STL10 binary archive (stl10_binary.tar.gz)")
        found.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _extract_all(archive: Path, destination: Path) -> None:
    root = destination.resolve()
    try:
        with open(archive, "rb") as raw, tarfile.open(fileobj=raw, mode="r:*") as tar, tqdm(
            total=archive.stat().st_size, desc=f"extracting {archive.name}", unit="B",
            unit_scale=True, unit_divisor=1024,
        ) as bar:
            for member in tar:
                inside = (root / member.name).resolve().is_relative_to(root)
                if not inside or not (member.isfile() or member.isdir()):
                    raise UserError(f"{archive} holds {member.name!r}, which is not a plain file "
                                    "inside the archive: refusing to extract it")
                # Each member's own size, as its header gives it: the archive's size says
                # nothing of what it expands to.
                check_free_space(destination, member.size, f"extracting {member.name} from {archive}")
                tar.extract(member, destination, **_SAFE_EXTRACTION)
                bar.update(raw.tell() - bar.n)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise UserError(f"cannot extract {archive}: {error}. The archive is damaged or "
                        "incomplete: delete it and download it again.") from error
