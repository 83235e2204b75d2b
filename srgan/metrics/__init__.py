"""Image-quality metrics for a trained generator, computed as published SR tables do.

PSNR, SSIM and MS-SSIM score the BT.601 Y plane with `border` (the scale, 4) pixels
cropped; GMSD scores the whole gray image; sharpness compares the Y planes' mean gradients. All take uint8 HxWx3 RGB `hr` and `sr`
(SR rounded to uint8 first) and work in float64, in NumPy alone.
"""

from srgan.metrics.color import crop_border, rgb_to_y
from srgan.metrics.gmsd import gmsd
from srgan.metrics.ms_ssim import ms_ssim, ms_ssim_scales
from srgan.metrics.psnr import psnr
from srgan.metrics.sharpness import mean_gradient, sharpness
from srgan.metrics.ssim import ssim

__all__ = [
    "crop_border",
    "gmsd",
    "mean_gradient",
    "ms_ssim",
    "ms_ssim_scales",
    "psnr",
    "rgb_to_y",
    "sharpness",
    "ssim",
]
