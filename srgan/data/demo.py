"""The default data on a fresh clone: patches of scikit-image's bundled colour photos."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import skimage.data

from srgan.data.images import centred_tiles, list_images, resize_bicubic, save_png

log = logging.getLogger(__name__)

# Everyday colour photos that ship inside scikit-image (no download needed).
# Left out: colorwheel and logo (graphics), hubble_deep_field (mostly black sky),
# retina and immunohistochemistry (medical / microscope images).
DEMO_PHOTOS: tuple[str, ...] = ("astronaut", "chelsea", "coffee", "rocket", "stereo_motorcycle")
# Held out whole, so the test patches show a scene the generator never saw.
TEST_PHOTO = "coffee"
# At most this many patches per photo: keeps a demo epoch at the seed's defaults to about
# ten batches (under two minutes on a 2-core CPU),
# while each photo, downscaled if need be, still covers its whole scene.
MAX_PATCHES_PER_PHOTO = 48


def _demo_photo(name: str) -> np.ndarray:
    photo = getattr(skimage.data, name)()
    if isinstance(photo, tuple):  # stereo_motorcycle gives (left, right, disparity)
        photo = photo[0]
    return np.ascontiguousarray(photo[:, :, :3], dtype=np.uint8)


def _fit_patch_budget(photo: np.ndarray, hr_size: int) -> np.ndarray:
    height, width = photo.shape[:2]
    if (height // hr_size) * (width // hr_size) <= MAX_PATCHES_PER_PHOTO:
        return photo
    # Flooring the new sides keeps (h / hr) * (w / hr) at or under the budget.
    factor = math.sqrt(MAX_PATCHES_PER_PHOTO * hr_size * hr_size / (height * width))
    size = (int(width * factor), int(height * factor))
    return resize_bicubic(photo, *size)


def build_demo_set(data_dir: Path, hr_size: int = 48) -> tuple[int, int]:
    """Write the demo patches into data_dir/train/ and data_dir/test/; (n_train, n_test).

    Files already there are left as they are, never overwritten.
    """
    counts = {"train": 0, "test": 0}
    for name in DEMO_PHOTOS:
        split = "test" if name == TEST_PHOTO else "train"
        photo = _fit_patch_budget(_demo_photo(name), hr_size)
        for k, (_, _, patch) in enumerate(centred_tiles(photo, hr_size)):
            path = Path(data_dir) / split / f"{name}_{k:04d}.png"
            if not path.exists():
                save_png(path, patch)
            counts[split] += 1
    return counts["train"], counts["test"]


def fill_if_empty(data_dir: Path, hr_size: int = 48) -> None:
    """The demo set built in `data_dir` where its train/ holds no photo: what a fresh
    clone trains on when --data_dir is not given."""
    train_dir = Path(data_dir) / "train"
    if train_dir.is_dir() and list_images(train_dir):
        return
    n_train, n_test = build_demo_set(Path(data_dir), hr_size)
    log.info(f"{train_dir} was empty: built the demo set from scikit-image's photos "
             f"({n_train} training and {n_test} test patches of {hr_size} px). "
             "See docs/DATA.md to train on STL10 or DIV2K instead.")
