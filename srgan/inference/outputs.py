"""What an upscale writes: each output's name, size and file format.

The flags are Real-ESRGAN's where they mean the same (`--outscale`, `--suffix`, `--ext`,
`--recursive`); testing and compare name their SR photos by the same rule, in PNG.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image

from srgan.data.images import SOFTWARE_TAG, WRITER, PhotoKind, as_kind, save_png
from srgan.errors import UserError
from srgan.files import atomic_open

EXTENSIONS = ("png", "jpg", "webp")
# Real-ESRGAN's flag takes any scale; past 16 the Lanczos resize only blurs what 4x made.
MAX_OUTSCALE = 16.0


@dataclasses.dataclass(frozen=True)
class OutputOptions:
    """--outscale, --suffix, --ext, --quality, --recursive and --skip_existing."""

    outscale: float = 4.0
    suffix: str = ""
    ext: str = "png"
    quality: int = 95
    recursive: bool = False
    skip_existing: bool = False

    def check(self) -> None:
        if not 0 < self.outscale <= MAX_OUTSCALE:
            raise UserError(f"--outscale must be above 0 and at most {MAX_OUTSCALE:g}, got {self.outscale:g}")
        if not 1 <= self.quality <= 100:
            raise UserError(f"--quality must be from 1 to 100, got {self.quality}")
        if self.ext not in EXTENSIONS:
            raise UserError(f"--ext must be one of {', '.join(EXTENSIONS)}, got {self.ext!r}")
        if "/" in self.suffix or "\\" in self.suffix:
            raise UserError(f"--suffix names no folder: got {self.suffix!r}")


def output_names(paths: list[Path], root: Path | None = None, suffix: str = "",
                 ext: str = "png") -> dict[Path, str]:
    """`stem{suffix}.{ext}` for each input, under its folder relative to `root` (the tree
    mirrored) where given; inputs of one folder that share a stem keep their suffix in the
    name (`a_jpg.png`, `a_png.png`), so that no output overwrites another."""
    stems: dict[tuple[Path, str], int] = {}
    folder = {path: path.parent.relative_to(root) if root is not None else Path() for path in paths}
    for path in paths:
        stems[folder[path], path.stem] = stems.get((folder[path], path.stem), 0) + 1
    names = {}
    for path in paths:
        stem = (f"{path.stem}{path.suffix.replace('.', '_')}" if stems[folder[path], path.stem] > 1
                else path.stem)
        names[path] = (folder[path] / f"{stem}{suffix}.{ext}").as_posix()
    return names


def rescale(sr: np.ndarray, alpha: np.ndarray | None, width: int, height: int,
            outscale: float) -> tuple[np.ndarray, np.ndarray | None]:
    """The model's 4x output (and alpha) resized with Lanczos to `outscale` times the
    input's `width` x `height`, where that is not 4."""
    size = (max(1, round(width * outscale)), max(1, round(height * outscale)))
    if size == (sr.shape[1], sr.shape[0]):
        return sr, alpha
    resized = np.asarray(Image.fromarray(sr).resize(size, Image.LANCZOS))
    return resized, None if alpha is None else np.asarray(Image.fromarray(alpha).resize(size, Image.LANCZOS))


def save_output(path: Path, rgb: np.ndarray, alpha: np.ndarray | None, kind: PhotoKind,
                quality: int) -> list[str]:
    """Writes the output at `path` in the format its extension names, marked as this
    project's (a later run may replace it; nothing else is replaced). Returns what the
    format could not keep, in words: JPEG has no alpha, JPEG and WebP no 16 bits."""
    if path.suffix == ".png":
        save_png(path, as_kind(rgb, alpha, kind), marked=True, kind=kind)
        return []
    lost = []
    if kind.sixteen_bit:
        lost.append("16 bits (8 kept)")
        kind = dataclasses.replace(kind, sixteen_bit=False)
    if path.suffix == ".jpg" and alpha is not None:
        lost.append("the alpha channel")
        alpha = None
    image = Image.fromarray(np.ascontiguousarray(as_kind(rgb, alpha, kind)))
    if image.mode == "LA":  # WebP stores gray with alpha as RGBA
        image = image.convert("RGBA")
    exif = Image.Exif()
    if kind.exif is not None:
        exif.load(kind.exif)
    exif[SOFTWARE_TAG] = WRITER
    extra = {} if kind.icc_profile is None else {"icc_profile": kind.icc_profile}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as file:
        image.save(file, format="JPEG" if path.suffix == ".jpg" else "WEBP", quality=quality,
                   exif=exif.tobytes(), **extra)
    return lost
