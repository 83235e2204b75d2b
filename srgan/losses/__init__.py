"""Loss terms: the WGAN-GP pair, content (MSE / SSIM / MS-SSIM) and VGG19 perceptual."""
