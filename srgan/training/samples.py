"""Sample grids (LR | SR | HR, titled) of fixed images, saved as training goes, as the seed did."""

from pathlib import Path

import keras
import numpy as np

from srgan.data.degrade import downsample, from_model, to_model
from srgan.data.images import ImageError, centre_crop, list_images, load_rgb
from srgan.evaluation.grids import image_grid, nearest_upsized, sr_title

GAP = 2


def validation_batch(folder: Path, count: int, hr_size: int) -> np.ndarray | None:
    """Centre crops of `count` photos spread over `folder`, or None if it has none.

    Reads only the photos it uses: a test split can hold thousands.
    """
    paths = list_images(folder) if folder.is_dir() else []
    crops = []
    for index in np.linspace(0, len(paths) - 1, num=min(count, len(paths)), dtype=int):
        try:
            image = load_rgb(paths[index])
        except ImageError:
            continue
        if min(image.shape[:2]) >= hr_size:
            crops.append(centre_crop(image, hr_size))
    return np.stack(crops) if crops else None


def sample_grid(generator: keras.Model, hr: np.ndarray, model: str, scale: int = 4) -> np.ndarray:
    """One row per image: LR (nearest-upsized, to show its pixels) | SR | HR, uint8,
    under column titles; `model` names the generator in the SR column's."""
    lr = downsample(hr, scale)
    sr = np.asarray(from_model(generator(to_model(lr), training=False)))
    lr = nearest_upsized(np.asarray(lr).astype(np.uint8), scale)
    return image_grid([list(images) for images in zip(lr, sr, hr)], GAP,
                      ["LR", sr_title(model), "HR"])
