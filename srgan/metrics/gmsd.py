"""Gradient magnitude similarity deviation (Xue, Zhang, Mou & Bovik 2014).

Follows the authors' MATLAB GMSD.m: gray 0..255, `conv2(Y, ones(2)/4, 'same')`
then `(1:2:end, 1:2:end)`, Prewitt gradients `conv2(Y, [1 0 -1]x3 / 3, 'same')`
with zero padding, GMS = (2 m1 m2 + c) / (m1^2 + m2^2 + c) with c = 170, score =
std2 (N-1) of the GMS map. Lower is better; 0 for identical images. Unlike PSNR
and SSIM, no border is cropped: the published GMSD is defined on the whole image.
"""

import numpy as np

from srgan.metrics.color import check_image_pair, rgb_to_gray

_C = 170.0


def _average_downsample(gray: np.ndarray) -> np.ndarray:
    """MATLAB `conv2(x, ones(2)/4, 'same')` then rows/cols 0, 2, 4, ...

    That 'same' output at (i, j) is the mean of x[i:i+2, j:j+2] with zeros past the
    bottom/right edge, so the kept pixels are the 2x2 block means; an odd side's
    last block is half zeros. A side of n becomes ceil(n / 2).
    """
    height, width = gray.shape
    padded = np.pad(gray, ((0, height % 2), (0, width % 2)))
    return padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).mean(
        axis=(1, 3)
    )


def _gradient_magnitude(plane: np.ndarray) -> np.ndarray:
    """Prewitt gradient magnitude, 'same' size, zero padding outside the plane."""
    padded = np.pad(plane, 1)
    # Sums over the 3 rows (for the horizontal gradient) or 3 columns (vertical).
    row_sums = padded[:-2, :] + padded[1:-1, :] + padded[2:, :]
    column_sums = padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]
    horizontal = (row_sums[:, :-2] - row_sums[:, 2:]) / 3.0
    vertical = (column_sums[:-2, :] - column_sums[2:, :]) / 3.0
    return np.sqrt(horizontal**2 + vertical**2)


def gmsd(hr: np.ndarray, sr: np.ndarray) -> float:
    """GMSD of uint8 HxWx3 RGB `sr` against `hr` (no border crop). Lower is better."""
    check_image_pair(hr, sr)
    m1 = _gradient_magnitude(_average_downsample(rgb_to_gray(hr)))
    m2 = _gradient_magnitude(_average_downsample(rgb_to_gray(sr)))
    if m1.size < 2:
        raise ValueError(
            f"GMSD needs at least 2 pixels after 2x downsampling; a "
            f"{hr.shape[0]}x{hr.shape[1]} image gives {m1.size}"
        )
    gms = (2 * m1 * m2 + _C) / (m1**2 + m2**2 + _C)
    return float(np.std(gms, ddof=1))
