"""The networks: the seed's generator and critic, SRResNet and SRGAN's discriminator.

A model's networks by its name are the registry's (`srgan.registry.build_networks`).
"""

from srgan.models.critic import build_critic
from srgan.models.generator import build_generator
from srgan.models.srresnet import build_srgan_discriminator, build_srresnet_generator

__all__ = ["build_critic", "build_generator", "build_srgan_discriminator", "build_srresnet_generator"]
