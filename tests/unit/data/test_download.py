"""The resumable download, against a local HTTP server on 127.0.0.1 with Range support
(the `server` fixture, in conftest.py)."""

from __future__ import annotations

import hashlib
import io
import shutil
import socket
import tarfile
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from srgan.data import download as download_module
from srgan.data import stl10
from srgan.data.download import download
from srgan.data.prepare import prepare
from srgan.errors import UserError

PAYLOAD = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
MD5 = hashlib.md5(PAYLOAD).hexdigest()


@pytest.fixture
def server(server):
    """conftest's server, serving PAYLOAD as /file.bin."""
    server.files["/file.bin"] = PAYLOAD
    return server


@pytest.fixture(autouse=True)
def no_retry_pause(monkeypatch) -> None:
    monkeypatch.setattr(download_module, "RETRY_PAUSE_S", 0.0)


def test_download_shows_progress_and_verifies(tmp_path: Path, server, capsys) -> None:
    target = download(f"{server.url}/file.bin", tmp_path / "dl" / "file.bin", MD5)
    assert target == tmp_path / "dl" / "file.bin" and target.read_bytes() == PAYLOAD
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]
    assert server.ranges == [None]
    progress = capsys.readouterr().err
    assert "file.bin" in progress and "100%" in progress
    download(f"{server.url}/file.bin", target, MD5)  # already there: no request
    assert server.ranges == [None]


def test_cut_connection_is_resumed_by_the_next_call(tmp_path: Path, server, monkeypatch) -> None:
    monkeypatch.setattr(download_module, "ATTEMPTS", 1)
    server.cuts, server.cut_at = 1, 120_000
    target = tmp_path / "file.bin"
    with pytest.raises(UserError, match="run the same command again to resume"):
        download(f"{server.url}/file.bin", target, MD5)
    part = tmp_path / "file.bin.part"
    assert not target.exists() and part.read_bytes() == PAYLOAD[:120_000]
    download(f"{server.url}/file.bin", target, MD5)
    assert server.ranges == [None, "bytes=120000-"]
    assert target.read_bytes() == PAYLOAD and not part.exists()


def test_cut_connection_is_resumed_within_a_call(tmp_path: Path, server) -> None:
    server.cuts, server.cut_at = 2, 50_000
    download(f"{server.url}/file.bin", tmp_path / "file.bin", MD5)
    assert server.ranges == [None, "bytes=50000-", "bytes=100000-"]
    assert (tmp_path / "file.bin").read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_cleanly(tmp_path: Path, server) -> None:
    (tmp_path / "file.bin.part").write_bytes(PAYLOAD[:70_000])
    server.ignore_range = True
    download(f"{server.url}/file.bin", tmp_path / "file.bin", MD5)
    assert server.ranges == ["bytes=70000-"]
    assert (tmp_path / "file.bin").read_bytes() == PAYLOAD


def test_complete_part_file_is_verified_after_416(tmp_path: Path, server) -> None:
    (tmp_path / "file.bin.part").write_bytes(PAYLOAD)
    download(f"{server.url}/file.bin", tmp_path / "file.bin", MD5)
    assert server.ranges == [f"bytes={len(PAYLOAD)}-"]
    assert (tmp_path / "file.bin").read_bytes() == PAYLOAD


def test_checksum_mismatch_deletes_the_file(tmp_path: Path, server) -> None:
    with pytest.raises(UserError, match="corrupt.*deleted"):
        download(f"{server.url}/file.bin", tmp_path / "file.bin", "0" * 32)
    assert list(tmp_path.iterdir()) == []


def test_disk_space_is_checked_before_downloading(tmp_path: Path, server, monkeypatch) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 10**12 - 10**6, 10**6))
    with pytest.raises(UserError, match=r"not enough disk space.*1\.0 MB is free"):
        download(f"{server.url}/file.bin", tmp_path / "file.bin", MD5)
    assert list(tmp_path.iterdir()) == []


def test_network_failures_say_to_download_by_hand(tmp_path: Path, server) -> None:
    with socket.socket() as probe:  # a port on 127.0.0.1 that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(UserError, match="by hand and pass --source"):
        download(f"http://127.0.0.1:{closed_port}/file.bin", tmp_path / "a.bin", MD5)
    with pytest.raises(UserError, match="404.*by hand"):
        download(f"{server.url}/missing.bin", tmp_path / "b.bin", MD5)
    assert list(tmp_path.iterdir()) == []


def test_prepare_stl10_downloads_extracts_and_converts(tmp_path: Path, server, monkeypatch) -> None:
    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, count in (("train_X.bin", 3), ("test_X.bin", 4), ("unlabeled_X.bin", 2)):
            data = rng.integers(0, 256, count * stl10.IMAGE_BYTES, dtype=np.uint8).tobytes()
            info = tarfile.TarInfo(f"stl10_binary/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = buffer.getvalue()
    server.files["/stl10_binary.tar.gz"] = archive
    server.cuts, server.cut_at = 1, len(archive) // 3
    monkeypatch.setattr(stl10, "STL10_URL", f"{server.url}/stl10_binary.tar.gz")
    monkeypatch.setattr(stl10, "STL10_MD5", hashlib.md5(archive).hexdigest())
    monkeypatch.setattr(stl10, "STL10_EXTRACTED_BYTES", 0)
    summary = prepare("stl10", tmp_path / "data", unlabeled=2)
    assert summary.written == {"train": 5, "test": 4}
    assert server.ranges == [None, f"bytes={len(archive) // 3}-"]
    downloads = tmp_path / "data" / "downloads"
    assert sorted(p.name for p in downloads.iterdir()) == ["stl10_binary", "stl10_binary.tar.gz"]
    assert prepare("stl10", tmp_path / "data").kept == {"train": 3, "test": 4}
    assert len(server.ranges) == 2  # the extraction is reused: no second download


def test_stl10_options_are_checked_before_downloading(tmp_path: Path, server, monkeypatch) -> None:
    monkeypatch.setattr(stl10, "STL10_URL", f"{server.url}/stl10_binary.tar.gz")
    for options, message in (({"size": 128}, "larger than"), ({"patch": 48}, "photo folders")):
        with pytest.raises(UserError, match=message):
            prepare("stl10", tmp_path / "data", **options)
    assert server.ranges == [] and not (tmp_path / "data").exists()
