"""Reading files out of a zip archive that may be hostile, without extracting it.

Nothing is ever written under a member's own name, so no member can land outside the
data folder; still, an archive whose members could (an absolute path, a `..`, a
symbolic link), one that claims absurd sizes (a zip bomb) or one that is truncated or
damaged is refused whole, in one line, before a single photo is taken from it.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from srgan.errors import UserError, shown

# A 2K photo is a few MB as a PNG; no member fit to train on comes near this.
MAX_MEMBER_BYTES = 256 * 2**20
# Photos are stored all but uncompressed (a PNG barely deflates); a member that expands
# over this many times its packed size is a bomb, not a photo.
MAX_RATIO = 100
# Members this small may have any ratio: an empty or tiny file expands to nothing much.
_RATIO_FLOOR_BYTES = 2**20
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


def _damaged(archive: Path, error: Exception) -> UserError:
    return UserError(f"cannot read {archive}: {error}. The archive is damaged or incomplete: "
                     "delete it and download it again.")


def _refusal(info: zipfile.ZipInfo) -> str | None:
    """Why member `info` makes its archive unsafe to read, or None."""
    name = PurePosixPath(info.filename.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or (name.parts and ":" in name.parts[0]):
        return "a path outside the archive's folder"
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        return "a symbolic link" if kind == stat.S_IFLNK else "no plain file"
    if info.flag_bits & 0x1:
        return "an encrypted member"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"a member of {info.file_size} bytes, over the {MAX_MEMBER_BYTES} allowed"
    if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return (f"a member that expands {info.file_size // max(info.compress_size, 1)} times, "
                "a zip bomb")
    return None


def open_archive(archive: Path) -> zipfile.ZipFile:
    """`archive` opened for reading once every member is checked (see the module's note)."""
    try:
        handle = zipfile.ZipFile(archive)
    except _DAMAGED as error:
        raise _damaged(archive, error) from error
    for info in handle.infolist():
        reason = _refusal(info)
        if reason is not None:
            handle.close()
            raise UserError(f"{archive} holds {shown(info.filename)}, {reason}: refusing to "
                            "read it")
    return handle


def members(handle: zipfile.ZipFile, folder: str, suffix: str) -> list[zipfile.ZipInfo]:
    """The files directly in the archive's `folder` whose names end in `suffix` (any
    case), sorted by name."""
    return sorted((info for info in handle.infolist()
                   if not info.is_dir() and PurePosixPath(info.filename).parent.name == folder
                   and len(PurePosixPath(info.filename).parts) == 2
                   and info.filename.lower().endswith(suffix)),
                  key=lambda info: info.filename)


def read_member(handle: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The bytes of one member, checked against its CRC; UserError when they are damaged."""
    try:
        with handle.open(info) as member:
            data = member.read(MAX_MEMBER_BYTES + 1)
    except _DAMAGED as error:
        raise _damaged(Path(handle.filename or "the archive"), error) from error
    if len(data) != info.file_size:
        raise _damaged(Path(handle.filename or "the archive"),
                       ValueError(f"{info.filename} holds {len(data)} bytes, not {info.file_size}"))
    return data
