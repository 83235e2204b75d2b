"""Fixtures shared by the test modules; helper functions are in tests/helpers.py."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import skimage.data  # noqa: E402

from srgan.data.images import save_png  # noqa: E402
from tests.helpers import write_run  # noqa: E402


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """Eight 64x64 training crops and two test crops of real photos."""
    folder = tmp_path_factory.mktemp("data")
    photos = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee()]
    for i in range(10):
        photo = photos[i % 3]
        top, left = 25 * i, 30 * i
        split = "train" if i < 8 else "test"
        save_png(folder / split / f"photo{i}.png", photo[top:top + 64, left:left + 64])
    return folder


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, object]:
    """A tiny trained run as training writes it (8 features, 1 block): (folder, generator)."""
    folder = tmp_path_factory.mktemp("run") / "checkpoint"
    return folder, write_run(folder)
