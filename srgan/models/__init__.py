"""The networks, by model name, as srgan/registry.py describes each model.

Training, testing, upscaling and export all build through `build_networks` /
`build_generator_for`, so they cannot disagree.
"""

import keras

from srgan import registry
from srgan.models.critic import build_critic
from srgan.models.generator import build_generator
from srgan.models.srresnet import build_srgan_discriminator, build_srresnet_generator


def check_model(model: str) -> None:
    registry.spec(model)


def build_generator_for(model: str, features: int = 64, blocks: int = 16,
                        init: str = "reference") -> keras.Model:
    """The generator of `model`: the seed's, or SRResNet for both baselines."""
    return registry.spec(model).build_generator(features, blocks, init)


def build_critic_for(model: str, hr_size: int = 48, init: str = "reference") -> keras.Model:
    """The seed's critic, SRGAN's discriminator (BatchNorm, sigmoid) or W-SRGAN's critic."""
    return registry.spec(model).build_critic(hr_size, init)


def build_networks(model: str, features: int = 64, blocks: int = 16, hr_size: int = 48,
                   init: str = "reference") -> tuple[keras.Model, keras.Model]:
    """(generator, critic or discriminator) of `model`, in that order, their weights drawn
    as `init` says (srgan/models/initializers.py)."""
    return (build_generator_for(model, features, blocks, init),
            build_critic_for(model, hr_size, init))


__all__ = ["build_critic", "build_critic_for", "build_generator", "build_generator_for",
           "build_networks", "build_srgan_discriminator", "build_srresnet_generator", "check_model"]
