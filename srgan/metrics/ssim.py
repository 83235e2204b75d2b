"""Structural similarity (Wang et al. 2004) on the BT.601 Y plane.

11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03, L 255, 'valid' filtering
(only windows fully inside the image), population (co)variances: the settings of
Wang's MATLAB ssim.m, which published SR tables use.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from srgan.metrics.color import check_image_pair, crop_border, rgb_to_y

WINDOW_SIZE = 11
SIGMA = 1.5
K1 = 0.01
K2 = 0.03
_DATA_RANGE = 255.0
_C1 = (K1 * _DATA_RANGE) ** 2
_C2 = (K2 * _DATA_RANGE) ** 2


def _gaussian_1d() -> np.ndarray:
    offsets = np.arange(WINDOW_SIZE) - (WINDOW_SIZE - 1) / 2
    kernel = np.exp(-(offsets**2) / (2 * SIGMA**2))
    return kernel / kernel.sum()


_KERNEL = _gaussian_1d()


def _filter_valid(plane: np.ndarray) -> np.ndarray:
    """Gaussian-weighted local means over every window that fits (separable)."""
    rows = sliding_window_view(plane, WINDOW_SIZE, axis=0) @ _KERNEL
    return sliding_window_view(rows, WINDOW_SIZE, axis=1) @ _KERNEL


def _ssim_components(y1: np.ndarray, y2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Luminance and contrast-structure maps of two float64 planes (L = 255).

    Each map is (H-10)x(W-10); their product is the SSIM map. MS-SSIM needs the
    contrast-structure term on its own at the finer scales.
    """
    if min(y1.shape) < WINDOW_SIZE:
        raise ValueError(
            f"SSIM needs planes of at least {WINDOW_SIZE}x{WINDOW_SIZE} px, "
            f"got {y1.shape[0]}x{y1.shape[1]}"
        )
    mu1 = _filter_valid(y1)
    mu2 = _filter_valid(y2)
    var1 = _filter_valid(y1 * y1) - mu1 * mu1
    var2 = _filter_valid(y2 * y2) - mu2 * mu2
    cov = _filter_valid(y1 * y2) - mu1 * mu2
    luminance = (2 * mu1 * mu2 + _C1) / (mu1 * mu1 + mu2 * mu2 + _C1)
    contrast_structure = (2 * cov + _C2) / (var1 + var2 + _C2)
    return luminance, contrast_structure


def ssim_map(y1: np.ndarray, y2: np.ndarray) -> np.ndarray:
    """Local SSIM of two float64 0..255 planes, one value per fitting window."""
    luminance, contrast_structure = _ssim_components(y1, y2)
    return luminance * contrast_structure


def ssim(hr: np.ndarray, sr: np.ndarray, border: int = 4) -> float:
    """Mean SSIM of uint8 HxWx3 RGB `sr` against `hr`, Y channel, border cropped."""
    check_image_pair(hr, sr)
    hr_y = crop_border(rgb_to_y(hr), border)
    sr_y = crop_border(rgb_to_y(sr), border)
    return float(np.mean(ssim_map(hr_y, sr_y)))
