"""A 4x image super-resolution GAN: multi-kernel generator, WGAN-GP critic."""

__version__ = "0.1.0"

from srgan import log as _log  # noqa: E402,F401  (sets up the package's one logger)
