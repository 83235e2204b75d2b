"""Reading and writing photos with Pillow: any common file in, uint8 RGB out."""

from __future__ import annotations

import dataclasses
import errno
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError
from tqdm import tqdm

from srgan.errors import UserError, shown
from srgan.files import atomic_open

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff",
                                     ".gif")

# Modes that hold one channel of more than 8 bits (16-bit PNG/TIFF open as these).
_WIDE_GRAY_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")
# Modes whose transparency is kept as an alpha channel.
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")

# Folders with fewer files than this load without a progress bar, to keep output clean.
_PROGRESS_MIN_FILES = 200


class ImageError(UserError):
    """A file that cannot be used as a photo.

    A subclass of UserError, so that `main.py` reports it as a message, not a trace.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot read photo {shown(path)}: {reason}")
        self.path = Path(path)
        self.reason = reason


def list_images(folder: Path, recursive: bool = False,
                skipped: list[str] | None = None) -> list[Path]:
    """The photo files in `folder` (by extension, any case), sorted; hidden files skipped.

    Only regular files count: a FIFO or device named like a photo would block or never
    end when read. Each one is named in `skipped`, where given.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: give a folder that holds photos")
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    found = []
    for path in candidates:
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        if hidden or path.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if path.is_file():
            found.append(path)
        elif skipped is not None and not path.is_dir():
            skipped.append(f"{shown(path)}: {not_regular(path)}")
    return sorted(found)


def not_regular(path: Path) -> str:
    """Why `path`, named like a photo, is not read as one: what kind of file it is, or
    where it is a symbolic link, that it leads nowhere."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symbolic link that loops: not read"
        if path.is_symlink():
            return "a symbolic link whose target is missing: not read"
        return f"{(error.strerror or str(error)).lower()}: not read"
    kinds = {stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket", stat.S_ISCHR: "a character device",
             stat.S_ISBLK: "a block device"}
    kind = next((name for test, name in kinds.items() if test(mode)), "a special file")
    return f"{kind}, not a regular file: not read"


class _UnknownRange(ValueError):
    """A wide image whose values have no range this project can know."""


def _wide_gray_to_8bit(img: Image.Image) -> np.ndarray:
    """16-bit values scaled from 0..65535 (convert("L") would clip them at 255); 32-bit
    integers read as 16-bit values (how Pillow opened 16-bit PNGs for years); floats read
    as 0..1, the usual range of a float image. Values beyond those ranges could mean
    anything: refused, never darkened or clipped without a word."""
    values = np.asarray(img, dtype=np.float64)
    low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    if img.mode == "F":
        if not (np.isfinite(values).all() and 0 <= low and high <= 1):
            raise _UnknownRange(f"32-bit floating-point values from {low:g} to {high:g}: only 0..1 "
                                "is read as a photo's range; save it with 8 or 16 bits per channel")
        return np.round(values * 255).astype(np.uint8)
    if img.mode == "I" and not (0 <= low and high <= 65535):
        raise _UnknownRange(f"32-bit integer values from {low:g} to {high:g}: only 0..65535 (16 "
                            "bits) is read as a photo's range; save it with 8 or 16 bits per channel")
    return np.clip(np.round(values / 257.0), 0, 255).astype(np.uint8)


def _to_rgb_alpha(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """uint8 HxWx3 RGB and, when the photo has transparency, uint8 HxW alpha."""
    if img.mode in _WIDE_GRAY_MODES:
        gray = _wide_gray_to_8bit(img)
        return np.repeat(gray[:, :, None], 3, axis=2), None
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in _ALPHA_MODES:
        # Alpha is dropped, not composited: the colour under a transparent pixel is
        # still the photo's colour, and compositing over black would darken edges.
        rgba = np.asarray(img.convert("RGBA"))
        return np.ascontiguousarray(rgba[:, :, :3]), np.ascontiguousarray(rgba[:, :, 3])
    return np.asarray(img.convert("RGB")), None


def _failure_reason(exc: Exception) -> str:
    if isinstance(exc, UnidentifiedImageError):
        return "not an image"
    if isinstance(exc, _UnknownRange):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno is not None:
        # The file system's complaint: missing file, no permission, a folder.
        return (exc.strerror or str(exc)).lower()
    return f"corrupt or unsupported image ({exc})"


def _read(path: Path, file: BinaryIO | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    path = Path(path)
    try:
        with Image.open(path if file is None else file) as img:
            # load() forces the full decode, so truncated files fail here, not later.
            img.load()
            upright = ImageOps.exif_transpose(img)
            return _to_rgb_alpha(upright)
    # Pillow's decoders signal a bad file with many exception types (OSError,
    # SyntaxError, ValueError, EOFError, struct.error, DecompressionBombError...);
    # whichever it is, the file cannot be used.
    except Exception as exc:
        raise ImageError(path, _failure_reason(exc)) from exc


def read_size(path: Path) -> tuple[int, int]:
    """The photo's (width, height) from its header alone, without decoding it: a quick
    check; ImageError where the file is no photo Pillow reads."""
    try:
        with Image.open(path) as img:
            return img.size
    except Exception as exc:  # as in _read: whichever way Pillow fails, it is no photo
        raise ImageError(path, _failure_reason(exc)) from exc


def load_rgb(path: Path, file: BinaryIO | None = None) -> np.ndarray:
    """The photo at `path` (read from `file` where given: a zip's member, say) as uint8
    HxWx3 RGB, upright per its EXIF orientation."""
    return _read(path, file)[0]


def load_rgba(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The photo as uint8 HxWx3 RGB, plus its uint8 HxW alpha channel if it has one."""
    return _read(path)


def frame_count(path: Path) -> int:
    """How many frames the photo file holds (an animated GIF, PNG or WebP, a multi-page
    TIFF: more than one); the loaders read the first."""
    try:
        with Image.open(path) as img:
            return getattr(img, "n_frames", 1)
    except Exception:  # as in _read: whichever way Pillow fails, the file is no photo
        return 0


def load_photo(path: Path, min_size: int, file: BinaryIO | None = None) -> np.ndarray:
    """load_rgb, for a photo that must be at least `min_size` px on each side; one too
    small raises ImageError too, its reason saying how small it is."""
    photo = load_rgb(path, file)
    height, width = photo.shape[:2]
    if height < min_size or width < min_size:
        raise ImageError(path, f"{width}x{height} px is under {min_size} px")
    return photo


# The PNG text key and value that mark a file as an upscale's or a test run's output, so
# that a later run replaces its own files and never a user's (`check_replaceable`).
WRITER_KEY, WRITER = "Software", "srgan: 4x super-resolution (upscale or testing)"
# The EXIF tags this module reads or sets: Software marks a JPEG or WebP output as ours,
# as WRITER_KEY does a PNG; the orientation, applied to the pixels on reading.
SOFTWARE_TAG, ORIENTATION = 0x0131, 0x0112


@dataclasses.dataclass(frozen=True)
class PhotoKind:
    """What an upscaled photo keeps of its input beyond the RGB pixels the model sees:
    one channel (gray), 16 bits, the colour profile and the EXIF data."""

    gray: bool = False
    sixteen_bit: bool = False
    icc_profile: bytes | None = None
    exif: bytes | None = None


# One channel of any depth, with or without alpha.
_GRAY_MODES = ("1", "L", "LA", "La", *_WIDE_GRAY_MODES)


def read_kind(path: Path) -> PhotoKind:
    """The PhotoKind of the photo at `path` (a file load_rgba has read). Its EXIF keeps
    every tag but the orientation, which the loaders apply to the pixels: 1 (upright),
    so no viewer turns the output a second time."""
    with Image.open(path) as img:
        exif = img.getexif()
        if ORIENTATION in exif:
            exif[ORIENTATION] = 1
        return PhotoKind(gray=img.mode in _GRAY_MODES, sixteen_bit=img.mode in _WIDE_GRAY_MODES,
                         icc_profile=img.info.get("icc_profile") or None,
                         exif=exif.tobytes() if len(exif) else None)


def as_kind(rgb: np.ndarray, alpha: np.ndarray | None, kind: PhotoKind) -> np.ndarray:
    """uint8 RGB (and alpha) as an output of `kind` is written: for a gray input, the
    RGB's luma (ITU-R 601, as Pillow's "L"), in 16 bits (x 257: the model's own 8-bit
    precision) where the input had them and no alpha; alpha beside it where given."""
    if not kind.gray:
        return rgb if alpha is None else np.dstack([rgb, alpha])
    luma = np.asarray(Image.fromarray(rgb).convert("L"))
    if alpha is not None:
        return np.dstack([luma, alpha])
    return luma.astype(np.uint16) * 257 if kind.sixteen_bit else luma


def save_png(path: Path, image: np.ndarray, marked: bool = False,
             kind: PhotoKind = PhotoKind()) -> None:
    """Write uint8 HxW, HxWx2 (gray and alpha), HxWx3 or HxWx4 `image`, or uint16 HxW, as
    a PNG, atomically; makes parent folders. `marked`: with the text chunk that names this
    project as its writer; `kind`: with its colour profile and EXIF data."""
    image = np.asarray(image)
    shape_ok = image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (2, 3, 4))
    if not ((image.dtype == np.uint8 and shape_ok) or (image.dtype == np.uint16 and image.ndim == 2)):
        raise ValueError(f"save_png needs uint8 HxW, HxWx2, HxWx3 or HxWx4, or uint16 HxW, got "
                         f"{image.dtype} {image.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {name: value for name, value in (("icc_profile", kind.icc_profile), ("exif", kind.exif))
             if value is not None}
    # Hidden while written: list_images skips it.
    with atomic_open(path, "wb") as file:
        info = PngImagePlugin.PngInfo()
        if marked:
            info.add_text(WRITER_KEY, WRITER)
        Image.fromarray(np.ascontiguousarray(image)).save(file, format="PNG", pnginfo=info, **extra)


def written_by_us(path: Path) -> bool:
    """Whether `path` is an output this project marked as its own: a PNG by its text
    chunk (save_png), a JPEG or WebP by its EXIF Software tag (inference/outputs.py)."""
    try:
        with Image.open(path) as image:
            if image.format == "PNG":
                return image.text.get(WRITER_KEY) == WRITER
            return image.format in ("JPEG", "WEBP") and image.getexif().get(SOFTWARE_TAG) == WRITER
    except (OSError, ValueError, Image.DecompressionBombError):
        return False


def check_replaceable(targets: list[Path], flag: str) -> None:
    """UserError, naming the first, where a file to be written exists and is not an
    output of this project (the user's own photo, say): nothing is ever replaced that
    the tool did not write."""
    for target in targets:
        if target.exists() and not written_by_us(target):
            raise UserError(f"{flag} {target.parent} already holds {target.name}, which this "
                            "tool did not write; choose another folder, or move the file away")


def resize_bicubic(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 `image` resized with PIL's bicubic: bicubic upscaling, the baseline every
    table compares with, and the downsizing of photos to a size."""
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BICUBIC))


def centred_tiles(photo: np.ndarray, side: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """(row, column, tile) for the side x side tiles of a grid centred in the photo."""
    height, width = photo.shape[:2]
    rows, cols = height // side, width // side
    top, left = (height - rows * side) // 2, (width - cols * side) // 2
    for r in range(rows):
        for c in range(cols):
            y, x = top + r * side, left + c * side
            yield r, c, photo[y : y + side, x : x + side]


def load_folder(folder: Path, min_size: int) -> tuple[list[np.ndarray], list[str]]:
    """Every usable photo in `folder` (not recursive), and one line per skipped file.

    A photo is skipped when it cannot be decoded or when its height or width is under
    `min_size`. Files without a photo extension are ignored silently.
    """
    skipped: list[str] = []
    paths = list_images(folder, skipped=skipped)
    photos: list[np.ndarray] = []
    progress = tqdm(
        paths,
        desc=f"loading {Path(folder).name}",
        unit="photo",
        leave=False,
        disable=len(paths) < _PROGRESS_MIN_FILES,
    )
    for path in progress:
        try:
            photos.append(load_photo(path, min_size))
        except ImageError as exc:
            skipped.append(f"{shown(path.name)}: {exc.reason}")
    return photos, skipped


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central size x size part (all of a smaller side), as a copy, not a view,
    so that a grid of crops does not keep whole photos alive."""
    height, width = image.shape[:2]
    top, left = max(0, (height - size) // 2), max(0, (width - size) // 2)
    return image[top:top + size, left:left + size].copy()
