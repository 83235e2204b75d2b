"""How each model trains, one recipe each (its optimizer and default rate, its compiled
steps, its losses), and what each epoch trains with: the optimizers, the learning rate
and the content loss.

A model's networks are the registry's (srgan/models/registry.py); everything that
differs in how models train is here, never decided by a model's name elsewhere.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from typing import Any

import keras

from srgan.config import TrainConfig
from srgan.training.rmsprop import TF1RMSprop

log = logging.getLogger(__name__)

# (VGG for a perceptual term or None, content loss of (hr, sr)).
Losses = tuple[Any, Callable[[Any, Any], Any]]
# (weights, layer, input size) -> a frozen VGG19 up to `layer`.
VGGBuilder = Callable[[str, str, int], Any]


@dataclasses.dataclass(frozen=True)
class Recipe:
    optimizer: str  # of config.OPTIMIZERS, for both networks
    learning_rate: float  # the default --lr_init
    steps: Callable[[], type]  # the training steps' class under the Keras backend
    losses: Callable[[TrainConfig, VGGBuilder], Losses]


def default_vgg(weights: str, layer: str, size: int) -> keras.Model:
    from srgan.losses.perceptual import build_vgg_features
    return build_vgg_features(weights, layer, size)


def _on_jax() -> bool:
    return keras.backend.backend() == "jax"


def _seed_steps() -> type:
    if _on_jax():
        from srgan.training.jax_steps import JaxSteps
        return JaxSteps
    from srgan.training.tf_steps import TrainSteps
    return TrainSteps


def _seed_losses(config: TrainConfig, build_vgg: VGGBuilder) -> Losses:
    """--content_loss, plus VGG19 block4_pool unless --vgg_weights none."""
    from srgan.losses.content import content_loss
    from srgan.losses.perceptual import VGG_LAYER, VGG_SIZE
    content = content_loss(config.content_loss)
    vgg = None if config.vgg_weights == "none" else build_vgg(config.vgg_weights, VGG_LAYER, VGG_SIZE)
    return vgg, content


def _srgan_steps() -> type:
    if _on_jax():
        from srgan.training.jax_steps import JaxSRGANSteps
        return JaxSRGANSteps
    from srgan.training.tf_steps import SRGANSteps
    return SRGANSteps


def _wsrgan_steps() -> type:
    if _on_jax():
        from srgan.training.jax_steps import JaxWSRGANSteps
        return JaxWSRGANSteps
    from srgan.training.tf_steps import WSRGANSteps
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


# The seed's RMSProp at 8e-5 (ref); SRGAN's Adam at 1e-4 (Ledig et al. 2017), which
# W-SRGAN keeps.
RECIPES: dict[str, Recipe] = {
    "seed": Recipe("rmsprop", 8e-5, _seed_steps, _seed_losses),
    "srgan": Recipe("adam", 1e-4, _srgan_steps, _baseline_losses),
    "wsrgan": Recipe("adam", 1e-4, _wsrgan_steps, _baseline_losses),
}


def recipe(model: str) -> Recipe:
    return RECIPES[model]


def rates(config: TrainConfig) -> tuple[float, float]:
    """(--lr_init, --warmup_lr) as given, or their defaults: the model's rate, and the
    GAN phase's for the warm-up."""
    lr_init = recipe(config.model).learning_rate if config.lr_init is None else config.lr_init
    return lr_init, lr_init if config.warmup_lr is None else config.warmup_lr


def with_rates(config: TrainConfig) -> TrainConfig:
    """`config` with its rates filled in, as a run saves them in settings.json."""
    lr_init, warmup_lr = rates(config)
    return dataclasses.replace(config, lr_init=lr_init, warmup_lr=warmup_lr)


def model_losses(config: TrainConfig) -> Losses:
    """(VGG for a perceptual term or None, the generator's content loss), as the model's
    recipe sets them up."""
    return recipe(config.model).losses(config, default_vgg)


def step_class(model: str) -> type:
    """The compiled steps of `model` under the Keras backend (tf_steps.py's TrainSteps and
    its kin under TensorFlow, jax_steps.py's under JAX)."""
    return recipe(model).steps()

# The seed switches from MSE to the SSIM content loss after 4% of the GAN epochs (ref).
MSE_FRACTION = 0.04


def learning_rate(config: TrainConfig, epoch: int, step: int = 0) -> float:
    """During warm-up warmup_lr, constant (the seed) or on a cosine from it towards 0 at
    the end of the warm-up: by epoch, or by `step` where the warm-up's length is fitted to
    --minutes_init (rate_by_step); then lr_init x lr_decay every decay period of GAN epochs."""
    lr_init, warmup_lr = rates(config)
    if epoch < config.n_epoch_init:
        if config.warmup_schedule == "cosine":
            return warmup_lr * 0.5 * (1 + math.cos(math.pi * _warmup_progress(config, epoch, step)))
        return warmup_lr
    gan_epoch = epoch - config.n_epoch_init
    return lr_init * config.lr_decay ** (gan_epoch // config.decay_period)


def rate_by_step(config: TrainConfig) -> bool:
    """Whether the warm-up's rate changes at every step: a cosine over a fitted length."""
    return config.warmup_schedule == "cosine" and (
        config.minutes_init is not None or config.warmup_steps is not None)


def _warmup_progress(config: TrainConfig, epoch: int, step: int) -> float:
    """How far the cosine is along: 0 until a budget's length is fitted (the rate holds at
    warmup_lr while the run times its steps)."""
    if not rate_by_step(config):
        return epoch / config.n_epoch_init
    return 0.0 if config.warmup_steps is None else min(1.0, step / config.warmup_steps)


def content_is_mse(config: TrainConfig, epoch: int) -> bool:
    """Whether the seed's generator trains on MSE in `epoch` (the first 4% of GAN
    epochs, ref) rather than on --content_loss."""
    return epoch - config.n_epoch_init < MSE_FRACTION * config.n_epoch


def _optimizer(name: str, rate: float, loss_scale: bool) -> keras.optimizers.Optimizer:
    """`name` of config.OPTIMIZERS: rmsprop is TF1's rule, as the seed's reference ran it;
    keras_rmsprop Keras' own (accumulator from zeros, epsilon 1e-7), for comparison."""
    builders = {"rmsprop": TF1RMSprop, "keras_rmsprop": keras.optimizers.RMSprop,
                "adam": lambda rate: keras.optimizers.Adam(rate, beta_1=0.9)}
    optimizer = builders[name](rate)
    # float16's narrow range needs a dynamic loss scale; bfloat16 has float32's range.
    return keras.optimizers.LossScaleOptimizer(optimizer) if loss_scale else optimizer


def optimizers(config: TrainConfig, loss_scale: bool = False) -> tuple[
        keras.optimizers.Optimizer, keras.optimizers.Optimizer, keras.optimizers.Optimizer | None]:
    """(generator's, critic's, warm-up's or None where the warm-up uses the generator's).

    Each model's own (its recipe): the seed's RMSProp with TF1's rule (ref); the
    baselines' Adam with beta1 0.9, as the SRGAN paper.
    """
    gan = recipe(config.model).optimizer
    lr_init, warmup_lr = rates(config)
    warmup = (None if config.warmup_optimizer == "same"
              else _optimizer(config.warmup_optimizer, warmup_lr, loss_scale))
    return (_optimizer(gan, lr_init, loss_scale), _optimizer(gan, lr_init, loss_scale), warmup)
