"""Peak signal-to-noise ratio on the BT.601 Y plane, as SR tables report it."""

import math

import numpy as np

from srgan.metrics.color import check_image_pair, crop_border, rgb_to_y

_DATA_RANGE = 255.0


def psnr(hr: np.ndarray, sr: np.ndarray, border: int = 4) -> float:
    """PSNR in dB of uint8 HxWx3 RGB `sr` against `hr`.

    Y channel (float, not re-rounded), `border` pixels cropped from each side,
    data range 255. Identical images give float('inf').
    """
    check_image_pair(hr, sr)
    hr_y = crop_border(rgb_to_y(hr), border)
    sr_y = crop_border(rgb_to_y(sr), border)
    mse = float(np.mean((hr_y - sr_y) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(_DATA_RANGE**2 / mse)
