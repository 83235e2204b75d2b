"""Colour planes, border cropping and the input checks shared by every metric.

Published SR tables score the Y plane of BT.601 YCbCr (PSNR, SSIM, MS-SSIM) or a
plain luma (GMSD); both are computed here in float64 from 0..255 RGB.
"""

import numpy as np

# BT.601 "studio swing" luma for RGB in [0, 1]: Y in 16..235, as MATLAB's rgb2ycbcr.
_Y_OFFSET = 16.0
_Y_WEIGHTS = np.array([65.481, 128.553, 24.966])
# MATLAB's rgb2gray weights, which Xue et al.'s GMSD code uses.
_GRAY_WEIGHTS = np.array([0.2989, 0.5870, 0.1140])


def _check_rgb(image: np.ndarray) -> None:
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {image.shape}")


def rgb_to_y(image: np.ndarray) -> np.ndarray:
    """Y of BT.601 YCbCr (16..235), float64, from uint8 or float 0..255 HxWx3 RGB.

    Not rounded to integers: the float plane is what the metrics compare.
    """
    _check_rgb(image)
    rgb = np.asarray(image, dtype=np.float64) / 255.0
    return _Y_OFFSET + rgb @ _Y_WEIGHTS


def rgb_to_gray(image: np.ndarray) -> np.ndarray:
    """Luma 0.2989 R + 0.5870 G + 0.1140 B, float64 0..255, from 0..255 HxWx3 RGB."""
    _check_rgb(image)
    return np.asarray(image, dtype=np.float64) @ _GRAY_WEIGHTS


def crop_border(image: np.ndarray, border: int) -> np.ndarray:
    """Drop `border` pixels from each side of an HxW or HxWxC image."""
    if border < 0:
        raise ValueError(f"border must be >= 0, got {border}")
    height, width = image.shape[:2]
    if 2 * border >= min(height, width):
        raise ValueError(
            f"a border of {border} px leaves nothing of a {height}x{width} image; "
            "use a smaller border or larger images"
        )
    if border == 0:
        return image
    return image[border:-border, border:-border]


def check_image_pair(hr: np.ndarray, sr: np.ndarray) -> None:
    """Raise ValueError unless hr and sr are uint8 HxWx3 RGB images of one shape.

    SR output must be rounded to uint8 before scoring, as published tables do;
    accepting floats here would silently score an unrounded image.
    """
    for name, image in (("hr", hr), ("sr", sr)):
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            dtype = getattr(image, "dtype", type(image).__name__)
            raise ValueError(
                f"{name} must be a uint8 numpy array (round SR to uint8 first), "
                f"got {dtype}"
            )
        _check_rgb(image)
    if hr.shape != sr.shape:
        raise ValueError(f"hr and sr shapes differ: {hr.shape} vs {sr.shape}")


def channel_bias(hr: np.ndarray, sr: np.ndarray) -> np.ndarray:
    """Mean signed error of R, G and B in levels (SR - HR) over pixels of any shape [..., 3]:
    a generator whose output is tinted has a channel far from 0 where bicubic has none."""
    if hr.shape != sr.shape or hr.shape[-1] != 3:
        raise ValueError(f"expected two RGB arrays of one shape, got {hr.shape} and {sr.shape}")
    difference = np.asarray(sr, np.float64) - np.asarray(hr, np.float64)
    return difference.reshape(-1, 3).mean(axis=0)
