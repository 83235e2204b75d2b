import keras
import numpy as np
import pytest
from keras import layers

from srgan.models import norm, registry
from srgan.models.critic import build_critic
from srgan.models.generator import build_generator
from srgan.models.registry import build_networks


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


def _kernels_and_gammas(model) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(every conv and dense kernel, every BatchNorm gamma, every bias and beta), pooled."""
    kernels, gammas, offsets = [], [], []
    for layer in model.layers:
        if isinstance(layer, (layers.Conv2D, layers.Dense)):
            kernels.append(layer.kernel.numpy().ravel())
            if layer.use_bias:
                offsets.append(layer.bias.numpy())
        elif isinstance(layer, layers.BatchNormalization):
            gammas.append(layer.gamma.numpy())
            offsets.append(layer.beta.numpy())
    return np.concatenate(kernels), np.concatenate(gammas or [np.ones(0)]), offsets


@pytest.mark.parametrize("model", registry.NAMES)
def test_reference_init_is_the_seeds_reference_code(model):
    keras.utils.set_random_seed(0)
    generator, critic = build_networks(model, 32, 2, 48)
    for network in (generator, critic):
        kernels, gammas, offsets = _kernels_and_gammas(network)
        # Hundreds of thousands of draws: the sampling error of the std is ~0.02 / sqrt(2n).
        assert kernels.size > 50_000
        assert abs(kernels.std() - 0.02) < 0.0005 and abs(kernels.mean()) < 0.0005
        # Untruncated: a truncated normal (Keras' TruncatedNormal cuts at 2 std) has none
        # past 0.04; N(0, 0.02) has ~0.3% past 3 std.
        assert np.mean(np.abs(kernels) > 0.06) > 0.001
        assert all(not offset.any() for offset in offsets)
        if network is generator or model == "srgan":
            assert gammas.size >= 128
            assert abs(gammas.mean() - 1) < 0.005 and 0.015 < gammas.std() < 0.025


def test_glorot_init_is_keras_defaults():
    keras.utils.set_random_seed(0)
    generator, critic = build_networks("srgan", 16, 1, 48, init="glorot")
    for network in (generator, critic):
        for layer in network.layers:
            if isinstance(layer, (layers.Conv2D, layers.Dense)):
                kernel = layer.kernel.numpy()
                receptive = int(np.prod(kernel.shape[:-2]))
                limit = np.sqrt(6 / (receptive * (kernel.shape[-2] + kernel.shape[-1])))
                assert np.abs(kernel).max() <= limit * (1 + 1e-6)  # float32 rounding
                assert np.abs(kernel).max() > 0.8 * limit  # uniform up to the limit
            elif isinstance(layer, layers.BatchNormalization):
                assert np.all(layer.gamma.numpy() == 1)


def test_seeded_build_is_reproducible():
    def weights(seed: int) -> list[np.ndarray]:
        keras.utils.set_random_seed(seed)
        generator, critic = build_networks("seed", 8, 1, 48)
        return [w.numpy() for w in generator.weights + critic.weights]

    first, again, other = weights(3), weights(3), weights(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match="unknown initialisation 'he'"):
        build_generator(8, 1, init="he")


def test_srresnet_pixel_shuffle_is_tensorflows_depth_to_space():
    import tensorflow as tf

    from srgan.models.srresnet import DepthToSpace

    x = np.random.default_rng(0).random((2, 5, 7, 12), dtype=np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(DepthToSpace(2)(x)),
                                  tf.nn.depth_to_space(x, 2).numpy())


def test_networks_and_metrics_need_no_tensorflow():
    # The lent accelerator has JAX and no TensorFlow: the networks and the metrics must
    # build and run under Keras' JAX backend with TensorFlow unimportable.
    import os
    import subprocess
    import sys

    program = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "import numpy as np\n"
        "from srgan import metrics\n"
        "from srgan.models import critic, generator, srresnet\n"
        "g = generator.build_generator()\n"
        "sr = g.predict(np.zeros((1, 12, 12, 3), 'float32'), verbose=0)\n"
        "hr = np.zeros((48, 48, 3), np.uint8)\n"
        "print(g.count_params(), srresnet.build_srresnet_generator().count_params(),\n"
        "      critic.build_critic().count_params(), sr.shape, metrics.psnr(hr, hr + 1))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          env={**os.environ, "KERAS_BACKEND": "jax"}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["2692566", "1554883", "2746113", "(1,", "48,", "48,", "3)",
                                   "49.45272492055583"]  # one level in RGB is 0.859 in Y (BT.601)


@pytest.mark.parametrize("model", registry.NAMES)
def test_every_batchnorm_adds_the_references_epsilon(model):
    # TensorLayer's BatchNormLayer (the seed's reference, and TensorLayer's SRGAN) adds
    # 1e-5 to the variance; Keras' default is 1e-3.
    norms = [layer for network in build_networks(model, 8, 1, 48) for layer in network.layers
             if isinstance(layer, layers.BatchNormalization)]
    assert norms and all(layer.epsilon == 1e-5 and layer.momentum == 0.9 for layer in norms)


def test_the_critics_last_conv_has_its_leaky_relu_before_the_skip_add():
    # The reference's res/c3 (and its figure): LeakyReLU 0.2 after the 3x3x256 conv, then
    # add h. A linear conv8 has the same weight count, so the count test cannot see it.
    critic = build_critic(hr_size=48)
    skip = critic.get_layer("skip")
    branches = [tensor._keras_history.operation for tensor in skip.input]
    assert [layer.name for layer in branches] == ["conv5_lrelu", "conv8_lrelu"]
    assert isinstance(branches[1], layers.LeakyReLU) and branches[1].negative_slope == pytest.approx(0.2)
    assert critic.get_layer("conv8_lrelu").input is critic.get_layer("conv8").output


def _with_epsilon(model: keras.Model, epsilon: float) -> keras.Model:
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.epsilon = epsilon
    return model


def test_weights_trained_with_keras_epsilon_convert_to_the_same_outputs():
    keras.utils.set_random_seed(3)
    old = _with_epsilon(build_generator(features=8, blocks=1), norm.KERAS_EPSILON)
    rng = np.random.default_rng(3)
    for layer in old.layers:  # statistics of all sizes, some near the epsilons
        if isinstance(layer, layers.BatchNormalization):
            layer.moving_variance.assign(10.0 ** rng.uniform(-4, 1, layer.moving_variance.shape))
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape))
    new = build_generator(features=8, blocks=1)
    new.set_weights(old.get_weights())
    lr = rng.uniform(-1, 1, (2, 12, 12, 3)).astype(np.float32)
    before = old.predict(lr, verbose=0)
    assert np.abs(new.predict(lr, verbose=0) - before).max() > 1e-3  # the epsilon matters
    assert norm.convert_epsilon(new, norm.KERAS_EPSILON) == 2
    np.testing.assert_allclose(new.predict(lr, verbose=0), before, atol=1e-6)
