"""The networks: the seed's generator and its WGAN-GP critic."""

from srgan.models.critic import build_critic
from srgan.models.generator import build_generator

__all__ = ["build_critic", "build_generator"]
