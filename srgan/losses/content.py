"""Pixel-space content losses (SPEC.md "Losses", content).

Images are in [-1, 1], so the dynamic range passed to SSIM is 2 (ref).
"""

from collections.abc import Callable

import tensorflow as tf

from srgan.metrics.ms_ssim import tf_ms_ssim

CONTENT_LOSSES = ("mse", "ssim", "ms_ssim")
# Weight of 1 - SSIM (ref): keeps the structural term on the scale of the MSE it replaces.
SSIM_WEIGHT = 0.1


def mse_loss(hr: tf.Tensor, sr: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(tf.square(hr - sr))


def ssim_loss(hr: tf.Tensor, sr: tf.Tensor) -> tf.Tensor:
    """0.1 * (1 - SSIM) on the gray images (ref)."""
    ssim = tf.image.ssim(tf.image.rgb_to_grayscale(hr), tf.image.rgb_to_grayscale(sr),
                         max_val=2.0)
    return SSIM_WEIGHT * (1.0 - tf.reduce_mean(ssim))


def ms_ssim_loss(hr: tf.Tensor, sr: tf.Tensor) -> tf.Tensor:
    """0.1 * (1 - MS-SSIM) on the gray images, as lossflow.png labels the term.

    At 48x48 only three of the five standard scales fit the 11-px window.
    """
    value = tf_ms_ssim(tf.image.rgb_to_grayscale(hr), tf.image.rgb_to_grayscale(sr),
                       max_val=2.0)
    return SSIM_WEIGHT * (1.0 - value)


def content_loss(name: str) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """The loss for `--content_loss NAME`."""
    losses = {"mse": mse_loss, "ssim": ssim_loss, "ms_ssim": ms_ssim_loss}
    if name not in losses:
        raise ValueError(f"unknown content loss {name!r}; choose one of {CONTENT_LOSSES}")
    return losses[name]
