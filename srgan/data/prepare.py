"""--mode=prepare: fill DATA_DIR/train and DATA_DIR/test from STL10 or from a photo collection.

Each file is written under a temporary name and renamed (save_png), and a file that is
already there is kept unless `overwrite` is asked for: a rerun finishes an interrupted
prepare, and photos that prepare did not write are never deleted or replaced.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from tqdm import tqdm

from srgan.data import stl10
from srgan.data.images import (IMAGE_EXTENSIONS, ImageError, centred_tiles, list_images, load_photo,
                               resize_bicubic, save_png)
from srgan.data.prepare_options import HR_CHOICES, SOURCE_CHOICES, check_options, source_path
from srgan.errors import UserError, shown
from srgan.files import target_of_temporary
from srgan.metrics.color import rgb_to_y

SPLITS = ("train", "test")
# Under DATA_DIR: where the STL10 archive is downloaded and extracted.
DOWNLOADS = "downloads"


@dataclasses.dataclass
class PrepareSummary:
    """What prepare did to each split folder of `data_dir`."""

    data_dir: Path
    source: str
    written: dict[str, int]
    kept: dict[str, int]  # already there (from an earlier run, or the user's), left as they were
    others: dict[str, int]  # photos in the folder that this source does not produce
    skipped: list[str]  # "relative path: reason", for photos that could not be used

    def report(self) -> str:
        """The skipped files, one a line, then notes, then one summary line."""
        lines = []
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} file(s):")
            lines.extend(f"  {entry}" for entry in self.skipped)
        for split in SPLITS:
            if self.others[split]:
                lines.append(f"note: {self.data_dir / split} also holds {self.others[split]} "
                             f"other photo(s), not from {self.source}, which are used as well")
        counts = "; ".join(f"{self.data_dir / split}: {self.written[split]} written, "
                           f"{self.kept[split]} already there" for split in SPLITS)
        lines.append(f"prepared {self.source}: {counts}; {len(self.skipped)} skipped")
        return "\n".join(lines)


class _SplitWriter:
    """One split folder: which names to write, the writing, and the counts."""

    def __init__(self, folder: Path, overwrite: bool, side: int | None) -> None:
        self.folder = folder
        self.overwrite = overwrite
        self.side = side  # every file's expected width and height, None when they vary
        folder.mkdir(parents=True, exist_ok=True)
        self.existing: set[str] = set()
        self.stale: dict[str, list[Path]] = collections.defaultdict(list)
        for path in folder.iterdir():
            self.existing.add(path.name)
            target = target_of_temporary(path.name)
            if target is not None:
                self.stale[target].append(path)
        self.claimed: set[str] = set()
        self.written = 0
        self.kept = 0

    def needs(self, name: str) -> bool:
        """Whether `name` must be written; when not, it is counted as kept."""
        self.claimed.add(name)
        # Left behind by a run that was killed mid-write; the name is one this run writes.
        for temp in self.stale.pop(name, []):
            temp.unlink(missing_ok=True)
        if self.overwrite or name not in self.existing:
            return True
        if self.kept == 0:
            self._check_side(self.folder / name)
        self.kept += 1
        return False

    def write(self, name: str, image: np.ndarray) -> None:
        save_png(self.folder / name, image)
        self.existing.add(name)
        self.written += 1

    def others(self) -> int:
        return sum(path.name not in self.claimed for path in list_images(self.folder))

    def _check_side(self, path: Path) -> None:
        # Keeping files of another size would mix two data sets without a word.
        if self.side is None:
            return
        try:
            with Image.open(path) as img:
                width, height = img.size
        except (OSError, ValueError):
            return  # not a photo prepare wrote; it is kept as it is
        if (width, height) != (self.side, self.side):
            raise UserError(
                f"{path} is {width}x{height} px, not {self.side}x{self.side}: {self.folder} was "
                "prepared with another --size or --patch. Pass --overwrite to replace those "
                "files, or choose another --data_dir.")


def split_for(relative_path: str, test_fraction: float) -> str:
    """'test' or 'train' for a photo, from the SHA-1 of its path: adding photos moves none."""
    digest = hashlib.sha1(relative_path.encode("utf-8")).digest()
    return "test" if int.from_bytes(digest[:8], "big") < test_fraction * 2**64 else "train"


def photo_names(relative_paths: list[str]) -> dict[str, str]:
    """Output names (no extension) for photos: the relative path flattened with '__'.

    'holiday/beach.jpg' becomes 'holiday__beach'. Paths that would share a name (ignoring
    case, for case-insensitive disks) each get 8 hex digits of their path's SHA-1 added.
    """
    flat = {path: "__".join(PurePosixPath(path).with_suffix("").parts) for path in relative_paths}
    uses = collections.Counter(name.lower() for name in flat.values())
    return {
        path: name if uses[name.lower()] == 1
        else f"{name}_{hashlib.sha1(path.encode('utf-8')).hexdigest()[:8]}"
        for path, name in flat.items()
    }


def detail(image: np.ndarray) -> float:
    """Mean absolute difference of neighbouring pixels' luma (BT.601), across and down,
    summed: 0 for a flat tile, about 2 for a sky's gradient, 6 and more for texture.

    Flat tiles score near-perfectly for any upscaler, bicubic included (identical
    images have infinite PSNR), and so say nothing of how detail is restored.
    """
    luma = rgb_to_y(image)
    return float(np.mean(np.abs(np.diff(luma, axis=0))) + np.mean(np.abs(np.diff(luma, axis=1))))


def prepare(source: str, data_dir: str | Path, size: int = 48, unlabeled: int = 0,
            test_fraction: float = 0.1, patch: int | None = None, test_patch: int | None = None,
            min_detail: float = 0.0, overwrite: bool = False,
            hr: str | None = None) -> PrepareSummary:
    """Fill `data_dir`/train and `data_dir`/test from `source` (see SOURCE_CHOICES).

    STL10: train -> train/, test -> test/, downsized to size x size (`hr` "downsize", the
    default) or kept at 96 px ("crop": training takes random crops of them), and the first
    `unlabeled` unlabeled photos -> train/. A photo folder (searched recursively): each
    photo goes whole to train/ or test/ (`test_fraction` of them, by the hash of its
    path), or cut into `patch` x `patch` tiles (`test_patch` for the test photos, which
    may then be tiles while the training photos stay whole), kept at full size (`hr`
    "crop", the default) or each tile downsized to `size` ("downsize"); photos under
    `size` px (or their tile size) are skipped, and so are tiles of less `detail` than
    `min_detail`.
    """
    check_options(size, unlabeled, test_fraction, patch, test_patch, min_detail, hr)
    patches = {"train": patch, "test": patch if test_patch is None else test_patch}
    data_dir = Path(data_dir)
    path = source_path(source)
    if path is not None and path.is_dir() and stl10.find_stl10_folder(path) is None:
        if unlabeled:
            raise UserError("--unlabeled applies to STL10 only; leave it out for a photo folder")
        if hr == "downsize" and patch is None:
            raise UserError("--hr downsize for a photo folder needs --patch: tiles of PATCH px, "
                            "each downsized to --size px (as STL10's 96 px photos to 48)")
        downsize_to = size if hr == "downsize" else None
        return _prepare_photos(path, data_dir, size, test_fraction, patches, min_detail, overwrite,
                               downsize_to)
    # STL10 from here on: the options are checked before a download or an extraction.
    if hr == "crop":
        if size != 48:
            raise UserError(f"--size {size} applies to --hr downsize: --hr crop keeps STL10's "
                            f"{stl10.SIDE} px photos whole, and training takes random crops")
        size = stl10.SIDE
    if size > stl10.SIDE:
        raise UserError(f"--size {size} is larger than STL10's {stl10.SIDE} px photos")
    if patch is not None or test_patch is not None:
        raise UserError("--patch and --test_patch apply to photo folders only; STL10 photos are "
                        "written whole")
    if path is None:
        folder, label = stl10.fetch_stl10(data_dir / DOWNLOADS), "STL10"
    elif path.is_file():
        if not tarfile.is_tarfile(path):
            raise UserError(f"--source {source} is a file but not an archive. Give {SOURCE_CHOICES}.")
        folder, label = stl10.extract_stl10(path, data_dir / DOWNLOADS), f"STL10 from {path}"
    else:
        folder = stl10.find_stl10_folder(path)
        label = f"STL10 from {folder}"
    return _prepare_stl10(folder, data_dir, label, size, unlabeled, overwrite)


def _prepare_stl10(folder: Path, data_dir: Path, label: str, size: int, unlabeled: int,
                   overwrite: bool) -> PrepareSummary:
    # (STL10 split, output split, digits in the names, file, photos to take), all checked
    # before anything is written.
    jobs = [(part, part, 5, folder / stl10.BINARY_FILES[part]) for part in SPLITS]
    jobs = [(*job, stl10.count_stl10_images(job[3])) for job in jobs]
    if unlabeled:
        path = folder / stl10.BINARY_FILES["unlabeled"]
        if not path.is_file():
            raise UserError(f"--unlabeled needs {path}, which is missing")
        available = stl10.count_stl10_images(path)
        if unlabeled > available:
            raise UserError(f"--unlabeled {unlabeled} asks for more than the {available} "
                            f"photos in {path}")
        jobs.append(("unlabeled", "train", 6, path, unlabeled))
    writers = {split: _SplitWriter(data_dir / split, overwrite, side=size) for split in SPLITS}
    for part, split, digits, path, count in jobs:
        names = [f"stl10_{part}_{index:0{digits}d}.png" for index in range(count)]
        writer = writers[split]
        wanted = [index for index, name in enumerate(names) if writer.needs(name)]
        photos = stl10.hr_images(path, wanted, size)
        for index, photo in tqdm(photos, total=len(wanted), desc=f"STL10 {part}", unit="photo",
                                 disable=not wanted):
            writer.write(names[index], photo)
    return _summary(data_dir, label, writers, [])


def _prepare_photos(folder: Path, data_dir: Path, size: int, test_fraction: float,
                    patches: dict[str, int | None], min_detail: float,
                    overwrite: bool, downsize_to: int | None) -> PrepareSummary:
    outputs = [(data_dir / name).resolve() for name in (*SPLITS, DOWNLOADS)]
    if any(folder.resolve().is_relative_to(output) for output in outputs):
        raise UserError(f"--source {folder} is inside {data_dir}'s output folders: give the "
                        "folder that holds your original photos")
    # When DATA_DIR lies inside the photo folder, its outputs must not be read back as input.
    skipped: list[str] = []
    paths = [path for path in list_images(folder, recursive=True, skipped=skipped)
             if not any(path.resolve().is_relative_to(output) for output in outputs)]
    if not paths:
        raise UserError(f"{folder} holds no photos ({', '.join(IMAGE_EXTENSIONS)}) and is not "
                        f"an stl10_binary folder. Give {SOURCE_CHOICES}.")
    relative_paths = [path.relative_to(folder).as_posix() for path in paths]
    names = photo_names(relative_paths)
    # The side every file of a split has: its tiles', once downsized; None for whole photos.
    sides = {split: None if patches[split] is None else downsize_to or patches[split]
             for split in SPLITS}
    writers = {split: _SplitWriter(data_dir / split, overwrite, side=sides[split])
               for split in SPLITS}
    for path, relative in tqdm(list(zip(paths, relative_paths)), desc="photos", unit="photo"):
        split = split_for(relative, test_fraction)
        writer, patch = writers[split], patches[split]
        min_side = max(size, patch or 0)
        name = names[relative]
        if patch is None and not writer.needs(f"{name}.png"):
            continue
        try:
            photo = load_photo(path, min_side)
        except ImageError as error:
            skipped.append(f"{shown(relative)}: {error.reason}")
            continue
        if patch is None:
            writer.write(f"{name}.png", photo)
            continue
        for r, c, tile in centred_tiles(photo, patch):
            if downsize_to is not None and downsize_to != patch:
                tile = resize_bicubic(tile, downsize_to, downsize_to)
            if detail(tile) < min_detail:
                continue
            tile_name = f"{name}_r{r:02d}_c{c:02d}.png"
            if writer.needs(tile_name):
                writer.write(tile_name, tile)
    return _summary(data_dir, f"the photos in {folder}", writers, skipped)


def _summary(data_dir: Path, source: str, writers: dict[str, _SplitWriter],
             skipped: list[str]) -> PrepareSummary:
    return PrepareSummary(
        data_dir=data_dir,
        source=source,
        written={split: writer.written for split, writer in writers.items()},
        kept={split: writer.kept for split, writer in writers.items()},
        others={split: writer.others() for split, writer in writers.items()},
        skipped=skipped,
    )
