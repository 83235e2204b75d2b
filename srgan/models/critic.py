"""The seed's critic (docs/DESIGN.md "Critic").

A shallow all-stride-1 network with one skip connection and a linear score: every conv
followed by LeakyReLU 0.2, the last one before the skip add (ref); a
WGAN-GP critic, so no BatchNorm (the penalty is per sample, and batch statistics
would couple the samples of a batch) and no sigmoid.
"""

import keras
from keras import layers

from srgan.models.initializers import check_init, kernel_initializer


def _conv(x, filters: int, size: int, name: str, init: str, use_bias: bool = False):
    x = layers.Conv2D(filters, size, padding="same", use_bias=use_bias,
                      kernel_initializer=kernel_initializer(init), name=name)(x)
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)


def build_critic(hr_size: int = 48, init: str = "reference") -> keras.Model:
    """Score [B, hr_size, hr_size, 3] images in [-1, 1]; higher means "looks real".

    The flatten + dense head fixes the input size. At 48x48 it has 2,746,113 weights.
    """
    check_init(init)
    hr = keras.Input(shape=(hr_size, hr_size, 3), name="image")
    # Only the first conv and the dense layer have a bias (ref).
    x = _conv(hr, 64, 3, "conv1", init, use_bias=True)
    x = _conv(x, 128, 3, "conv2", init)
    x = _conv(x, 256, 3, "conv3", init)
    x = _conv(x, 512, 3, "conv4", init)
    h = _conv(x, 256, 1, "conv5", init)
    x = _conv(h, 128, 1, "conv6", init)
    x = _conv(x, 128, 3, "conv7", init)
    # LeakyReLU before the skip add too, as the reference's `res/c3` and its figure have it.
    x = _conv(x, 256, 3, "conv8", init)
    x = layers.Add(name="skip")([h, x])
    x = layers.LeakyReLU(0.2, name="skip_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    # float32 under any mixed policy, so the Wasserstein estimate and the penalty are.
    score = layers.Dense(1, kernel_initializer=kernel_initializer(init), name="score",
                         dtype="float32")(x)
    return keras.Model(hr, score, name="critic")
