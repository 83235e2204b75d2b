import os
import socket

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan.errors import UserError
from srgan.losses import perceptual
from srgan.losses.adversarial import critic_loss, generator_adversarial_loss, gradient_penalty
from srgan.losses.content import content_loss, ms_ssim_loss, mse_loss, ssim_loss

RNG = np.random.default_rng(0)


def images(n=4, size=48):
    return tf.constant(RNG.uniform(-1, 1, (n, size, size, 3)).astype(np.float32))


def linear_critic(w: np.ndarray) -> keras.Model:
    """D(x) = <w, x>: its gradient is w everywhere."""
    x = keras.Input((48, 48, 3))
    dense = keras.layers.Dense(1, use_bias=False)
    model = keras.Model(x, dense(keras.layers.Flatten()(x)))
    dense.set_weights([w.reshape(-1, 1)])
    return model


@pytest.mark.parametrize("norm", [0.3, 1.0, 2.5])
def test_gradient_penalty_of_linear_critic_is_exact(norm):
    w = RNG.normal(size=48 * 48 * 3).astype(np.float32)
    w *= norm / np.linalg.norm(w)
    hr, sr = images(), images()
    epsilon = tf.constant(RNG.uniform(size=(4, 1, 1, 1)).astype(np.float32))
    penalty = gradient_penalty(linear_critic(w), hr, sr, epsilon)
    assert float(penalty) == pytest.approx((norm - 1.0) ** 2, abs=1e-5)


def test_gradient_penalty_takes_the_norm_per_sample():
    # D(x) = 0.5 ||x||^2 has gradient x, so each sample's norm is ||x_i||.
    x = keras.Input((48, 48, 3))
    critic = keras.Model(x, keras.layers.Lambda(
        lambda t: 0.5 * tf.reduce_sum(tf.square(t), axis=[1, 2, 3], keepdims=True)[:, :, 0, 0])(x))
    hr, sr = images(3) * 0.01, images(3) * 0.05
    epsilon = tf.constant([0.0, 0.5, 1.0], shape=(3, 1, 1, 1))
    mixed = (epsilon * hr + (1 - epsilon) * sr).numpy()
    per_sample = np.linalg.norm(mixed.reshape(3, -1), axis=1)
    expected = np.mean((per_sample - 1.0) ** 2)
    whole_batch = (np.linalg.norm(mixed) - 1.0) ** 2
    penalty = float(gradient_penalty(critic, hr, sr, epsilon))
    assert penalty == pytest.approx(expected, rel=1e-5)
    assert abs(penalty - whole_batch) > 1e-3


def test_critic_and_generator_losses():
    real, fake = tf.constant([[2.0], [4.0]]), tf.constant([[1.0], [-1.0]])
    loss, wasserstein = critic_loss(real, fake, tf.constant(0.5))
    assert float(wasserstein) == pytest.approx(3.0)
    assert float(loss) == pytest.approx(-3.0 + 10 * 0.5)
    assert float(generator_adversarial_loss(fake)) == pytest.approx(0.0)
    assert float(generator_adversarial_loss(real)) == pytest.approx(-3e-3)


def test_content_losses_vanish_on_identical_images_only():
    hr = images()
    noisy = tf.clip_by_value(hr + 0.2 * images(), -1, 1)
    for name in ("mse", "ssim", "ms_ssim"):
        loss = content_loss(name)
        assert float(loss(hr, hr)) == pytest.approx(0.0, abs=1e-6)
        assert float(loss(hr, noisy)) > 1e-3
    assert float(mse_loss(hr, noisy)) == pytest.approx(np.mean((hr.numpy() - noisy.numpy()) ** 2), rel=1e-5)
    # 0.1 * (1 - SSIM): bounded by 0.2 since SSIM >= -1.
    assert 0 < float(ssim_loss(hr, noisy)) <= 0.2
    assert 0 < float(ms_ssim_loss(hr, noisy)) <= 0.1
    with pytest.raises(ValueError):
        content_loss("l1")


def test_ms_ssim_loss_has_a_gradient_between_a_dark_and_a_bright_image():
    # On [-1, 1] their luminance term is negative, which MS-SSIM clips to 0: the loss sat
    # at 0.1 with no gradient. On [0, 2], as MS-SSIM requires, it is neither.
    base = RNG.uniform(-0.2, 0.2, (2, 48, 48, 3)).astype(np.float32)
    hr, sr = tf.constant(base - 0.6), tf.Variable(base * 0.5 + 0.4)
    with tf.GradientTape() as tape:
        loss = ms_ssim_loss(hr, sr)
    assert 0.0 < float(loss) < 0.05
    assert float(tf.reduce_max(tf.abs(tape.gradient(loss, sr)))) > 0.0


def test_vgg_input_is_caffe_preprocessed_at_56px():
    red = np.zeros((1, 48, 48, 3), np.float32) - 1.0
    red[..., 0] = 1.0  # pure red in [-1, 1]
    out = perceptual.vgg_input(tf.constant(red)).numpy()
    assert out.shape == (1, 56, 56, 3)
    # BGR order, ImageNet mean (B 103.939, G 116.779, R 123.68) removed.
    np.testing.assert_allclose(out[0, 10, 10], [-103.939, -116.779, 255 - 123.68], atol=1e-3)


@pytest.fixture(scope="module")
def random_vgg_weights(tmp_path_factory):
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=(56, 56, 3))
    path = tmp_path_factory.mktemp("vgg") / "vgg19_random.weights.h5"
    vgg.save_weights(path)
    return path, vgg


def test_vgg_weights_load_from_a_local_file(random_vgg_weights):
    path, reference = random_vgg_weights
    features = perceptual.build_vgg_features(str(path))
    assert not features.trainable_weights
    np.testing.assert_array_equal(features.get_layer("block1_conv1").get_weights()[0],
                                  reference.get_layer("block1_conv1").get_weights()[0])
    hr = images(2)
    assert float(perceptual.perceptual_loss(features, hr, hr)) == 0.0
    assert float(perceptual.perceptual_loss(features, hr, images(2))) > 0.0


def test_vgg_pools_same_as_the_reference(random_vgg_weights):
    # The reference's VGG19 pads its max-pools SAME: at its 56 px input block4_pool is 4x4,
    # its last row and column the max of block4_conv4's 7th (Keras' VALID pool gives 3x3).
    path, _ = random_vgg_weights
    features = perceptual.build_vgg_features(str(path))
    assert features.output_shape == (None, 4, 4, 512)
    below = keras.Model(features.input, features.get_layer("block4_conv4").output)
    x = images(1, 56) * 100.0
    conv, pooled = below(x).numpy()[0], features(x).numpy()[0]
    assert conv.shape == (7, 7, 512)
    np.testing.assert_allclose(pooled[3, 3], conv[6, 6], rtol=1e-6)
    np.testing.assert_allclose(pooled[3, 0], conv[6, 0:2].max(axis=0), rtol=1e-6)
    np.testing.assert_allclose(pooled[1, 2], conv[2:4, 4:6].max(axis=(0, 1)), rtol=1e-6)
    vgg54 = perceptual.build_vgg_features(str(path), perceptual.VGG54_LAYER, 48)
    assert vgg54.output_shape == (None, 3, 3, 512)  # the baselines' block5_conv4 at 48 px


def test_missing_vgg_file_names_the_three_ways(tmp_path):
    with pytest.raises(UserError) as error:
        perceptual.build_vgg_features(str(tmp_path / "nope.h5"))
    for way in ("--vgg_weights imagenet", "--vgg_weights PATH", "--vgg_weights none"):
        assert way in str(error.value)


def test_offline_imagenet_download_is_a_clear_error(monkeypatch):
    cache = os.path.join(os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")), "models",
                         "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")
    if os.path.exists(cache):
        pytest.skip("the ImageNet weights are cached here, so no download is tried")

    def offline(*args, **kwargs):
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    with pytest.raises(UserError) as error:
        perceptual.build_vgg_features("imagenet")
    assert "--vgg_weights none" in str(error.value)


def test_gray_ssim_equals_tensorflows():
    from srgan.losses.content import gray_ssim
    rng = np.random.default_rng(5)
    x = tf.constant(rng.uniform(-1, 1, [3, 48, 48, 1]).cumsum(axis=2) / 8, tf.float32)
    y = tf.clip_by_value(x + tf.constant(rng.normal(0, 0.1, [3, 48, 48, 1]), tf.float32), -1, 1)
    np.testing.assert_allclose(gray_ssim(x, y).numpy(), tf.image.ssim(x, y, max_val=2.0).numpy(),
                               rtol=1e-4, atol=1e-5)
    compiled = tf.function(gray_ssim, jit_compile=True,
                           input_signature=[tf.TensorSpec([None, None, None, 1])] * 2)
    np.testing.assert_allclose(compiled(x, y).numpy(), gray_ssim(x, y).numpy(), atol=1e-5)
