"""Fixtures shared by the test modules; helper functions are in tests/helpers.py."""

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import skimage.data  # noqa: E402

from srgan.data.images import save_png  # noqa: E402
from tests.helpers import write_run  # noqa: E402


def write_photos(folder: Path, train: int, test: int = 2) -> Path:
    """`train` 64x64 training crops and `test` test crops of real photos in `folder`."""
    photos = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee()]
    for i in [*range(train), *range(8, 8 + test)]:  # the test crops whatever `train` is
        photo = photos[i % 3]
        top, left = 25 * i, 30 * i
        split = "train" if i < train else "test"
        save_png(folder / split / f"photo{i}.png", photo[top:top + 64, left:left + 64])
    return folder


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """Eight 64x64 training crops and two test crops of real photos."""
    return write_photos(tmp_path_factory.mktemp("data"), 8)


@pytest.fixture(scope="session")
def data_dir_of(tmp_path_factory):
    """data_dir with `train` training crops (and the same two test crops), made once per
    count: for runs whose assertions do not depend on how many photos an epoch has, which
    cost a GAN step's time in proportion to its photos."""
    made: dict[int, Path] = {}

    def of(train: int) -> Path:
        if train not in made:
            made[train] = write_photos(tmp_path_factory.mktemp(f"data{train}"), train)
        return made[train]
    return of


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, object]:
    """A tiny trained run as training writes it (8 features, 1 block): (folder, generator)."""
    folder = tmp_path_factory.mktemp("run") / "checkpoint"
    return folder, write_run(folder)


class ServerState:
    """What the test server sends, and the Range headers it was asked for."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.ranges: list[str | None] = []
        self.cuts = 0  # how many of the next answers stop after cut_at bytes of body
        self.cut_at = 0
        self.ignore_range = False
        self.url = ""


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving `files` (by path) with Range requests, and
    cuts mid-transfer on demand."""
    state = ServerState()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.ranges.append(self.headers.get("Range"))
            data = state.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            start = 0
            asked = self.headers.get("Range")
            if asked and not state.ignore_range:
                start = int(asked.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            body = data[start:]
            if state.cuts:
                state.cuts -= 1
                body = body[: state.cut_at]  # then the connection closes: a cut mid-transfer
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
