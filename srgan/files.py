"""Writing small text files atomically: a reader, or a run killed midway, never sees
half a settings.json, metrics.csv or summary."""

import contextlib
import csv
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def atomic_open(path: Path, newline: str | None = None) -> Iterator[TextIO]:
    """A hidden temporary file beside `path`, open for text, that replaces `path`
    only when the block ends without error (and is removed when it does not)."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", newline=newline) as file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    with atomic_open(path) as file:
        file.write(text)


def write_csv(path: Path, header: Iterable[str], rows: Iterable[Iterable]) -> None:
    with atomic_open(path, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
