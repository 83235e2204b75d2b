"""Downloading one large file over HTTP: resumable, checked for disk space and checksum.

The bytes go to TARGET.part; a cut connection is resumed with an HTTP Range request,
both within one call and by the next call, and TARGET appears only once the file is
complete and its MD5 matches.
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from srgan.errors import UserError

# Tries per call; each one after the first resumes where the last stopped.
ATTEMPTS = 3
RETRY_PAUSE_S = 2.0
TIMEOUT_S = 60.0
# Left free on top of what a download needs: a full disk breaks more than the download.
MARGIN_BYTES = 256 * 2**20
_BLOCK = 2**20


class _Interrupted(Exception):
    """The transfer stopped early or cannot continue from the bytes already there."""


def describe_bytes(count: int) -> str:
    """A byte count for people: '2.64 GB', '310.5 MB'."""
    return f"{count / 1e9:.2f} GB" if count >= 1e9 else f"{count / 1e6:.1f} MB"


def check_free_space(folder: Path, needed: int, purpose: str) -> None:
    """Raise UserError unless `folder`'s disk has `needed` bytes (plus a margin) free."""
    free = shutil.disk_usage(folder).free
    needed += MARGIN_BYTES
    if free < needed:
        raise UserError(
            f"not enough disk space for {purpose}: it needs {describe_bytes(needed)} free in "
            f"{folder} and {describe_bytes(free)} is free. Free some space, or pass "
            "--data_dir on a disk with more room.")


def file_md5(path: Path) -> str:
    """The MD5 of the file at `path`, as 32 lowercase hex digits."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as file:
        while block := file.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, target: Path, md5: str | None, size_hint: int | None = None,
             reserve: int = 0) -> Path:
    """Download `url` to `target` and return `target`; a file already there is kept as is.

    `md5`: the expected checksum (None: not checked). `size_hint`: the file's size,
    assumed for the free-space check when the server does not send it. `reserve`: bytes
    that must stay free beyond the file (for extracting it, say).
    """
    target = Path(target)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    failure: object = None
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(RETRY_PAUSE_S)
        try:
            _fetch(url, part, size_hint, reserve)
            break
        except urllib.error.HTTPError as error:
            raise UserError(f"cannot download {url}: the server answered {error.code} {error.reason}. "
                            "Download the file by hand and pass --source PATH_TO_IT.") from error
        except urllib.error.URLError as error:
            failure = error.reason
        except (_Interrupted, ConnectionError, TimeoutError, http.client.HTTPException) as error:
            failure = error
    else:
        kept = part.stat().st_size if part.exists() else 0
        advice = (f"The {describe_bytes(kept)} received are kept in {part}: run the same command "
                  "again to resume" if kept else "Check the network connection and try again")
        raise UserError(f"cannot download {url}: {failure}. {advice}, or download the file "
                        "by hand and pass --source PATH_TO_IT.")
    _verify(part, md5, url)
    part.replace(target)
    return target


def _fetch(url: str, part: Path, size_hint: int | None, reserve: int) -> None:
    """One request: appends the rest of the file to `part`; _Interrupted if it stops short."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                          timeout=TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code != 416 or not offset:
            raise
        # Nothing left to send from `offset`: either the file is complete, or the server's
        # file is shorter than ours and only a fresh download can fix it.
        if _range_total(error.headers.get("Content-Range", "")) == offset:
            return
        part.unlink()
        raise _Interrupted(f"the server has no bytes past {offset}; starting over") from error
    with response:
        if response.status == 206:
            start, total = _parse_content_range(response.headers.get("Content-Range", ""))
            if start != offset:
                part.unlink()
                raise _Interrupted(f"the server resumed at byte {start}, not {offset}; starting over")
        else:
            # The server ignored the Range request: its body is the whole file.
            offset = 0
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        expected = total if total is not None else size_hint or 0
        check_free_space(part.parent, max(expected - offset, 0) + reserve, f"downloading {url}")
        with open(part, "ab" if offset else "wb") as file, tqdm(
            total=total, initial=offset, desc=part.name.removesuffix(".part"), unit="B",
            unit_scale=True, unit_divisor=1024,
        ) as bar:
            while block := response.read(_BLOCK):
                file.write(block)
                bar.update(len(block))
    received = part.stat().st_size
    if total is not None and received < total:
        raise _Interrupted(f"the connection closed after {describe_bytes(received)} "
                           f"of {describe_bytes(total)}")


def _parse_content_range(header: str) -> tuple[int, int | None]:
    """(first byte, total size or None) from 'bytes FIRST-LAST/TOTAL'."""
    try:
        unit, _, spec = header.partition(" ")
        span, _, total = spec.partition("/")
        if unit != "bytes":
            raise ValueError(header)
        return int(span.partition("-")[0]), None if total == "*" else int(total)
    except ValueError:
        raise _Interrupted(f"the server sent an unusable Content-Range {header!r}") from None


def _range_total(header: str) -> int | None:
    """The total size from a 416 answer's 'bytes */TOTAL', or None."""
    total = header.rpartition("/")[2]
    return int(total) if total.isdigit() else None


def _verify(part: Path, md5: str | None, url: str) -> None:
    if md5 is None:
        return
    actual = file_md5(part)
    if actual != md5.lower():
        part.unlink()
        raise UserError(
            f"the download of {url} is corrupt: its MD5 is {actual}, expected {md5.lower()}. "
            "The file was deleted: run the same command again to download it afresh, or "
            "download it by hand and pass --source PATH_TO_IT.")
