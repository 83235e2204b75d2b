"""The degradation HR -> LR and the mapping between pixel values and model values.

Training and testing both use these functions, so the model always sees the same LR.
"""

from __future__ import annotations

import tensorflow as tf

# The generators' factor: 12x12 LR to 48x48 HR.
SCALE = 4


def to_model(images: tf.Tensor) -> tf.Tensor:
    """uint8 or float [0, 255] -> float32 in [-1, 1]."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def from_model(images: tf.Tensor) -> tf.Tensor:
    """float [-1, 1] -> uint8, rounded to the nearest level and clipped."""
    pixels = tf.round((tf.cast(images, tf.float32) + 1.0) * 127.5)
    return tf.cast(tf.clip_by_value(pixels, 0.0, 255.0), tf.uint8)


def downsample(hr: tf.Tensor, scale: int = SCALE) -> tf.Tensor:
    """HR (NHWC or HWC, uint8 or float [0, 255]) -> LR, float32 [0, 255], whole levels.

    Antialiased bicubic, as PIL's `Image.BICUBIC` resize. The result is rounded and
    clipped to 0..255, so it is exactly what an 8-bit LR photo would hold.
    H and W must be multiples of `scale`.
    """
    hr = tf.convert_to_tensor(hr)
    if hr.shape.rank not in (3, 4):
        raise ValueError(f"downsample needs an HWC or NHWC tensor, got shape {hr.shape}")
    static_hw = hr.shape[-3:-1]
    if any(size is not None and size % scale for size in static_hw):
        raise ValueError(f"downsample: H and W must be multiples of {scale}, got shape {hr.shape}")
    dynamic_hw = tf.shape(hr)[-3:-1]
    if None in static_hw:
        # Sizes only known when the graph runs: check them there.
        tf.debugging.assert_equal(
            dynamic_hw % scale,
            0,
            message=f"downsample: H and W must be multiples of {scale}",
            summarize=4,
        )
    lr = tf.image.resize(
        tf.cast(hr, tf.float32), dynamic_hw // scale, method="bicubic", antialias=True
    )
    return tf.clip_by_value(tf.round(lr), 0.0, 255.0)
