"""Fixtures shared by the test modules; helper functions are in tests/helpers.py."""

import os

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
