"""The SRGAN baseline's networks (Ledig et al., CVPR 2017): SRResNet and its discriminator.

The generator is the paper's: 9x9x64 conv + PReLU, residual blocks of
conv-BN-PReLU-conv-BN with a skip, a long skip over the blocks (after a conv-BN),
two x2 sub-pixel upsampling stages (conv to 4x the channels, depth-to-space, PReLU)
and a 9x9x3 output conv. The paper's output is linear; here it ends in tanh so that
all three models of this project share the [-1, 1] image convention (docs/DESIGN.md) and
their outputs are clipped the same way.

The discriminator is the paper's eight 3x3 convs (64-64-128-128-256-256-512-512,
strides 1-2-1-2-1-2-1-2, BatchNorm from the second, LeakyReLU 0.2), dense 1024,
LeakyReLU, dense 1 and sigmoid. Without BatchNorm and sigmoid it is W-SRGAN's
WGAN-GP critic (per-sample gradient penalty: no batch statistics; linear score).
"""

import keras
from keras import layers

from srgan.models import check_size, norm
from srgan.models.initializers import check_init, kernel_initializer

SIGMOID_LAYER = "sigmoid"


def _prelu(name: str) -> layers.PReLU:
    # One alpha per channel, shared over the image plane, as the paper's PReLU.
    return layers.PReLU(shared_axes=[1, 2], name=name)


def _conv(filters: int, size: int, name: str, init: str, **kwargs) -> layers.Conv2D:
    return layers.Conv2D(filters, size, padding="same", kernel_initializer=kernel_initializer(init),
                         name=name, **kwargs)


def _residual_block(x, features: int, name: str, init: str):
    y = _conv(features, 3, f"{name}_conv1", init)(x)
    y = norm.batch_norm(f"{name}_bn1", init)(y)
    y = _prelu(f"{name}_prelu")(y)
    y = _conv(features, 3, f"{name}_conv2", init)(y)
    y = norm.batch_norm(f"{name}_bn2", init)(y)
    return layers.Add(name=f"{name}_add")([x, y])


@keras.saving.register_keras_serializable(package="srgan")
class DepthToSpace(layers.Layer):
    """Sub-pixel shuffle x`block`: [B, H, W, C * block^2] -> [B, H*block, W*block, C].

    A named layer rather than a Lambda, so that an exported .keras model loads safely.
    """

    def __init__(self, block: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.block = block

    def call(self, x):
        return keras.ops.depth_to_space(x, self.block)

    def compute_output_shape(self, shape):
        grow = lambda n: None if n is None else n * self.block  # noqa: E731
        return (shape[0], grow(shape[1]), grow(shape[2]), shape[3] // self.block**2)

    def get_config(self) -> dict:
        return {**super().get_config(), "block": self.block}


def build_srresnet_generator(features: int = 64, blocks: int = 16,
                             init: str = "reference") -> keras.Model:
    """SRResNet: any [B, H, W, 3] in [-1, 1] to [B, 4H, 4W, 3] in [-1, 1].

    Fully convolutional. With the defaults it has 1,550,659 trainable weights
    (1,554,883 with the BatchNorm moving statistics). `init`: srgan/models/initializers.py.
    """
    check_size(features, blocks)
    check_init(init)
    lr = keras.Input(shape=(None, None, 3), name="lr")
    x = _conv(features, 9, "conv_in", init)(lr)
    head = _prelu("conv_in_prelu")(x)
    x = head
    for b in range(blocks):
        x = _residual_block(x, features, f"res{b + 1}", init)
    x = _conv(features, 3, "conv_mid", init)(x)
    x = norm.batch_norm("conv_mid_bn", init)(x)
    x = layers.Add(name="long_skip")([head, x])
    for stage in (1, 2):
        x = _conv(4 * features, 3, f"up{stage}_conv", init)(x)
        x = DepthToSpace(2, name=f"up{stage}_shuffle")(x)
        x = _prelu(f"up{stage}_prelu")(x)
    # float32 under any mixed policy: losses and images see full-precision output.
    sr = _conv(3, 9, "conv_out", init, activation="tanh", dtype="float32")(x)
    return keras.Model(lr, sr, name="srresnet")


def srresnet_context_margin(blocks: int) -> int:
    """LR pixels of receptive-field radius, for tiled inference: 4 (9x9 in) + 2 per
    block + 1 (mid conv) + 1 (first upsampling conv) + 1/2 (second, at 2x) + 1 (9x9
    out, at 4x), rounded up: 2 * blocks + 8."""
    return 2 * blocks + 8


def build_srgan_discriminator(hr_size: int = 48, batch_norm: bool = True, sigmoid: bool = True,
                              init: str = "reference") -> keras.Model:
    """Scores [B, hr_size, hr_size, 3] images in [-1, 1].

    With sigmoid=True the last layer is an Activation named SIGMOID_LAYER, so the
    losses can read the logits from its input (`discriminator_logits`). At 48x48 the
    four stride-2 convs leave 3x3x512 for the dense 1024: 9,409,729 trainable
    weights (9,413,441 with the BatchNorm moving statistics) with BatchNorm, 9,406,017
    without.
    """
    check_init(init)
    image = keras.Input(shape=(hr_size, hr_size, 3), name="image")
    x = image
    plan = [(64, 1), (64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2)]
    for i, (filters, stride) in enumerate(plan, start=1):
        x = _conv(filters, 3, f"conv{i}", init, strides=stride)(x)
        if batch_norm and i > 1:
            x = norm.batch_norm(f"conv{i}_bn", init)(x)
        x = layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1024, kernel_initializer=kernel_initializer(init), name="dense1024")(x)
    x = layers.LeakyReLU(0.2, name="dense1024_lrelu")(x)
    score = layers.Dense(1, kernel_initializer=kernel_initializer(init), name="score",
                         dtype="float32")(x)
    if sigmoid:
        score = layers.Activation("sigmoid", name=SIGMOID_LAYER, dtype="float32")(score)
    name = "srgan_discriminator" if sigmoid else "wsrgan_critic"
    return keras.Model(image, score, name=name)


def discriminator_logits(discriminator: keras.Model) -> keras.Model:
    """The same discriminator (shared weights) up to its pre-sigmoid logit, so that
    binary cross-entropy is computed from logits, stably; the model itself as it is
    when it has no sigmoid."""
    names = [layer.name for layer in discriminator.layers]
    if SIGMOID_LAYER not in names:
        return discriminator
    return keras.Model(discriminator.input, discriminator.get_layer(SIGMOID_LAYER).input,
                       name=f"{discriminator.name}_logits")
