"""Multi-scale SSIM (Wang, Simoncelli & Bovik 2003), the metric (the training loss's
differentiable variant is srgan/losses/content.py's `batch_ms_ssim`).

MS-SSIM = prod_{j<M} cs_j ** w_j * ssim_M ** w_M: the mean contrast-structure term
at every scale but the coarsest, the mean SSIM (luminance too) at the coarsest.
Between scales each side is halved by 2x2 averaging; an odd side first gets its
last row/column repeated, so a side of n becomes ceil(n / 2). That is Wang's MATLAB
(`imfilter(x, ones(2)/4, 'symmetric')` then `x(1:2:end, 1:2:end)`) and
`tf.image.ssim_multiscale` (SYMMETRIC pad, then 2x2 VALID average pool).
"""

import numpy as np

from srgan.metrics.color import check_image_pair, crop_border, rgb_to_y
from srgan.metrics.ssim import WINDOW_SIZE, _ssim_components

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim_scales(size: int) -> int:
    """How many MS-SSIM scales fit an image whose smaller side is `size` px.

    After k-1 halvings a side of n is ceil(n / 2**(k-1)) px (odd sides are padded,
    see the module docstring), and the 11-px window fits iff that is >= 11, i.e.
    n / 2**(k-1) > 10, i.e. n >= 10 * 2**(k-1) + 1. So the count is the largest
    k <= 5 with (11 - 1) * 2**(k-1) + 1 <= size: 5 from 161 px up, 4 from 81,
    3 from 41, 2 from 21, 1 from 11, and 0 below 11 (not even one scale fits).
    """
    scales = 0
    while (
        scales < len(MS_SSIM_WEIGHTS)
        and (WINDOW_SIZE - 1) * 2**scales + 1 <= size
    ):
        scales += 1
    return scales


def ms_ssim_weights(scales: int) -> tuple[float, ...]:
    """The first `scales` standard weights, renormalised to sum to 1."""
    if not 1 <= scales <= len(MS_SSIM_WEIGHTS):
        raise ValueError(
            f"MS-SSIM uses 1 to {len(MS_SSIM_WEIGHTS)} scales, got {scales}"
        )
    kept = MS_SSIM_WEIGHTS[:scales]
    total = sum(kept)
    return tuple(weight / total for weight in kept)


def fitting_scales(height: int, width: int) -> int:
    scales = ms_ssim_scales(min(height, width))
    if scales == 0:
        raise ValueError(
            f"MS-SSIM needs images of at least {WINDOW_SIZE}x{WINDOW_SIZE} px "
            f"(after any border crop), got {height}x{width}"
        )
    return scales


def _halve(plane: np.ndarray) -> np.ndarray:
    """2x2 block means; an odd side first repeats its last row/column."""
    height, width = plane.shape
    padded = np.pad(plane, ((0, height % 2), (0, width % 2)), mode="edge")
    return padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).mean(
        axis=(1, 3)
    )


def ms_ssim(hr: np.ndarray, sr: np.ndarray, border: int = 4) -> tuple[float, int]:
    """MS-SSIM of uint8 HxWx3 RGB `sr` against `hr` and the number of scales used.

    Computed on the BT.601 Y plane with `border` px cropped, like `ssim` (so e.g.
    a 48x48 image, 40x40 after the crop, gets 2 scales). Uses as many of the 5
    standard scales as fit, with their weights renormalised to sum to 1.
    """
    check_image_pair(hr, sr)
    y1 = crop_border(rgb_to_y(hr), border)
    y2 = crop_border(rgb_to_y(sr), border)
    weights = ms_ssim_weights(fitting_scales(*y1.shape))
    terms = []
    for scale in range(len(weights)):
        if scale > 0:
            y1, y2 = _halve(y1), _halve(y2)
        luminance, contrast_structure = _ssim_components(y1, y2)
        if scale < len(weights) - 1:
            terms.append(np.mean(contrast_structure))
        else:
            terms.append(np.mean(luminance * contrast_structure))
    # A negative mean term (anti-correlated structure) has no real fractional
    # power; it is no similarity at all, so it counts as 0, as TF's relu does.
    clipped = np.maximum(np.array(terms), 0.0)
    return float(np.prod(clipped ** np.array(weights))), len(weights)
