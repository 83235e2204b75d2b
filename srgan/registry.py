"""The models `--model` names, one spec each: everything that differs between them.

Training, testing, upscaling, export, the comparison and the benchmarks read a model's
networks, steps, optimizer, losses and tile margin from its spec, never from its name.
Adding a model is one ModelSpec in MODELS plus its tests. Builders import their
modules when called, so the command line answers `--help` without TensorFlow.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

    from srgan.config import TrainConfig

log = logging.getLogger(__name__)

# (VGG for a perceptual term or None, content loss of (hr, sr)).
Losses = tuple[Any, Callable[[Any, Any], Any]]
# (weights, layer, input size) -> a frozen VGG19 up to `layer`.
VGGBuilder = Callable[[str, str, int], Any]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    display_name: str
    help: str
    # A baseline of the comparison (`--mode=compare` trains them first), or the project's model.
    baseline: bool
    optimizer: str  # of config.OPTIMIZERS, for both networks
    learning_rate: float  # the default --lr_init
    build_generator: Callable[[int, int, str], keras.Model]  # (features, blocks, init)
    build_critic: Callable[[int, str], keras.Model]  # (hr_size, init)
    steps: Callable[[], type]  # the training steps' class
    losses: Callable[[TrainConfig, VGGBuilder], Losses]
    context_margin: Callable[[int], int]  # (blocks) -> LR px of receptive-field radius
    # LR px of tile context past which the output stops changing (measured), or None for
    # the full receptive field.
    effective_margin: int | None = None

    def tile_margin(self, blocks: int) -> int:
        full = self.context_margin(blocks)
        return full if self.effective_margin is None else min(self.effective_margin, full)


def default_vgg(weights: str, layer: str, size: int) -> keras.Model:
    from srgan.losses.perceptual import build_vgg_features
    return build_vgg_features(weights, layer, size)


def _on_jax() -> bool:
    import keras
    return keras.backend.backend() == "jax"


# --- the seed's model ---

def _seed_generator(features: int, blocks: int, init: str) -> keras.Model:
    from srgan.models.generator import build_generator
    return build_generator(features, blocks, init)


def _seed_critic(hr_size: int, init: str) -> keras.Model:
    from srgan.models.critic import build_critic
    return build_critic(hr_size, init)


def _seed_steps() -> type:
    if _on_jax():
        from srgan.jax_steps import JaxSteps
        return JaxSteps
    from srgan.steps import TrainSteps
    return TrainSteps


def _seed_losses(config: TrainConfig, build_vgg: VGGBuilder) -> Losses:
    """--content_loss, plus VGG19 block4_pool unless --vgg_weights none."""
    from srgan.losses.content import content_loss
    from srgan.losses.perceptual import VGG_LAYER, VGG_SIZE
    content = content_loss(config.content_loss)
    vgg = None if config.vgg_weights == "none" else build_vgg(config.vgg_weights, VGG_LAYER, VGG_SIZE)
    return vgg, content


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


def _srgan_steps() -> type:
    if _on_jax():
        from srgan.jax_steps import JaxSRGANSteps
        return JaxSRGANSteps
    from srgan.steps import SRGANSteps
    return SRGANSteps


def _wsrgan_steps() -> type:
    if _on_jax():
        from srgan.jax_steps import JaxWSRGANSteps
        return JaxWSRGANSteps
    from srgan.steps import WSRGANSteps
    return WSRGANSteps


def _baseline_losses(config: TrainConfig, build_vgg: VGGBuilder) -> Losses:
    """VGG54 is the content term itself; with --vgg_weights none, pixel MSE (the
    paper's SRResNet-MSE / SRGAN-MSE variant)."""
    from srgan.losses.content import mse_loss
    from srgan.losses.perceptual import VGG54_LAYER, vgg54_loss
    if config.vgg_weights == "none":
        log.info(f"--model {config.model} with --vgg_weights none: the content term is pixel MSE "
                 "instead of VGG54 (SRGAN-MSE).")
        return None, mse_loss
    vgg54 = build_vgg(config.vgg_weights, VGG54_LAYER, config.hr_size)
    return None, lambda hr, sr: vgg54_loss(vgg54, hr, sr)


def _srresnet_context_margin(blocks: int) -> int:
    from srgan.models.srresnet import srresnet_context_margin
    return srresnet_context_margin(blocks)


_BASELINE = dict(baseline=True, optimizer="adam", learning_rate=1e-4, build_generator=_srresnet,
                 losses=_baseline_losses, context_margin=_srresnet_context_margin)

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec(name="seed", display_name="seed model",
              help="the seed's generator and WGAN-GP critic",
              baseline=False, optimizer="rmsprop", learning_rate=8e-5,
              build_generator=_seed_generator, build_critic=_seed_critic, steps=_seed_steps,
              losses=_seed_losses, context_margin=_seed_context_margin,
              # Past 12 LR px of context the shipped generator's tiled output changes by at
              # most 1 level on real photos (bench/measure_margin.py); its receptive field is 70.
              effective_margin=12),
    # SRGAN's Adam rate (Ledig et al. 2017); W-SRGAN keeps SRGAN's optimizer.
    ModelSpec(name="srgan", display_name="SRGAN",
              help="SRResNet and SRGAN's discriminator (Ledig et al. 2017)",
              build_critic=_srgan_discriminator, steps=_srgan_steps, **_BASELINE),
    ModelSpec(name="wsrgan", display_name="W-SRGAN",
              help="SRResNet and a WGAN-GP critic",
              build_critic=_wsrgan_critic, steps=_wsrgan_steps, **_BASELINE),
)}
NAMES = tuple(MODELS)


def spec(name: str) -> ModelSpec:
    """The spec of model `name`; ValueError naming the choices for an unknown one."""
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(NAMES)}") from None


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
