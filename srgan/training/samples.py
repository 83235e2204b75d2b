"""Sample grids (LR | SR | HR) of fixed images, saved as training goes, as the seed did."""

from pathlib import Path

import keras
import numpy as np

from srgan.data.degrade import downsample, from_model, to_model
from srgan.data.images import ImageError, list_images, load_rgb

GAP = 2


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    top = (image.shape[0] - size) // 2
    left = (image.shape[1] - size) // 2
    return image[top:top + size, left:left + size]


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


def sample_grid(generator: keras.Model, hr: np.ndarray, scale: int = 4) -> np.ndarray:
    """One row per image: LR (nearest-upsized, to show its pixels) | SR | HR, uint8."""
    lr = downsample(hr, scale)
    sr = from_model(generator(to_model(lr), training=False)).numpy()
    lr = np.repeat(np.repeat(lr.numpy().astype(np.uint8), scale, axis=1), scale, axis=2)
    height, width = hr.shape[1:3]
    grid = np.full((len(hr) * (height + GAP) - GAP, 3 * (width + GAP) - GAP, 3), 255, np.uint8)
    for row, images in enumerate(zip(lr, sr, hr)):
        top = row * (height + GAP)
        for column, image in enumerate(images):
            left = column * (width + GAP)
            grid[top:top + height, left:left + width] = image
    return grid
