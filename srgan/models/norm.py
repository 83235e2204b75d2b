"""BatchNormalization as every network of this project builds it, and the conversion of
weights trained with another epsilon."""

import keras
import numpy as np
from keras import layers

from srgan.models.initializers import gamma_initializer

# The reference's decay (TensorLayer's default, and the TensorFlow-era SRGANs'): with
# Keras' 0.99 the moving statistics lag so far that early sample grids show nothing useful.
MOMENTUM = 0.9
# TensorLayer's BatchNormLayer, which the seed's reference code and TensorLayer's SRGAN
# (the baselines') build on, adds 1e-5 to the variance; Keras' default is 1e-3.
EPSILON = 1e-5
# What this project's networks used before they followed the reference (run format 1, and
# the generator shipped before): Keras' default.
KERAS_EPSILON = 1e-3


def batch_norm(name: str, init: str) -> layers.BatchNormalization:
    """Under TensorFlow, synchronized: with a tf.distribute strategy the statistics are
    those of the global batch, so N replicas compute what one device does (alone, it
    changes nothing). Other backends refuse the flag, and the networks stay plain Keras
    there (under JAX, one compiled step over the sharded global batch takes its statistics
    over all of it, as a synchronized layer does)."""
    return layers.BatchNormalization(momentum=MOMENTUM, epsilon=EPSILON,
                                     synchronized=keras.backend.backend() == "tensorflow",
                                     gamma_initializer=gamma_initializer(init), name=name)


def convert_epsilon(model: keras.Model, trained_with: float) -> int:
    """Rescales each BatchNorm gamma of `model`, whose weights were trained with epsilon
    `trained_with`, so that its layers (built with EPSILON) compute what they computed:
    gamma / sqrt(var + old) = gamma' / sqrt(var + new) for the moving variance, so the
    inference-mode map is the same to float rounding, and a training-mode one nearly so
    wherever a batch's variance is near the moving one. Returns the layers converted."""
    converted = 0
    for layer in model.layers:
        if not isinstance(layer, layers.BatchNormalization):
            continue
        variance = np.asarray(keras.ops.convert_to_numpy(layer.moving_variance), np.float64)
        gamma = np.asarray(keras.ops.convert_to_numpy(layer.gamma), np.float64)
        factor = np.sqrt((variance + layer.epsilon) / (variance + trained_with))
        layer.gamma.assign((gamma * factor).astype(np.float32))
        converted += 1
    return converted
