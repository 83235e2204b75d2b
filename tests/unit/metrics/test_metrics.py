"""Image-quality metrics against scikit-image, TensorFlow and hand-worked values."""

import io

import numpy as np
import pytest
import skimage.data
import tensorflow as tf
from PIL import Image
from scipy.signal import convolve2d
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from srgan.losses.content import batch_ms_ssim
from srgan.metrics import crop_border, gmsd, mean_gradient, ms_ssim, ms_ssim_scales, psnr, sharpness, ssim
from srgan.metrics.color import channel_bias
from srgan.metrics.gmsd import _average_downsample
from srgan.metrics.ms_ssim import MS_SSIM_WEIGHTS, ms_ssim_weights

BORDER = 4
PHOTOS = {
    "astronaut": skimage.data.astronaut,  # 512x512
    "chelsea": skimage.data.chelsea,  # 300x451: odd width, odd sizes at coarse scales
    "coffee": skimage.data.coffee,  # 400x600
}


def _degrade(hr: np.ndarray) -> np.ndarray:
    """x4 bicubic down and up, then a JPEG round trip: a typical SR-like error."""
    image = Image.fromarray(hr)
    small = image.resize((hr.shape[1] // 4, hr.shape[0] // 4), Image.BICUBIC)
    blurry = small.resize((hr.shape[1], hr.shape[0]), Image.BICUBIC)
    buffer = io.BytesIO()
    blurry.save(buffer, format="JPEG", quality=50)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))


def _y_plane(rgb: np.ndarray) -> np.ndarray:
    """BT.601 Y written out per channel, independently of srgan.metrics.rgb_to_y."""
    r, g, b = (rgb[..., c].astype(np.float64) / 255.0 for c in range(3))
    return 16.0 + 65.481 * r + 128.553 * g + 24.966 * b


def _cropped_y(rgb: np.ndarray) -> np.ndarray:
    return _y_plane(rgb)[BORDER:-BORDER, BORDER:-BORDER]


@pytest.fixture(scope="module", params=sorted(PHOTOS))
def photo_pair(request) -> tuple[np.ndarray, np.ndarray]:
    hr = PHOTOS[request.param]()
    return hr, _degrade(hr)


def test_psnr_matches_skimage_on_cropped_y(photo_pair):
    hr, sr = photo_pair
    expected = peak_signal_noise_ratio(_cropped_y(hr), _cropped_y(sr), data_range=255)
    assert psnr(hr, sr) == pytest.approx(expected, abs=1e-9)
    assert 15.0 < psnr(hr, sr) < 40.0


def test_ssim_matches_skimage_on_cropped_y(photo_pair):
    hr, sr = photo_pair
    # sigma 1.5 with skimage's truncate 3.5 is an 11x11 window (radius 5); it then
    # averages only pixels 5 or more from the edge, i.e. 'valid' filtering.
    expected = structural_similarity(
        _cropped_y(hr),
        _cropped_y(sr),
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )
    assert ssim(hr, sr) == pytest.approx(expected, abs=1e-9)
    assert 0.3 < ssim(hr, sr) < 1.0


def test_identical_images():
    hr = skimage.data.astronaut()[:64, :64]  # 56x56 after the crop: 3 scales
    assert psnr(hr, hr.copy()) == float("inf")
    assert ssim(hr, hr.copy()) == pytest.approx(1.0, abs=1e-12)
    assert ms_ssim(hr, hr.copy()) == (pytest.approx(1.0, abs=1e-12), 3)
    assert gmsd(hr, hr.copy()) == 0.0


def test_ms_ssim_scale_counts():
    sizes = (161, 160, 81, 80, 48, 41, 40, 21, 11, 10)
    assert [ms_ssim_scales(size) for size in sizes] == [5, 4, 4, 3, 3, 3, 2, 2, 1, 0]
    assert ms_ssim_scales(10_000) == 5


def _tf_ms_ssim_on_y(hr: np.ndarray, sr: np.ndarray, scales: int) -> float:
    """tf.image.ssim_multiscale on the cropped Y planes.

    Conventions match ours: 11x11 window, sigma 1.5, valid filtering, population
    variances, odd sides padded by repeating the last row/column before the 2x2
    average pool; it runs in float32, hence the looser tolerance.
    """
    weights = np.array(MS_SSIM_WEIGHTS[:scales]) / sum(MS_SSIM_WEIGHTS[:scales])
    planes = [
        tf.constant(_cropped_y(x)[None, :, :, None], tf.float32) for x in (hr, sr)
    ]
    value = tf.image.ssim_multiscale(
        *planes, 255.0, power_factors=list(weights), filter_size=11
    )
    return float(value[0])


def test_ms_ssim_matches_tensorflow_with_five_scales(photo_pair):
    hr, sr = photo_pair
    value, scales = ms_ssim(hr, sr)
    assert scales == 5
    assert 0.0 < value <= 1.0
    assert value == pytest.approx(_tf_ms_ssim_on_y(hr, sr, 5), abs=1e-5)


def test_ms_ssim_renormalises_weights_on_small_images():
    hr = skimage.data.coffee()[100:170, 200:273]  # 62x65 after the crop: 3 scales
    sr = _degrade(hr)
    value, scales = ms_ssim(hr, sr)
    assert scales == 3
    assert 0.0 < value < 1.0
    assert value == pytest.approx(_tf_ms_ssim_on_y(hr, sr, 3), abs=1e-5)


def test_ms_ssim_rejects_images_below_one_scale():
    tiny = np.zeros((10, 12, 3), np.uint8)
    with pytest.raises(ValueError, match="at least 11x11"):
        ms_ssim(tiny, tiny, border=0)
    with pytest.raises(ValueError, match="at least 11x11"):
        ms_ssim(np.zeros((18, 18, 3), np.uint8), np.zeros((18, 18, 3), np.uint8))


def test_gmsd_hand_worked_constant_images():
    # hr is RGB (100, 100, 100), sr (200, 200, 200), both 8x8. Gray weights sum to
    # 0.9999, so the gray planes are u = 99.99 and v = 199.98 everywhere.
    # 2x2 block means: 4x4 planes of u and v. Prewitt with zero padding on a
    # constant plane g: inside, both gradients are 0; on an edge (not a corner) the
    # gradient across the edge is (3 g - 0) / 3 = g, the other is 0, so m = g; in a
    # corner both gradients are (2 g - 0) / 3, so m^2 = 8/9 g^2. With s^2 the
    # factor (0 inside, 1 on edges, 8/9 in corners):
    #   GMS = (2 u v s^2 + 170) / ((u^2 + v^2) s^2 + 170)
    #   inside (4 px): 1
    #   edges  (8 px): (2*99.99*199.98 + 170) / (99.99^2 + 199.98^2 + 170)
    #                = 40162.0004 / 50160.0005 = 0.8006778
    #   corners(4 px): (40162.0004 - 170) * 8/9 + 170 = 35718.4448 over
    #                  (50160.0005 - 170) * 8/9 + 170 = 44605.5560 -> 0.8007622
    #   mean = (4 * 1 + 8 * 0.8006778 + 4 * 0.8007622) / 16 = 0.8505295
    #   squared deviations: 4 * 0.1494705^2 + 8 * 0.0498517^2 + 4 * 0.0497672^2
    #                     = 0.0893657 + 0.0198815 + 0.0099071 = 0.1191543
    #   std (N-1) = sqrt(0.1191543 / 15) = 0.0891270
    u, v = 99.99, 199.98
    edges = (2 * u * v + 170) / (u**2 + v**2 + 170)
    corners = (2 * u * v * 8 / 9 + 170) / ((u**2 + v**2) * 8 / 9 + 170)
    gms = np.array([1.0] * 4 + [edges] * 8 + [corners] * 4)
    expected = np.sqrt(((gms - gms.mean()) ** 2).sum() / 15)
    assert expected == pytest.approx(0.0891270, abs=1e-7)

    hr = np.full((8, 8, 3), 100, np.uint8)
    sr = np.full((8, 8, 3), 200, np.uint8)
    assert gmsd(hr, sr) == pytest.approx(expected, abs=1e-12)


def test_gmsd_averages_aligned_two_by_two_blocks():
    # Rows and columns 0,1 | 2,3 | ... average to 100 pairwise, but the shifted
    # pairs 1,2 | 3,4 do not: only aligned 2x2 block means give a flat image.
    q = np.array([0, 200, 50, 150, 0, 200, 50, 150], np.float64)
    gray = (q[:, None] + q[None, :]) / 2
    sr = np.repeat(gray[..., None], 3, axis=2).astype(np.uint8)
    hr = np.full((8, 8, 3), 100, np.uint8)
    assert gmsd(hr, sr) < 1e-12
    assert gmsd(hr, np.roll(sr, 1, axis=0)) > 1e-3


def test_gmsd_odd_sides_use_zero_padding():
    # MATLAB conv2(x, ones(2)/4, 'same') then (1:2:end): zeros past the edge.
    x = np.arange(1.0, 10.0).reshape(3, 3)
    assert np.array_equal(
        _average_downsample(x),
        [[(1 + 2 + 4 + 5) / 4, (3 + 6) / 4], [(7 + 8) / 4, 9 / 4]],
    )


def test_gmsd_is_symmetric_and_grows_with_distortion():
    hr = skimage.data.chelsea()
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(hr.shape)
    scores = [
        gmsd(hr, np.clip(hr + sigma * noise, 0, 255).round().astype(np.uint8))
        for sigma in (2, 8, 32)
    ]
    assert 0.0 < scores[0] < scores[1] < scores[2]
    sr = _degrade(hr)
    assert gmsd(hr, sr) == pytest.approx(gmsd(sr, hr), abs=1e-15)


def _matlab_conv2_same(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """MATLAB conv2(x, kernel, 'same'): the full convolution from index k // 2."""
    full = convolve2d(x, kernel, mode="full")
    top, left = kernel.shape[0] // 2, kernel.shape[1] // 2
    return full[top : top + x.shape[0], left : left + x.shape[1]]


def test_gmsd_matches_the_authors_matlab_steps(photo_pair):
    # GMSD.m line by line, with scipy's convolution standing in for conv2.
    hr, sr = photo_pair
    dx = np.array([[1, 0, -1]] * 3) / 3
    maps = []
    for rgb in (hr, sr):
        gray = rgb.astype(np.float64) @ np.array([0.2989, 0.5870, 0.1140])
        gray = _matlab_conv2_same(gray, np.ones((2, 2)) / 4)[::2, ::2]
        gradient_x = _matlab_conv2_same(gray, dx)
        gradient_y = _matlab_conv2_same(gray, dx.T)
        maps.append(np.hypot(gradient_x, gradient_y))
    m1, m2 = maps
    expected = np.std((2 * m1 * m2 + 170) / (m1**2 + m2**2 + 170), ddof=1)
    assert gmsd(hr, sr) == pytest.approx(expected, abs=1e-12)
    assert 0.02 < gmsd(hr, sr) < 0.3


@pytest.mark.parametrize("metric", [psnr, ssim, ms_ssim, gmsd])
def test_metrics_reject_bad_inputs(metric):
    hr = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        metric(hr, hr.astype(np.float32))
    with pytest.raises(ValueError, match="shapes differ"):
        metric(hr, np.zeros((32, 33, 3), np.uint8))
    with pytest.raises(ValueError, match="HxWx3"):
        metric(hr[..., 0], hr[..., 0])


def test_crop_border_errors():
    image = np.zeros((8, 10, 3), np.uint8)
    assert crop_border(image, 2).shape == (4, 6, 3)
    with pytest.raises(ValueError, match="leaves nothing"):
        crop_border(image, 4)
    with pytest.raises(ValueError, match=">= 0"):
        crop_border(image, -1)


def _tf_ssim_multiscale(hr: tf.Tensor, sr: tf.Tensor, max_val: float) -> float:
    """tf.image.ssim_multiscale, batch-mean, with the weights batch_ms_ssim picks."""
    scales = ms_ssim_scales(min(hr.shape[1], hr.shape[2]))
    weights = list(np.array(MS_SSIM_WEIGHTS[:scales]) / sum(MS_SSIM_WEIGHTS[:scales]))
    return float(tf.reduce_mean(tf.image.ssim_multiscale(hr, sr, max_val, power_factors=weights)))


@pytest.mark.parametrize("size", [(48, 48), (45, 47)])
def test_batch_ms_ssim_is_tensorflows_ssim_multiscale(size):
    rng = np.random.default_rng(1)
    hr = rng.integers(0, 256, (2, *size, 3)).astype(np.uint8)
    sr = np.clip(hr + rng.normal(0, 20, hr.shape), 0, 255).round().astype(np.uint8)
    hr_t, sr_t = tf.constant(hr, tf.float32), tf.constant(sr, tf.float32)

    assert float(batch_ms_ssim(hr_t, hr_t, 255.0)) == pytest.approx(1.0, abs=1e-6)
    value = float(batch_ms_ssim(hr_t, sr_t, 255.0))
    assert 0.0 < value < 1.0
    # Odd sides exercise the repeated last row and column before each halving.
    assert value == pytest.approx(_tf_ssim_multiscale(hr_t, sr_t, 255.0), abs=1e-5)
    # The numpy metric (one plane, no crop) picks the same 3 scales and agrees.
    for image in range(2):
        y1, y2 = _y_plane(hr[image]), _y_plane(sr[image])
        expected, scales = ms_ssim(hr[image], sr[image], border=0)
        assert scales == 3
        got = batch_ms_ssim(
            tf.constant(y1[None, ..., None], tf.float32),
            tf.constant(y2[None, ..., None], tf.float32),
            255.0,
        )
        assert float(got) == pytest.approx(expected, abs=1e-4)

    sr_var = tf.Variable(sr_t)
    with tf.GradientTape() as tape:
        loss = 1.0 - batch_ms_ssim(hr_t, sr_var, 255.0)
    gradient = tape.gradient(loss, sr_var)
    with tf.GradientTape() as tape:
        reference = 1.0 - tf.reduce_mean(tf.image.ssim_multiscale(
            hr_t, sr_var, 255.0, power_factors=list(ms_ssim_weights(3))))
    expected_gradient = tape.gradient(reference, sr_var).numpy()
    assert float(tf.reduce_max(tf.abs(gradient))) > 0.0
    np.testing.assert_allclose(gradient.numpy(), expected_gradient, rtol=1e-3,
                               atol=1e-4 * np.abs(expected_gradient).max())


def test_batch_ms_ssim_needs_static_size():
    fn = tf.function(
        lambda x: batch_ms_ssim(x, x, 1.0),
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)],
    )
    with pytest.raises(ValueError, match="static"):
        fn.get_concrete_function()


def test_channel_bias_is_the_mean_signed_error_per_channel():
    hr = skimage.data.chelsea()
    tinted = np.clip(hr.astype(int) + [0, -2, 5], 0, 255).astype(np.uint8)
    expected = [np.mean(tinted[..., c].astype(float) - hr[..., c]) for c in range(3)]
    np.testing.assert_allclose(channel_bias(hr, tinted), expected)
    assert abs(channel_bias(hr, tinted)[2] - 5) < 0.1 and channel_bias(hr, hr).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="two RGB arrays of one shape"):
        channel_bias(hr, hr[:10])


def test_mean_gradient_by_hand():
    # A gray ramp rising 10 RGB levels a column, flat down the rows: on Y every dx is
    # 10 * 219/255 (BT.601's span) and every dy 0, so the mean magnitude is 8.588...
    ramp = np.repeat(np.repeat((np.arange(6) * 10).astype(np.uint8)[None, :, None], 6, 0), 3, 2)
    assert mean_gradient(ramp) == pytest.approx(10 * 219 / 255, rel=1e-12)
    # A checkerboard of 0 and 255: each of dx, dy is +-219, the magnitude 219 sqrt(2).
    board = (np.indices((6, 6)).sum(axis=0) % 2 * 255).astype(np.uint8)
    board = np.repeat(board[:, :, None], 3, axis=2)
    assert mean_gradient(board) == pytest.approx(219 * np.sqrt(2), rel=1e-12)
    assert mean_gradient(board, border=1) == pytest.approx(219 * np.sqrt(2), rel=1e-12)
    assert sharpness(board, ramp) == pytest.approx(10 / 255 / np.sqrt(2), rel=1e-12)


def test_sharpness_is_one_for_the_photo_below_for_blur_above_for_sharpening():
    from PIL import ImageFilter

    photo = skimage.data.astronaut()[64:192, 160:288]
    image = Image.fromarray(photo)
    blurred = np.asarray(image.filter(ImageFilter.GaussianBlur(1.5)))
    sharpened = np.asarray(image.filter(ImageFilter.UnsharpMask(radius=2, percent=150)))
    assert sharpness(photo, photo, border=4) == 1.0
    assert sharpness(photo, blurred, border=4) < 0.7  # 0.58
    assert sharpness(photo, sharpened, border=4) > 1.3  # 1.96
    flat = np.full((16, 16, 3), 90, np.uint8)
    assert np.isnan(sharpness(flat, photo[:16, :16]))
