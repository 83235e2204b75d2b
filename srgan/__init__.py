"""A 4x image super-resolution GAN: multi-kernel generator, WGAN-GP critic."""

__version__ = "0.1.0"
