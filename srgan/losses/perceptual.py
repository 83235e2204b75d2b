"""VGG19 perceptual loss (docs/DESIGN.md "Losses", vgg).

2e-6 * MSE between ImageNet-VGG19 `block4_pool` features of HR and SR, both resized
bilinearly to 56x56 and preprocessed the Caffe way (ref). Every max-pool pads SAME, as the
reference's TensorLayer VGG19 does: at 56 px `block4_pool` is 4x4 (Keras' VGG19 pools VALID,
3x3, and drops the bottom row and right column of block 4's 7x7 features).
"""

from typing import Any

import keras
from keras import layers, ops

from srgan.errors import UserError, first_line
from srgan.losses import WEIGHTS_HELP, check_vgg_weights

VGG_SIZE = 56
VGG_LAYER = "block4_pool"
VGG_WEIGHT = 2e-6


def build_vgg_features(weights: str, layer: str = VGG_LAYER,
                       size: int = VGG_SIZE) -> keras.Model:
    """A frozen VGG19 from its input up to `layer`, for `size` x `size` inputs, its
    max-pools padded SAME (ref).

    `weights` is "imagenet" or a path to a weights file. Raises UserError with the
    ways out where the weights cannot be had (offline, missing or wrong file).
    """
    check_vgg_weights(weights)
    try:
        vgg = keras.applications.VGG19(include_top=False, weights=weights,
                                       input_shape=(size, size, 3))
    except Exception as error:  # Keras raises several types for network and file errors.
        raise UserError(f"could not load the VGG19 weights ({weights}): {first_line(error)}; "
                        f"{WEIGHTS_HELP}") from error
    x = vgg.input
    for each in vgg.layers[1:]:
        if isinstance(each, layers.MaxPooling2D):
            # Equal to VALID on even sizes; at odd ones SAME keeps the last row and column.
            x = layers.MaxPooling2D(each.pool_size, each.strides, padding="same", name=each.name)(x)
        else:
            x = each(x)
        if each.name == layer:
            break
    else:
        raise ValueError(f"VGG19 has no layer {layer!r}")
    features = keras.Model(vgg.input, x, name=f"vgg19_{layer}")
    features.trainable = False
    return features


def vgg_input(images: Any, size: int = VGG_SIZE) -> Any:
    """[-1, 1] RGB to what VGG19 expects: `size` px, 0..255, BGR, ImageNet mean removed."""
    images = ops.image.resize(images, (size, size), interpolation="bilinear",
                              data_format="channels_last")
    return keras.applications.vgg19.preprocess_input((images + 1.0) * 127.5)


def _features(vgg: keras.Model, images: Any) -> Any:
    # Under a mixed policy VGG computes in 16 bits; the difference is taken in float32.
    return ops.cast(vgg(vgg_input(images, vgg.input_shape[1]), training=False), "float32")


def perceptual_loss(vgg: keras.Model, hr: Any, sr: Any, weight: float = VGG_WEIGHT) -> Any:
    return weight * ops.mean(ops.square(_features(vgg, hr) - _features(vgg, sr)))


# SRGAN's VGG54 (Ledig et al.): features of the 4th conv before the 5th pooling,
# rescaled by 1/12.75 as the paper does, so the term is on the scale of a pixel MSE.
VGG54_LAYER = "block5_conv4"
VGG54_SCALE = 1.0 / 12.75


def vgg54_loss(vgg: keras.Model, hr: Any, sr: Any) -> Any:
    """MSE of (phi54 / 12.75) between HR and SR, the baselines' content term.

    `vgg` is build_vgg_features(weights, VGG54_LAYER, hr_size): the baselines feed
    VGG the HR-sized images as they are (at 48 px block5 is 3x3), as the paper feeds
    its 96 px crops; vgg_input's resize is then the identity.
    """
    return ops.mean(ops.square((_features(vgg, hr) - _features(vgg, sr)) * VGG54_SCALE))
