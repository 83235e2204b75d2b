"""Image grids for people to look at: training samples and test comparisons."""

import numpy as np


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    """The central size x size part (all of a smaller side), as a copy, not a view,
    so that a grid of crops does not keep whole photos alive."""
    height, width = image.shape[:2]
    top, left = max(0, (height - size) // 2), max(0, (width - size) // 2)
    return image[top:top + size, left:left + size].copy()


def image_grid(rows: list[list[np.ndarray]], gap: int) -> np.ndarray:
    """uint8 HxWx3 images on white, one grid row per list, `gap` px apart; each image
    at the top left of a cell as large as the largest."""
    height = max(image.shape[0] for row in rows for image in row)
    width = max(image.shape[1] for row in rows for image in row)
    columns = max(len(row) for row in rows)
    grid = np.full((len(rows) * (height + gap) - gap, columns * (width + gap) - gap, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            top, left = r * (height + gap), c * (width + gap)
            grid[top:top + image.shape[0], left:left + image.shape[1]] = image
    return grid
