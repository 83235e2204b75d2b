"""The models `--model` names, one spec each: their networks and what inference needs to
know of them (the tile margin, the display name).

Testing, upscaling, export, training and the comparison build a model's networks
through this registry and read its margins here, never from its name; how each model
trains (optimizer, rate, steps, losses) is its recipe (srgan/training/recipe.py).
Builders import their modules when called, so that the command line reads the names
without loading Keras, which loads TensorFlow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from srgan.errors import UserError

if TYPE_CHECKING:
    import keras


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    display_name: str
    help: str
    # A baseline of the comparison (`--mode=compare` trains them first), or the project's model.
    baseline: bool
    build_generator: Callable[[int, int, str], keras.Model]  # (features, blocks, init)
    build_critic: Callable[[int, str], keras.Model]  # (hr_size, init)
    context_margin: Callable[[int], int]  # (blocks) -> LR px of receptive-field radius
    # LR px of tile context past which the output stops changing (measured), or None for
    # the full receptive field.
    effective_margin: int | None = None

    def tile_margin(self, blocks: int) -> int:
        full = self.context_margin(blocks)
        return full if self.effective_margin is None else min(self.effective_margin, full)


# --- the seed's model ---

def _seed_generator(features: int, blocks: int, init: str) -> keras.Model:
    from srgan.models.generator import build_generator
    return build_generator(features, blocks, init)


def _seed_critic(hr_size: int, init: str) -> keras.Model:
    from srgan.models.critic import build_critic
    return build_critic(hr_size, init)


def _seed_context_margin(blocks: int) -> int:
    from srgan.models.generator import context_margin
    return context_margin(blocks)


# --- the baselines: SRResNet with SRGAN's discriminator, or with a WGAN-GP critic ---

def _srresnet(features: int, blocks: int, init: str) -> keras.Model:
    from srgan.models.srresnet import build_srresnet_generator
    return build_srresnet_generator(features, blocks, init)


def _srgan_discriminator(hr_size: int, init: str) -> keras.Model:
    from srgan.models.srresnet import build_srgan_discriminator
    return build_srgan_discriminator(hr_size, batch_norm=True, sigmoid=True, init=init)


def _wsrgan_critic(hr_size: int, init: str) -> keras.Model:
    # W-SRGAN is "SRGAN trained as a WGAN-GP": no BatchNorm (the penalty is per sample)
    # and no sigmoid (a critic scores, it does not classify).
    from srgan.models.srresnet import build_srgan_discriminator
    return build_srgan_discriminator(hr_size, batch_norm=False, sigmoid=False, init=init)


def _srresnet_context_margin(blocks: int) -> int:
    from srgan.models.srresnet import srresnet_context_margin
    return srresnet_context_margin(blocks)


MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec(name="seed", display_name="seed model",
              help="the seed's generator and WGAN-GP critic", baseline=False,
              build_generator=_seed_generator, build_critic=_seed_critic,
              context_margin=_seed_context_margin,
              # Past 12 LR px of context the shipped generator's tiled output changes by at
              # most 1 level on real photos (bench/measure/measure_margin.py); its receptive
              # field is 70.
              effective_margin=12),
    ModelSpec(name="srgan", display_name="SRGAN",
              help="SRResNet and SRGAN's discriminator (Ledig et al. 2017)", baseline=True,
              build_generator=_srresnet, build_critic=_srgan_discriminator,
              context_margin=_srresnet_context_margin),
    ModelSpec(name="wsrgan", display_name="W-SRGAN",
              help="SRResNet and a WGAN-GP critic", baseline=True,
              build_generator=_srresnet, build_critic=_wsrgan_critic,
              context_margin=_srresnet_context_margin),
)}
NAMES = tuple(MODELS)


def spec(name: str) -> ModelSpec:
    """The spec of model `name`; ValueError naming the choices for an unknown one."""
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(NAMES)}") from None


@dataclasses.dataclass(frozen=True)
class Architecture:
    """What fixes the shapes of a generator's weights: its model, features and blocks, as
    a run's settings.json and the shipped generator's card say them."""

    model: str = "seed"
    features: int = 64
    blocks: int = 16

    def check(self) -> None:
        """UserError where no generator of this project has these."""
        if self.model not in NAMES:
            raise UserError(f"--model must be one of {', '.join(NAMES)}, got {self.model!r}")
        if self.features < 1 or self.blocks < 0:
            raise UserError(f"--features must be at least 1 and --blocks not negative, got "
                            f"{self.features} and {self.blocks}")


# --- a model's networks by its name: training, testing, upscaling and export all build
# through these, so they cannot disagree ---

def build_generator_for(model: str, features: int = 64, blocks: int = 16,
                        init: str = "reference") -> keras.Model:
    """The generator of `model`: the seed's, or SRResNet for both baselines."""
    return spec(model).build_generator(features, blocks, init)


def build_critic_for(model: str, hr_size: int = 48, init: str = "reference") -> keras.Model:
    """The seed's critic, SRGAN's discriminator (BatchNorm, sigmoid) or W-SRGAN's critic."""
    return spec(model).build_critic(hr_size, init)


def build_networks(model: str, features: int = 64, blocks: int = 16, hr_size: int = 48,
                   init: str = "reference") -> tuple[keras.Model, keras.Model]:
    """(generator, critic or discriminator) of `model`, in that order, their weights drawn
    as `init` says (srgan/models/initializers.py)."""
    return (build_generator_for(model, features, blocks, init),
            build_critic_for(model, hr_size, init))
