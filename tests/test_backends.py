"""What every Keras backend must compute alike: the degradation (and, as the JAX
training lands, the losses and steps), and the command line's word on the backend."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from srgan.data.degrade import downsample, from_model, to_model

ROOT = Path(__file__).resolve().parents[1]


def run_under(backend: str, program: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """`program` in a fresh Python under KERAS_BACKEND=`backend`, TensorFlow blocked."""
    code = "import sys; sys.modules['tensorflow'] = None\n" + program
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "KERAS_BACKEND": backend}, timeout=300)


def test_jax_makes_the_same_lr_to_the_level_and_the_same_model_values(tmp_path):
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (3, 48, 64, 3), dtype=np.uint8)
    # A real photo too: its edges are where two resizers part first.
    import skimage.data
    photo = skimage.data.astronaut()[:192, :256]
    np.savez(tmp_path / "hr.npz", hr=hr, photo=photo)
    done = run_under("jax", (
        "import numpy as np, keras\n"
        "from srgan.data.degrade import downsample, from_model, to_model\n"
        f"data = np.load({str(tmp_path / 'hr.npz')!r})\n"
        "out = {'lr': downsample(data['hr']), 'photo': downsample(data['photo']),\n"
        "       'model': to_model(data['hr']), 'back': from_model(to_model(data['hr']) * 0.9)}\n"
        "assert keras.backend.backend() == 'jax'\n"
        f"np.savez({str(tmp_path / 'jax.npz')!r}, **{{k: keras.ops.convert_to_numpy(v) for k, v in out.items()}})\n"
    ), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    jax = np.load(tmp_path / "jax.npz")
    np.testing.assert_array_equal(jax["lr"], np.asarray(downsample(hr)))
    np.testing.assert_array_equal(jax["photo"], np.asarray(downsample(photo)))
    # One float32 rounding apart: XLA divides by multiplying with the reciprocal.
    np.testing.assert_allclose(jax["model"], np.asarray(to_model(hr)), rtol=0, atol=2.5e-7)
    np.testing.assert_array_equal(jax["back"], np.asarray(from_model(to_model(hr) * 0.9)))
    assert jax["lr"].shape == (3, 12, 16, 3) and jax["back"].dtype == np.uint8


def _missing_backend() -> str:
    missing = [name for name in ("torch", "openvino") if importlib.util.find_spec(name) is None]
    if not missing:
        pytest.skip("every Keras backend is installed here")
    return missing[0]


@pytest.mark.parametrize("backend, says", [
    ("bogus", "KERAS_BACKEND is 'bogus', not a Keras backend; installed here: {installed}"),
    ("missing", "KERAS_BACKEND is {backend}, which is not installed; installed here: {installed}"),
    ("jax", "KERAS_BACKEND is jax: the command line trains and runs on tensorflow so far"),
])
def test_a_backend_the_command_line_cannot_run_on_is_one_line_naming_the_installed(backend, says):
    from srgan import environment

    backend = _missing_backend() if backend == "missing" else backend
    installed = ", ".join(environment.installed_backends())
    assert installed.startswith("tensorflow, jax")  # both are requirements
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--mode=upscale", "--input", "x.png"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "KERAS_BACKEND": backend})
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: " + says.format(backend=backend, installed=installed))


def test_keras_json_names_the_backend_where_the_environment_does_not(tmp_path, monkeypatch):
    from srgan import environment
    from srgan.errors import UserError

    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert environment.keras_backend() == "tensorflow"  # no keras.json: Keras' default
    (tmp_path / "keras.json").write_text('{"backend": "nonsense"}')
    with pytest.raises(UserError, match=r"keras.json's backend is 'nonsense', not a Keras backend"):
        environment.keras_backend()


def test_jax_computes_the_same_content_losses_and_gradients(tmp_path):
    import tensorflow as tf

    from srgan.losses.content import mse_loss, ssim_loss

    rng = np.random.default_rng(2)
    hr = (rng.uniform(-1, 1, (4, 48, 48, 3)).cumsum(axis=2) / 12).clip(-1, 1).astype(np.float32)
    sr = (hr + rng.normal(0, 0.1, hr.shape)).clip(-1, 1).astype(np.float32)
    np.savez(tmp_path / "pair.npz", hr=hr, sr=sr)
    done = run_under("jax", (
        "import jax, numpy as np\n"
        "from srgan.losses.content import mse_loss, ssim_loss\n"
        f"data = np.load({str(tmp_path / 'pair.npz')!r})\n"
        "hr, sr = jax.numpy.asarray(data['hr']), jax.numpy.asarray(data['sr'])\n"
        "out = {}\n"
        "for name, loss in (('mse', mse_loss), ('ssim', ssim_loss)):\n"
        "    value, grad = jax.value_and_grad(lambda s: loss(hr, s))(sr)\n"
        "    out[name], out[name + '_grad'] = np.asarray(value), np.asarray(grad)\n"
        f"np.savez({str(tmp_path / 'jax.npz')!r}, **out)\n"
    ), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    jax = np.load(tmp_path / "jax.npz")
    for name, loss in (("mse", mse_loss), ("ssim", ssim_loss)):
        variable = tf.Variable(sr)
        with tf.GradientTape() as tape:
            value = loss(tf.constant(hr), variable)
        np.testing.assert_allclose(jax[name], float(value), rtol=1e-5, err_msg=name)
        gradient = tape.gradient(value, variable).numpy()
        assert np.abs(gradient).max() > 0, name
        np.testing.assert_allclose(jax[name + "_grad"], gradient, rtol=1e-4,
                                   atol=1e-4 * np.abs(gradient).max(), err_msg=name)
