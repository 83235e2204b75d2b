"""Image grids for people to look at: training samples and test comparisons, each
column titled (LR, bicubic, SR and the model, HR) in Pillow's built-in font."""

import itertools
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Title size per pixel of cell height: 10 px type over 48 px cells, 16 px over 256 px ones.
_TYPE_PER_PX = 1 / 16
_MIN_TYPE = 10


def nearest_upsized(images: np.ndarray, scale: int) -> np.ndarray:
    """An image (HxWxC) or a batch of them (NxHxWxC), each pixel made a scale x scale
    block: an LR image at its SR's size that shows its pixels."""
    return np.repeat(np.repeat(images, scale, axis=-3), scale, axis=-2)


def sr_title(model: str) -> str:
    """The title of a column of generated images: 'SR (the model that made them)'."""
    return f"SR ({model})"


def _font(cell_height: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(_MIN_TYPE, round(cell_height * _TYPE_PER_PX)))


def title_band(cell_height: int, gap: int) -> int:
    """The height of the titles above a grid of cells `cell_height` px high: a line of
    type and a gap."""
    ascent, descent = _font(cell_height).getmetrics()
    return ascent + descent + gap


def image_grid(rows: list[list[np.ndarray]], gap: int, titles: list[str]) -> np.ndarray:
    """uint8 HxWx3 images on white, one grid row per list, `gap` px apart, under a title
    centred over each column. Each image lies at the top left of a cell as large as the
    largest; a column is as wide as its cell, or as its title where that is wider, and
    its cells are centred in it."""
    height = max(image.shape[0] for row in rows for image in row)
    width = max(image.shape[1] for row in rows for image in row)
    columns = max(len(row) for row in rows)
    if len(titles) != columns:
        raise ValueError(f"{len(titles)} titles for {columns} columns")
    font = _font(height)
    band = title_band(height, gap)
    texts = [math.ceil(font.getlength(title)) for title in titles]
    space = math.ceil(font.getlength(" "))  # between a wide title and the next
    widths = [width if text <= width else text + space for text in texts]
    lefts = list(itertools.accumulate([0] + [w + gap for w in widths[:-1]]))
    canvas = Image.new("RGB", (sum(widths) + gap * (columns - 1),
                               band + len(rows) * (height + gap) - gap), "white")
    draw = ImageDraw.Draw(canvas)
    for left, column, text, title in zip(lefts, widths, texts, titles):
        draw.text((left + (column - text) // 2, 0), title, fill="black", font=font)
    grid = np.asarray(canvas).copy()
    for r, row in enumerate(rows):
        top = band + r * (height + gap)
        for left, column, image in zip(lefts, widths, row):
            left += (column - width) // 2
            grid[top:top + image.shape[0], left:left + image.shape[1]] = image
    return grid
