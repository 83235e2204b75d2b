"""How much of a photo's fine detail an upscale has: the mean gradient magnitude of its Y
plane, against the HR's.

PSNR, SSIM and GMSD reward a model that averages the possible textures into a smooth
guess: an MSE-trained generator scores well on them and still looks soft. The ratio of
the SR's mean gradient to the HR's says how much of the HR's detail the SR has: about 1
for a photo as detailed as the original, below 1 for a blurred one (bicubic's is well
below), above 1 for one sharpened or with invented texture. It is no fidelity measure: a
wrong texture of the right strength scores 1 too, so it is read beside the others.
"""

import numpy as np

from srgan.metrics.color import check_image_pair, crop_border, rgb_to_y


def mean_gradient(image: np.ndarray, border: int = 0) -> float:
    """Mean of sqrt(dx^2 + dy^2) over the BT.601 Y plane (levels of 16..235) of a uint8
    HxWx3 RGB image, `border` px cropped, with forward differences: dx = Y[i, j+1] -
    Y[i, j] and dy = Y[i+1, j] - Y[i, j] at every pixel that has both neighbours."""
    y = rgb_to_y(crop_border(image, border))
    if min(y.shape) < 2:
        raise ValueError(f"a gradient needs at least 2x2 pixels, got {y.shape[1]}x{y.shape[0]}")
    dx = y[:-1, 1:] - y[:-1, :-1]
    dy = y[1:, :-1] - y[:-1, :-1]
    return float(np.mean(np.sqrt(dx * dx + dy * dy)))


def detail_ratio(detail: float, reference: float) -> float:
    """An SR's mean gradient over its HR's (or a set's sums): NaN for a flat HR."""
    return detail / reference if reference > 0 else float("nan")


def sharpness(hr: np.ndarray, sr: np.ndarray, border: int = 0) -> float:
    """mean_gradient(sr) / mean_gradient(hr): 1 is as detailed as the photo; NaN where
    the HR is flat (nothing to compare with)."""
    check_image_pair(hr, sr)
    return detail_ratio(mean_gradient(sr, border), mean_gradient(hr, border))
