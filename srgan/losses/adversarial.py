"""Adversarial losses.

WGAN-GP (Gulrajani et al. 2017; docs/DESIGN.md "Losses"), for the seed's model and W-SRGAN:
the critic minimises  mean(D(SR)) - mean(D(HR)) + 10 * GP  and the generator
minimises  -1e-3 * mean(D(SR)).

SRGAN's (Ledig et al. 2017): the discriminator minimises the binary cross-entropy of
D(HR) against 1 and D(SR) against 0; the generator minimises 1e-3 * -log D(SR).
Both are computed from the pre-sigmoid logits with tf.nn's sigmoid cross-entropy,
which is exact where sigmoid saturates (log of a rounded 0 never happens).
"""

import keras
import tensorflow as tf

GP_WEIGHT = 10.0
ADVERSARIAL_WEIGHT = 1e-3


def gradient_penalty(critic: keras.Model, hr: tf.Tensor, sr: tf.Tensor,
                     epsilon: tf.Tensor) -> tf.Tensor:
    """mean_i (||grad_x D(x_i)||_2 - 1)^2 at x_i = e_i HR_i + (1 - e_i) SR_i.

    The norm is taken per sample, as the WGAN-GP paper defines it. The seed's
    reference code took one norm over the whole batch, which constrains the batch
    as a single point and lets individual samples' gradients drift; that was a bug.
    `epsilon` is [B, 1, 1, 1], drawn from U[0, 1].
    """
    mixed = epsilon * hr + (1.0 - epsilon) * sr
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        scores = critic(mixed, training=True)
    grads = tape.gradient(scores, mixed)
    # The tiny constant keeps the gradient of sqrt finite where a gradient is zero.
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


def critic_loss(real_scores: tf.Tensor, fake_scores: tf.Tensor,
                penalty: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Returns (critic loss, Wasserstein estimate mean(D(HR)) - mean(D(SR)))."""
    wasserstein = tf.reduce_mean(real_scores) - tf.reduce_mean(fake_scores)
    return -wasserstein + GP_WEIGHT * penalty, wasserstein


def generator_adversarial_loss(fake_scores: tf.Tensor) -> tf.Tensor:
    return -ADVERSARIAL_WEIGHT * tf.reduce_mean(fake_scores)


def _bce(labels: float, logits: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(logits), labels), logits=logits))


def discriminator_bce_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """-mean(log D(HR)) - mean(log(1 - D(SR))), D = sigmoid(logits)."""
    return _bce(1.0, real_logits) + _bce(0.0, fake_logits)


def generator_bce_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """1e-3 * -mean(log D(SR)): the paper's non-saturating generator loss."""
    return ADVERSARIAL_WEIGHT * _bce(1.0, fake_logits)
