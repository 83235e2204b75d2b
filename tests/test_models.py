import numpy as np
import pytest
from keras import layers

from srgan.models import build_critic, build_generator


def count(weights) -> int:
    return sum(int(np.prod(w.shape)) for w in weights)


def test_generator_parameter_count_matches_spec():
    generator = build_generator(features=64, blocks=16)
    assert count(generator.trainable_weights) == 2_692_054
    assert count(generator.weights) == 2_692_566  # + BatchNorm moving statistics


def test_critic_parameter_count_matches_spec_and_has_no_batchnorm():
    critic = build_critic(hr_size=48)
    assert count(critic.trainable_weights) == 2_746_113
    assert count(critic.weights) == 2_746_113
    assert not any(isinstance(layer, layers.BatchNormalization) for layer in critic.layers)
    assert critic.layers[-1].activation.__name__ == "linear"


@pytest.mark.parametrize("height, width", [(12, 12), (37, 23)])
def test_generator_is_fully_convolutional_x4(height, width):
    generator = build_generator(features=64, blocks=16)
    lr = np.random.default_rng(0).uniform(-1, 1, (2, height, width, 3)).astype(np.float32)
    sr = generator(lr, training=False).numpy()
    assert sr.shape == (2, 4 * height, 4 * width, 3)
    assert np.all(np.abs(sr) <= 1.0)


def test_generator_output_spans_tanh_range_for_large_inputs():
    generator = build_generator(features=8, blocks=1)
    lr = np.random.default_rng(1).uniform(-1, 1, (1, 12, 12, 3)).astype(np.float32) * 100
    sr = generator(lr, training=False).numpy()
    assert sr.shape == (1, 48, 48, 3)
    assert sr.min() >= -1.0 and sr.max() <= 1.0


def test_critic_scores_one_value_per_image():
    critic = build_critic(hr_size=48)
    scores = critic(np.zeros((3, 48, 48, 3), np.float32)).numpy()
    assert scores.shape == (3, 1)


def test_tiny_generator_counts_scale_with_flags():
    small, bigger = build_generator(8, 1), build_generator(8, 2)
    # One more block adds four bias-free 3x3 convs of 8 -> 8 maps.
    assert count(bigger.trainable_weights) - count(small.trainable_weights) == 4 * 3 * 3 * 8 * 8
