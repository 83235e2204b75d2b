"""Writing files atomically: a reader, or a run killed midway, never sees half a file.

Everything is written under a hidden temporary name beside its target and renamed into
place when complete (removed when not). This module owns those names: `.NAME.<32 hex
digits>.tmp`, with the target's suffix after it where a writer insists on one, so that
a rerun can tell a killed write's leftovers from anything else.
"""

import contextlib
import csv
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from srgan.errors import UserError

_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{32}\.tmp(\.[^.]+)?$")


def temporary_for(path: Path, suffix: str = "") -> Path:
    """A hidden, unique name beside `path`, in the same folder (so os.replace stays on
    one filesystem), ending in `suffix` where a writer needs one (Keras wants .keras)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp{suffix}")


def target_of_temporary(name: str) -> str | None:
    """The file name a temporary name was written for, or None if `name` is no temporary."""
    match = _TEMPORARY.match(name)
    return match["name"] if match else None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path for the block to write (a file or a folder), moved onto `path`
    when the block ends without error, and removed when it does not. A folder already
    at `path` is replaced whole."""
    path = Path(path)
    temporary = temporary_for(path, suffix)
    try:
        yield temporary
        if temporary.is_dir() and path.is_dir():
            old = temporary_for(path)
            os.replace(path, old)
            os.replace(temporary, path)
            _remove(old)
        else:
            os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", newline: str | None = None) -> Iterator[TextIO]:
    """A temporary file beside `path`, open for writing, that replaces `path` when the
    block ends without error."""
    with atomic_path(path) as temporary, open(temporary, mode.replace("w", "x"),
                                              newline=newline) as file:
        yield file


def write_text(path: Path, text: str) -> None:
    with atomic_open(path) as file:
        file.write(text)


def read_json(path: Path, remedy: str) -> object:
    """The JSON value in `path`; a UserError naming the file and `remedy` (what to do)
    where it cannot be read or parsed."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is damaged ({error}); {remedy}") from error


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable]) -> None:
    with atomic_open(path, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
