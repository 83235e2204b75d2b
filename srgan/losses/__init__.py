"""Loss terms: the WGAN-GP pair, content (MSE / SSIM / MS-SSIM) and VGG19 perceptual."""

# The choices of --content_loss (content.py), named here so that the flags list them
# without importing TensorFlow.
CONTENT_LOSSES = ("mse", "ssim", "ms_ssim")
