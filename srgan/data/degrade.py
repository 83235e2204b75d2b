"""The degradation HR -> LR and the mapping between pixel values and model values.

Training and testing both use these functions, so the model always sees the same LR. They
are written in keras.ops, so that every Keras backend computes the same LR (TensorFlow's
tf.image.resize and JAX's jax.image.resize, both bicubic with antialiasing: tested equal
to the level), and run inside a tf.data pipeline or a jitted JAX step alike.
"""

from __future__ import annotations

from typing import Any

from keras import ops

# The generators' factor: 12x12 LR to 48x48 HR.
SCALE = 4


def to_model(images: Any) -> Any:
    """uint8 or float [0, 255] -> float32 in [-1, 1]."""
    return ops.cast(images, "float32") / 127.5 - 1.0


def from_model(images: Any) -> Any:
    """float [-1, 1] -> uint8, rounded to the nearest level and clipped."""
    pixels = ops.round((ops.cast(images, "float32") + 1.0) * 127.5)
    return ops.cast(ops.clip(pixels, 0.0, 255.0), "uint8")


def downsample(hr: Any, scale: int = SCALE) -> Any:
    """HR (NHWC or HWC, uint8 or float [0, 255]) -> LR, float32 [0, 255], whole levels.

    Antialiased bicubic, as PIL's `Image.BICUBIC` resize. The result is rounded and
    clipped to 0..255, so it is exactly what an 8-bit LR photo would hold.
    H and W must be known (static) and multiples of `scale`.
    """
    hr = ops.convert_to_tensor(hr)
    if len(hr.shape) not in (3, 4):
        raise ValueError(f"downsample needs an HWC or NHWC tensor, got shape {hr.shape}")
    height, width = hr.shape[-3], hr.shape[-2]
    if height is None or width is None:
        raise ValueError(f"downsample needs a known height and width, got shape {hr.shape}")
    if height % scale or width % scale:
        raise ValueError(f"downsample: H and W must be multiples of {scale}, got shape {hr.shape}")
    # channels_last whatever keras.json says: every image here is HWC.
    lr = ops.image.resize(ops.cast(hr, "float32"), (height // scale, width // scale),
                          interpolation="bicubic", antialias=True, data_format="channels_last")
    return ops.clip(ops.round(lr), 0.0, 255.0)
