"""Loss terms: the WGAN-GP pair, content (MSE / SSIM / MS-SSIM) and VGG19 perceptual."""

from pathlib import Path

from srgan.errors import UserError

# The choices of --content_loss (content.py), named here so that the flags list them
# without importing TensorFlow.
CONTENT_LOSSES = ("mse", "ssim", "ms_ssim")

# The ways to have the VGG19 weights, said in one line after each failure to.
WEIGHTS_HELP = ("give --vgg_weights imagenet (Keras downloads the ImageNet weights once into "
                "~/.keras/models; needs internet the first time), --vgg_weights PATH (a local "
                "VGG19 weights file, .h5 or .weights.h5, e.g. "
                "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 copied from a machine with "
                "internet), or --vgg_weights none (no perceptual term: the seed's \"remove VGG "
                "loss\")")


def check_vgg_weights(weights: str) -> None:
    """UserError, with the ways out, where --vgg_weights names a weights file (anything
    but imagenet or none) that is not there."""
    if weights not in ("imagenet", "none") and not Path(weights).is_file():
        raise UserError(f"VGG19 weights file {weights} does not exist: {WEIGHTS_HELP}")
