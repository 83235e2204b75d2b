"""The seed's generator (docs/DESIGN.md "Generator").

Multi-kernel feature fusion at the input, ELU residual blocks at low resolution,
then "upsizing convolution" (conv at the low resolution, then nearest-neighbour x2)
instead of sub-pixel shuffle, and a multi-kernel reconstruction.
"""

import keras
from keras import layers

from srgan.models import check_size
from srgan.models.initializers import check_init, kernel_initializer
from srgan.models.norm import batch_norm


def _conv(filters: int, size: int, name: str, init: str, activation: str | None = None,
          use_bias: bool = True) -> layers.Conv2D:
    return layers.Conv2D(filters, size, padding="same", activation=activation,
                         use_bias=use_bias, kernel_initializer=kernel_initializer(init), name=name)


def _multi_kernel(x, filters: int, name: str, init: str) -> list:
    """Three parallel 3x3, 5x5 and 7x7 ELU convs: several receptive fields at once."""
    return [_conv(filters, k, f"{name}_{k}x{k}", init, "elu")(x) for k in (3, 5, 7)]


def _residual_block(x, features: int, name: str, init: str):
    y = x
    for i in range(4):
        # No bias inside the blocks (ref): the seed's reference code left it out.
        y = _conv(features, 3, f"{name}_conv{i + 1}", init, "elu", use_bias=False)(y)
    return layers.Add(name=f"{name}_add")([x, y])


def _upsizing_stage(x, name: str, init: str):
    """Conv at the low resolution, then nearest x2: a quarter of the conv cost of
    convolving after the upsample, and free of the checkerboard of pixel shuffle."""
    x = _conv(128, 3, f"{name}_conv", init, use_bias=False)(x)
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    x = batch_norm(f"{name}_bn", init)(x)
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)


def context_margin(blocks: int) -> int:
    """LR pixels of receptive-field radius, for tiled inference: 3 (7x7 fusion) + 4 per
    residual block (four 3x3 convs) + 1 (first upsizing conv) + 1/2 (second, at 2x) +
    6/4 (at 4x: 3x3 recon, 7x7 recon, two 3x3 refines) = 4 * blocks + 6."""
    return 4 * blocks + 6


def build_generator(features: int = 64, blocks: int = 16, init: str = "reference") -> keras.Model:
    """The seed's generator: any [B, H, W, 3] in [-1, 1] to [B, 4H, 4W, 3] in [-1, 1].

    With the defaults it has 2,692,054 trainable weights (docs/DESIGN.md); `init` is a
    scheme of srgan/models/initializers.py.
    """
    check_size(features, blocks)
    check_init(init)
    lr = keras.Input(shape=(None, None, 3), name="lr")

    x = layers.Concatenate(name="fusion_concat")([lr, *_multi_kernel(lr, features, "fusion", init)])
    t = _conv(features, 1, "shrink", init, "elu")(x)

    x = t
    for b in range(blocks):
        x = _residual_block(x, features, f"res{b + 1}", init)
    x = layers.Add(name="long_skip")([t, x])

    x = layers.Concatenate(name="input_skip")([lr, x])
    for stage in range(2):
        x = _upsizing_stage(x, f"upsize{stage + 1}", init)

    x = _conv(64, 3, "recon_conv", init, "elu", use_bias=False)(x)
    x = _conv(16, 1, "recon_shrink", init, "elu", use_bias=False)(x)
    x = layers.Concatenate(name="recon_concat")(_multi_kernel(x, 3, "recon", init))
    r = _conv(3, 1, "recon_out", init, "tanh", use_bias=False)(x)

    x = _conv(3, 3, "refine1", init, use_bias=False)(r)
    x = _conv(3, 3, "refine2", init, use_bias=False)(x)
    x = layers.Add(name="refine_skip")([r, x])
    # float32 under any mixed policy: losses, metrics and PNGs see full-precision output.
    sr = layers.Activation("tanh", name="sr", dtype="float32")(x)
    return keras.Model(lr, sr, name="generator")
