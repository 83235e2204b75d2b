"""--mode=prepare --source div2k: DIV2K's two zips from a mirror on 127.0.0.1 (the
`server` fixture, in conftest.py) or from disk, and zips as hostile as the tar archives."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan import cli
from srgan.data import div2k
from srgan.data import download as download_module
from srgan.data.prepare import prepare
from srgan.errors import UserError
from tests.helpers import photo

TRAIN, VALID = div2k.PARTS
SIZES = {"0001": (80, 64), "0002": (64, 96), "0003": (100, 70), "0801": (72, 72), "0802": (96, 64)}


def png(name: str) -> bytes:
    height, width = SIZES[name]
    buffer = io.BytesIO()
    Image.fromarray(photo(height, width, "chelsea" if name < "0800" else "coffee")).save(buffer, "PNG")
    return buffer.getvalue()


def div2k_zip(part: div2k.Part, extra: dict[str, bytes] | None = None) -> bytes:
    """`part`'s zip in DIV2K's layout (a folder entry, then its PNGs), with `extra` members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{part.folder}/", b"")
        for name in SIZES:
            if (name < "0800") == (part is TRAIN):
                archive.writestr(f"{part.folder}/{name}.png", png(name))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img)


def files_under(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def mirror(server, monkeypatch):
    """The server holding the two small zips as DIV2K's mirror; the parts' checksums are theirs."""
    zips = {part.split: div2k_zip(part) for part in div2k.PARTS}
    for part in div2k.PARTS:
        server.files[f"/div2k/{part.archive}"] = zips[part.split]
    monkeypatch.setattr(div2k, "PARTS", tuple(
        dataclasses.replace(part, md5=hashlib.md5(zips[part.split]).hexdigest(),
                            archive_bytes=len(zips[part.split])) for part in div2k.PARTS))
    monkeypatch.setattr(download_module, "RETRY_PAUSE_S", 0.0)
    return server


def test_div2k_from_a_mirror_fills_train_and_test_with_its_own_split(tmp_path, mirror, capsys):
    data = tmp_path / "data"
    mirror.cuts, mirror.cut_at = 1, 500  # the first zip's download is cut, and resumed
    assert cli.main(["--mode=prepare", "--source", "div2k", "--mirror", f"{mirror.url}/div2k/",
                     "--data_dir", str(data)]) == 0
    out = capsys.readouterr()
    assert f"{data / 'train'}: 3 written" in out.out and f"{data / 'test'}: 2 written" in out.out
    assert "DIV2K_train_HR" in out.err and "100%" in out.err  # the progress bars
    assert sorted(p.name for p in (data / "train").iterdir()) == [
        "div2k_0001.png", "div2k_0002.png", "div2k_0003.png"]
    assert sorted(p.name for p in (data / "test").iterdir()) == ["div2k_0801.png", "div2k_0802.png"]
    for name in SIZES:
        split = "train" if name < "0800" else "test"
        assert np.array_equal(pixels(data / split / f"div2k_{name}.png"),
                              np.asarray(Image.open(io.BytesIO(png(name)))))
    assert sorted(p.name for p in (data / "downloads").iterdir()) == [TRAIN.archive, VALID.archive]
    assert mirror.ranges == [None, "bytes=500-", None]
    # A rerun reuses the downloads and keeps every photo.
    summary = prepare("div2k", data, mirror=f"{mirror.url}/div2k")
    assert summary.kept == {"train": 3, "test": 2} and summary.written == {"train": 0, "test": 0}
    assert len(mirror.ranges) == 3


def test_div2k_zips_or_folders_on_disk_and_tiles(tmp_path):
    source = tmp_path / "DIV2K"
    source.mkdir()
    (source / TRAIN.archive).write_bytes(div2k_zip(TRAIN))
    with zipfile.ZipFile(io.BytesIO(div2k_zip(VALID))) as archive:
        archive.extractall(source)  # the validation photos as an extracted folder
    summary = prepare(str(source), tmp_path / "whole")
    assert summary.written == {"train": 3, "test": 2} and summary.source == f"DIV2K from {source}"
    # The path of one zip finds the other part beside it; --patch tiles as for a folder.
    tiles = prepare(str(source / TRAIN.archive), tmp_path / "tiles", patch=48, test_patch=64)
    # 80x64 px: 1x1 tiles of 48; 64x96: 1x2; 100x70: 2x1; each test photo 1x1 tile of 64.
    assert tiles.written == {"train": 5, "test": 2}
    assert (tmp_path / "tiles" / "train" / "div2k_0002_r00_c01.png").is_file()
    assert pixels(tmp_path / "tiles" / "test" / "div2k_0801_r00_c00.png").shape == (64, 64, 3)


def test_a_folder_with_half_of_div2k_is_refused(tmp_path):
    (tmp_path / TRAIN.archive).write_bytes(div2k_zip(TRAIN))
    with pytest.raises(UserError, match=f"only part of DIV2K: {VALID.archive}"):
        prepare(str(tmp_path), tmp_path / "data")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("flags, says", [
    (["--source", "stl10", "--mirror", "http://127.0.0.1:1/"], "--mirror applies to --source div2k"),
    (["--source", "div2k", "--mirror", "ftp://host/div2k/"], "must be an http:// or https:// URL"),
    (["--source", "div2k", "--test_fraction", "0.2"], "--test_fraction applies to photo folders"),
    (["--source", "div2k", "--unlabeled", "5"], "--unlabeled applies to STL10 only"),
    (["--source", "div2k", "--hr", "downsize"], "--hr downsize for DIV2K needs --patch"),
])
def test_div2k_options_are_checked_before_downloading(tmp_path, server, capsys, flags, says):
    status = cli.main(["--mode=prepare", "--data_dir", str(tmp_path / "data"), *flags])
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert status == 1 and line.startswith("error: ") and says in line, line
    assert server.ranges == [] and not (tmp_path / "data").exists()


def symlink_member() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(f"{TRAIN.folder}/0004.png")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def with_member(info: zipfile.ZipInfo | str, data: bytes, compress: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO(div2k_zip(TRAIN))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(info, data, compress_type=compress)
    return buffer.getvalue()


def damaged_data() -> bytes:
    archive = bytearray(div2k_zip(TRAIN))
    start = archive.index(png("0002")[:64])  # the stored bytes of one photo, mid-archive
    archive[start + 100 : start + 140] = bytes(40)
    return bytes(archive)


@pytest.mark.parametrize("archive, says", [
    (lambda: with_member("../evil.png", png("0001")), "a path outside the archive's folder"),
    (lambda: with_member("/tmp/evil.png", png("0001")), "a path outside the archive's folder"),
    (lambda: with_member(symlink_member(), b"/etc/passwd"), "a symbolic link"),
    (lambda: with_member(f"{TRAIN.folder}/0004.png", bytes(8 * 2**20), zipfile.ZIP_DEFLATED),
     "a zip bomb"),
    (lambda: div2k_zip(TRAIN)[:-200], "damaged or incomplete"),
    (damaged_data, "damaged or incomplete"),
], ids=["dot-dot", "absolute", "symlink", "bomb", "truncated", "damaged"])
def test_a_hostile_zip_is_one_line_and_writes_nothing_outside_the_data_folder(
        tmp_path, capsys, archive, says):
    source = tmp_path / "source"
    source.mkdir()
    (source / TRAIN.archive).write_bytes(archive())
    (source / VALID.archive).write_bytes(div2k_zip(VALID))
    before = files_under(tmp_path)
    data = tmp_path / "data"
    status = cli.main(["--mode=prepare", "--source", str(source), "--data_dir", str(data)])
    err = capsys.readouterr().err
    line = err.strip().splitlines()[-1]
    assert status == 1 and "Traceback" not in err and line.startswith("error: "), err
    assert says in line and TRAIN.archive in line, line
    after = files_under(tmp_path)
    assert {name for name in after - before if not name.startswith("data/")} == set()
    written = files_under(data) if data.exists() else set()
    # The archive is refused before any photo is written, except for damage found only in
    # a photo's own bytes: the photos before it are whole, and no half-written file is left.
    assert written <= {"train/div2k_0001.png"}, written
