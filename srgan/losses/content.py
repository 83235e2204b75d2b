"""Pixel-space content losses (docs/DESIGN.md "Losses", content).

Images are in [-1, 1], so the dynamic range passed to SSIM is 2 (ref). All three are
written in keras.ops and compute the same under every backend (tests/unit/runtime/test_backends.py).
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from keras import ops

from srgan.losses import CONTENT_LOSSES
from srgan.metrics.ms_ssim import fitting_scales, ms_ssim_weights
from srgan.metrics.ssim import K1, K2, SIGMA, WINDOW_SIZE

# Weight of 1 - SSIM (ref): keeps the structural term on the scale of the MSE it replaces.
SSIM_WEIGHT = 0.1


def mse_loss(hr: Any, sr: Any) -> Any:
    return ops.mean(ops.square(hr - sr))


def _gaussian_window(size: int = WINDOW_SIZE, sigma: float = SIGMA) -> np.ndarray:
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-np.square(coords) / (2 * sigma**2))
    g = g / g.sum()
    return np.outer(g, g).reshape(size, size, 1, 1).astype(np.float32)


def _gray(images: Any) -> Any:
    # channels_last whatever keras.json says; the weights are tf.image.rgb_to_grayscale's.
    return ops.image.rgb_to_grayscale(images, data_format="channels_last")


def _ssim_maps(x: Any, y: Any, max_val: float) -> tuple[Any, Any]:
    """The luminance and contrast-structure maps of NHWC images, channel by channel:
    Wang et al.'s 11x11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03, valid positions
    only, population moments, as tf.image.ssim computes them.

    Written out with a constant window so that it compiles under XLA (--jit), which
    tf.image.ssim does not: it sizes its window from the run-time channel count.
    """
    channels = x.shape[-1]
    window = ops.convert_to_tensor(np.tile(_gaussian_window(), (1, 1, channels, 1)))
    c1, c2 = (K1 * max_val) ** 2, (K2 * max_val) ** 2

    def blur(image: Any) -> Any:
        return ops.depthwise_conv(image, window, strides=1, padding="valid",
                                  data_format="channels_last")

    mean_x, mean_y = blur(x), blur(y)
    var_x = blur(x * x) - mean_x * mean_x
    var_y = blur(y * y) - mean_y * mean_y
    cov = blur(x * y) - mean_x * mean_y
    luminance = (2 * mean_x * mean_y + c1) / (mean_x * mean_x + mean_y * mean_y + c1)
    contrast_structure = (2 * cov + c2) / (var_x + var_y + c2)
    return luminance, contrast_structure


def gray_ssim(x: Any, y: Any, max_val: float = 2.0) -> Any:
    """Per-image SSIM of [B, H, W, 1] images, as tf.image.ssim computes it."""
    luminance, contrast_structure = _ssim_maps(x, y, max_val)
    return ops.mean(luminance * contrast_structure, axis=[1, 2, 3])


def ssim_loss(hr: Any, sr: Any) -> Any:
    """0.1 * (1 - SSIM) on the gray images (ref)."""
    return SSIM_WEIGHT * (1.0 - ops.mean(gray_ssim(_gray(hr), _gray(sr))))


def _halve(images: Any) -> Any:
    """2x2 average pooling of NHWC images; an odd side first repeats its last row or
    column (TF's SYMMETRIC pad by one), so a side of n becomes ceil(n / 2)."""
    if images.shape[1] % 2:
        images = ops.concatenate([images, images[:, -1:]], axis=1)
    if images.shape[2] % 2:
        images = ops.concatenate([images, images[:, :, -1:]], axis=2)
    return ops.average_pool(images, 2, strides=2, padding="valid", data_format="channels_last")


def batch_ms_ssim(hr: Any, sr: Any, max_val: float) -> Any:
    """Batch-mean MS-SSIM of NHWC images, differentiable, for the training loss; the same
    as tf.image.ssim_multiscale (tests/unit/metrics/test_metrics.py) under every backend.

    Images must lie in [0, max_val] (shift [-1, 1] images by +1, max_val 2): the
    luminance term assumes non-negative means. Uses as many scales as fit the
    static image size, with renormalised weights; colour channels are scored
    separately and averaged (TF's convention).
    """
    height, width = hr.shape[1], hr.shape[2]
    if height is None or width is None:
        raise ValueError(f"batch_ms_ssim needs a static image height and width, got shape {hr.shape}")
    # The generator's output in a traced step has no static size (its input's is open):
    # it takes the HR's, which the halving at each scale needs.
    sr = ops.reshape(sr, (-1, height, width, hr.shape[3]))
    weights = ms_ssim_weights(fitting_scales(height, width))
    terms = []
    for scale in range(len(weights)):
        if scale:
            hr, sr = _halve(hr), _halve(sr)
        luminance, contrast_structure = _ssim_maps(hr, sr, max_val)
        # Contrast-structure at every scale but the coarsest, full SSIM there; a negative
        # mean (anti-correlated structure) has no fractional power and counts as 0.
        term = contrast_structure if scale < len(weights) - 1 else luminance * contrast_structure
        terms.append(ops.relu(ops.mean(term, axis=[1, 2])) ** weights[scale])
    per_channel = terms[0]
    for term in terms[1:]:
        per_channel = per_channel * term
    return ops.mean(per_channel)


def ms_ssim_loss(hr: Any, sr: Any) -> Any:
    """0.1 * (1 - MS-SSIM) on the gray images in [0, 2], as the seed's loss figure labels
    the term.

    At 48x48 only three of the five standard scales fit the 11-px window.
    """
    # Shifted to [0, 2]: on [-1, 1] a dark image against a bright one has a negative
    # luminance term, which MS-SSIM clips to 0 (loss 0.1, no gradient).
    value = batch_ms_ssim(_gray(hr) + 1.0, _gray(sr) + 1.0, max_val=2.0)
    return SSIM_WEIGHT * (1.0 - value)


def content_loss(name: str) -> Callable[[Any, Any], Any]:
    """The loss for `--content_loss NAME`."""
    losses = {"mse": mse_loss, "ssim": ssim_loss, "ms_ssim": ms_ssim_loss}
    if name not in losses:
        raise ValueError(f"unknown content loss {name!r}; choose one of {CONTENT_LOSSES}")
    return losses[name]
