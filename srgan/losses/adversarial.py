"""Adversarial losses.

WGAN-GP (Gulrajani et al. 2017; docs/DESIGN.md "Losses"), for the seed's model and W-SRGAN:
the critic minimises  mean(D(SR)) - mean(D(HR)) + 10 * GP  and the generator
minimises  -1e-3 * mean(D(SR)).

SRGAN's (Ledig et al. 2017): the discriminator minimises the binary cross-entropy of
D(HR) against 1 and D(SR) against 0; the generator minimises 1e-3 * -log D(SR).
Both are computed from the pre-sigmoid logits with a sigmoid cross-entropy on logits,
which is exact where sigmoid saturates (log of a rounded 0 never happens).

Written in keras.ops: the same under every backend; only the penalty's input gradient is
each backend's own (srgan/runtime/).
"""

from collections.abc import Callable
from typing import Any

from keras import ops

from srgan.runtime.backends import input_gradient

GP_WEIGHT = 10.0
ADVERSARIAL_WEIGHT = 1e-3


def gradient_penalty(critic: Callable[[Any], Any], hr: Any, sr: Any, epsilon: Any) -> Any:
    """mean_i (||grad_x D(x_i)||_2 - 1)^2 at x_i = e_i HR_i + (1 - e_i) SR_i.

    The norm is taken per sample, as the WGAN-GP paper defines it. The seed's
    reference code took one norm over the whole batch, which constrains the batch
    as a single point and lets individual samples' gradients drift; that was a bug.
    `critic` maps images to scores (the step passes its critic in training mode);
    `epsilon` is [B, 1, 1, 1], drawn from U[0, 1].
    """
    mixed = epsilon * hr + (1.0 - epsilon) * sr
    grads = input_gradient(critic, mixed)
    # The tiny constant keeps the gradient of sqrt finite where a gradient is zero.
    norms = ops.sqrt(ops.sum(ops.square(grads), axis=[1, 2, 3]) + 1e-12)
    return ops.mean(ops.square(norms - 1.0))


def critic_loss(real_scores: Any, fake_scores: Any, penalty: Any) -> tuple[Any, Any]:
    """Returns (critic loss, Wasserstein estimate mean(D(HR)) - mean(D(SR)))."""
    wasserstein = ops.mean(real_scores) - ops.mean(fake_scores)
    return -wasserstein + GP_WEIGHT * penalty, wasserstein


def generator_adversarial_loss(fake_scores: Any) -> Any:
    return -ADVERSARIAL_WEIGHT * ops.mean(fake_scores)


def _bce(labels: float, logits: Any) -> Any:
    return ops.mean(ops.binary_crossentropy(ops.full_like(logits, labels), logits, from_logits=True))


def discriminator_bce_loss(real_logits: Any, fake_logits: Any) -> Any:
    """-mean(log D(HR)) - mean(log(1 - D(SR))), D = sigmoid(logits)."""
    return _bce(1.0, real_logits) + _bce(0.0, fake_logits)


def generator_bce_loss(fake_logits: Any) -> Any:
    """1e-3 * -mean(log D(SR)): the paper's non-saturating generator loss."""
    return ADVERSARIAL_WEIGHT * _bce(1.0, fake_logits)
