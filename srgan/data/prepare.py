"""--mode=prepare: fill DATA_DIR/train and DATA_DIR/test from STL10, DIV2K or a photo collection.

Each file is written under a temporary name and renamed (save_png), and a file that is
already there is kept unless `overwrite` is asked for: a rerun finishes an interrupted
prepare, and photos that prepare did not write are never deleted or replaced.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import hashlib
import tarfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from tqdm import tqdm

from srgan.data import div2k, stl10
from srgan.data.images import (IMAGE_EXTENSIONS, ImageError, centred_tiles, list_images, load_photo,
                               resize_bicubic, save_png)
from srgan.data.prepare_options import (DIV2K, HR_CHOICES, SOURCE_CHOICES, check_mirror, check_options,
                                        source_path)
from srgan.errors import UserError, shown
from srgan.files import target_of_temporary
from srgan.metrics.color import rgb_to_y

SPLITS = ("train", "test")
# Under DATA_DIR: where the STL10 archive is downloaded and extracted.
DOWNLOADS = "downloads"
# A photo folder's share of photos put in test/ when --test_fraction is not given.
DEFAULT_TEST_FRACTION = 0.1


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
            test_fraction: float | None = None, patch: int | None = None,
            test_patch: int | None = None, min_detail: float = 0.0, overwrite: bool = False,
            hr: str | None = None, mirror: str | None = None) -> PrepareSummary:
    """Fill `data_dir`/train and `data_dir`/test from `source` (see SOURCE_CHOICES).

    STL10: train -> train/, test -> test/, downsized to size x size (`hr` "downsize", the
    default) or kept at 96 px ("crop": training takes random crops of them), and the first
    `unlabeled` unlabeled photos -> train/. DIV2K (downloaded from `mirror`, or the
    official site, when `source` is "div2k"): its 800 training photos -> train/, its 100
    validation photos -> test/. A photo folder (searched recursively): each photo goes to
    train/ or test/ (`test_fraction` of them, 0.1 when not given, by the hash of its path).
    DIV2K's and a folder's photos are kept whole or cut into `patch` x `patch` tiles
    (`test_patch` for the test photos, which may then be tiles while the training photos
    stay whole), kept at full size (`hr` "crop", the default) or each tile downsized to
    `size` ("downsize"); photos under `size` px (or their tile size) are skipped, and so
    are tiles of less `detail` than `min_detail`.
    """
    check_options(size, unlabeled, test_fraction, patch, test_patch, min_detail, hr)
    patches = {"train": patch, "test": patch if test_patch is None else test_patch}
    data_dir = Path(data_dir)
    check_mirror(source, mirror)
    path = source_path(source)
    div2k_sources = div2k.find_div2k(path) if path is not None else None
    if source == DIV2K or div2k_sources is not None:
        _photo_options_only(unlabeled, test_fraction, "DIV2K keeps its own split")
        _check_downsize(hr, patch, "DIV2K")
        label = "DIV2K" if div2k_sources is None else f"DIV2K from {path}"
        if div2k_sources is None:
            div2k_sources = div2k.fetch_div2k(data_dir / DOWNLOADS, mirror)
        return _prepare_div2k(div2k_sources, data_dir, label, _Tiling(size, patches, min_detail,
                                                                      _downsize_to(hr, size)),
                              overwrite)
    if path is not None and path.is_dir() and stl10.find_stl10_folder(path) is None:
        _photo_options_only(unlabeled, None, "")
        _check_downsize(hr, patch, "a photo folder")
        fraction = DEFAULT_TEST_FRACTION if test_fraction is None else test_fraction
        return _prepare_photos(path, data_dir, fraction, _Tiling(size, patches, min_detail,
                                                                 _downsize_to(hr, size)),
                               overwrite)
    return _stl10_source(source, path, data_dir, size, unlabeled, test_fraction, patches, overwrite, hr)


def _stl10_source(source: str, path: Path | None, data_dir: Path, size: int, unlabeled: int,
                  test_fraction: float | None, patches: dict[str, int | None], overwrite: bool,
                  hr: str | None) -> PrepareSummary:
    """prepare() from STL10: downloaded (`path` None), its archive, or its extracted
    folder; the options are checked before a download or an extraction."""
    _photo_options_only(0, test_fraction, "STL10 keeps its own split")
    if hr == "crop":
        if size != 48:
            raise UserError(f"--size {size} applies to --hr downsize: --hr crop keeps STL10's "
                            f"{stl10.SIDE} px photos whole, and training takes random crops")
        size = stl10.SIDE
    if size > stl10.SIDE:
        raise UserError(f"--size {size} is larger than STL10's {stl10.SIDE} px photos")
    if any(value is not None for value in patches.values()):
        raise UserError("--patch and --test_patch apply to photo folders and DIV2K only; STL10 "
                        "photos are written whole")
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


def _photo_options_only(unlabeled: int, test_fraction: float | None, why: str) -> None:
    """UserError for an option the source at hand has no use for."""
    if unlabeled:
        raise UserError("--unlabeled applies to STL10 only; leave it out for other sources")
    if test_fraction is not None:
        raise UserError(f"--test_fraction applies to photo folders only: {why}")


def _check_downsize(hr: str | None, patch: int | None, source: str) -> None:
    if hr == "downsize" and patch is None:
        raise UserError(f"--hr downsize for {source} needs --patch: tiles of PATCH px, each "
                        "downsized to --size px (as STL10's 96 px photos to 48)")


def _downsize_to(hr: str | None, size: int) -> int | None:
    return size if hr == "downsize" else None


@dataclasses.dataclass(frozen=True)
class _Tiling:
    """How whole photos become the files of a split: kept whole or cut into tiles."""

    size: int  # the smallest side kept
    patches: dict[str, int | None]  # each split's tile side, None to keep photos whole
    min_detail: float
    downsize_to: int | None  # each tile's side once downsized, None to keep it as cut

    def side(self, split: str) -> int | None:
        """The side every file of `split` has; None for whole photos."""
        return None if self.patches[split] is None else self.downsize_to or self.patches[split]

    def write(self, writer: _SplitWriter, split: str, name: str,
              load: Callable[[int], np.ndarray], label: str, skipped: list[str]) -> None:
        """Write the photo `load` gives as `name`.png, or as its tiles; a photo that
        cannot be used goes into `skipped`."""
        patch = self.patches[split]
        if patch is None and not writer.needs(f"{name}.png"):
            return
        try:
            photo = load(max(self.size, patch or 0))
        except ImageError as error:
            skipped.append(f"{shown(label)}: {error.reason}")
            return
        if patch is None:
            writer.write(f"{name}.png", photo)
            return
        for r, c, tile in centred_tiles(photo, patch):
            if self.downsize_to is not None and self.downsize_to != patch:
                tile = resize_bicubic(tile, self.downsize_to, self.downsize_to)
            if detail(tile) < self.min_detail:
                continue
            tile_name = f"{name}_r{r:02d}_c{c:02d}.png"
            if writer.needs(tile_name):
                writer.write(tile_name, tile)


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


def _prepare_photos(folder: Path, data_dir: Path, test_fraction: float, tiling: _Tiling,
                    overwrite: bool) -> PrepareSummary:
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
    writers = {split: _SplitWriter(data_dir / split, overwrite, side=tiling.side(split))
               for split in SPLITS}
    for path, relative in tqdm(list(zip(paths, relative_paths)), desc="photos", unit="photo"):
        split = split_for(relative, test_fraction)
        tiling.write(writers[split], split, names[relative],
                     functools.partial(load_photo, path), relative, skipped)
    return _summary(data_dir, f"the photos in {folder}", writers, skipped)


def _prepare_div2k(sources: dict[str, Path], data_dir: Path, label: str, tiling: _Tiling,
                   overwrite: bool) -> PrepareSummary:
    skipped: list[str] = []
    with contextlib.ExitStack() as stack:
        parts = div2k.list_parts(sources, stack)
        writers = {split: _SplitWriter(data_dir / split, overwrite, side=tiling.side(split))
                   for split in SPLITS}
        for part, found in parts:
            for photo in tqdm(found, desc=part.folder, unit="photo"):
                tiling.write(writers[part.split], part.split, f"div2k_{photo.name}", photo.load,
                             photo.label, skipped)
    return _summary(data_dir, label, writers, skipped)


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
