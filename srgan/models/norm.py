"""BatchNormalization as every network of this project builds it."""

import keras
from keras import layers

from srgan.models.initializers import gamma_initializer

# The reference's decay (TensorLayer's default, and the TensorFlow-era SRGANs'): with
# Keras' 0.99 the moving statistics lag so far that early sample grids show nothing useful.
MOMENTUM = 0.9


def batch_norm(name: str, init: str) -> layers.BatchNormalization:
    """Under TensorFlow, synchronized: with a tf.distribute strategy the statistics are
    those of the global batch, so N replicas compute what one device does (alone, it
    changes nothing). Other backends refuse the flag, and the networks stay plain Keras
    there (scripts/warmup_jax.py trains the seed's generator under JAX)."""
    return layers.BatchNormalization(momentum=MOMENTUM,
                                     synchronized=keras.backend.backend() == "tensorflow",
                                     gamma_initializer=gamma_initializer(init), name=name)
