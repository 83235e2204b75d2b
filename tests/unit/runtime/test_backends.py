"""What every Keras backend must compute alike: the degradation, the losses and their
gradients, the warm-up step; and the command line's word on the backend. Each JAX side
runs in a fresh process with TensorFlow blocked, as on the accelerator machine."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from srgan.data.degrade import downsample, from_model, to_model
from tests.helpers import ROOT


def under_jax(tmp_path: Path, program: str, **inputs: np.ndarray) -> dict[str, np.ndarray]:
    """Runs `program` in a fresh Python under KERAS_BACKEND=jax with TensorFlow blocked:
    it finds `inputs` in the dict `data` and leaves what it computed, arrays or numbers,
    in the dict `out`, which comes back."""
    np.savez(tmp_path / "inputs.npz", **inputs)
    code = ("import sys; sys.modules['tensorflow'] = None\n"
            "import keras, numpy as np\n"
            f"data = dict(np.load({str(tmp_path / 'inputs.npz')!r}))\n"
            "out = {}\n" + program + "\n"
            "assert keras.backend.backend() == 'jax'\n"
            f"np.savez({str(tmp_path / 'outputs.npz')!r},"
            " **{k: keras.ops.convert_to_numpy(v) for k, v in out.items()})\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "KERAS_BACKEND": "jax"}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(np.load(tmp_path / "outputs.npz"))


def test_jax_makes_the_same_lr_to_the_level_and_the_same_model_values(tmp_path):
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, (3, 48, 64, 3), dtype=np.uint8)
    # A real photo too: its edges are where two resizers part first.
    import skimage.data
    photo = skimage.data.astronaut()[:192, :256]
    jax = under_jax(tmp_path, (
        "from srgan.data.degrade import downsample, from_model, to_model\n"
        "out = {'lr': downsample(data['hr']), 'photo': downsample(data['photo']),\n"
        "       'model': to_model(data['hr']), 'back': from_model(to_model(data['hr']) * 0.9)}\n"
    ), hr=hr, photo=photo)
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
    ("numpy", "KERAS_BACKEND is numpy: the command line runs on tensorflow and jax."),
])
def test_a_backend_the_command_line_cannot_run_on_is_one_line_naming_the_installed(backend, says):
    from srgan.runtime import environment

    backend = _missing_backend() if backend == "missing" else backend
    installed = ", ".join(environment.installed_backends())
    assert installed.startswith("tensorflow, jax")  # both are requirements
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--mode=upscale", "--input", "x.png"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "KERAS_BACKEND": backend})
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: " + says.format(backend=backend, installed=installed))


@pytest.mark.parametrize("flags, says", [
    (["--strategy", "multiworker"], "error: --strategy multiworker is TensorFlow's; under KERAS_BACKEND=jax"),
    (["--mode=export"], "error: --mode=export writes a TensorFlow SavedModel"),
])
def test_what_jax_does_not_run_is_one_line(tmp_path, flags, says):
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), *flags, "--checkpoint_dir",
                           str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "KERAS_BACKEND": "jax"})
    assert done.returncode == 1, done.stderr[-2000:]
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(says), done.stderr
    assert not (tmp_path / "run").exists()


def test_keras_json_names_the_backend_where_the_environment_does_not(tmp_path, monkeypatch):
    from srgan.errors import UserError
    from srgan.runtime import environment

    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert environment.keras_backend() == "tensorflow"  # no keras.json: Keras' default
    (tmp_path / "keras.json").write_text('{"backend": "nonsense"}')
    with pytest.raises(UserError, match=r"keras.json's backend is 'nonsense', not a Keras backend"):
        environment.keras_backend()


def test_jax_computes_the_same_content_losses_and_gradients(tmp_path):
    import tensorflow as tf

    from srgan.losses.content import ms_ssim_loss, mse_loss, ssim_loss

    rng = np.random.default_rng(2)
    hr = (rng.uniform(-1, 1, (4, 48, 48, 3)).cumsum(axis=2) / 12).clip(-1, 1).astype(np.float32)
    sr = (hr + rng.normal(0, 0.1, hr.shape)).clip(-1, 1).astype(np.float32)
    jax = under_jax(tmp_path, (
        "import jax\n"
        "from srgan.losses.content import ms_ssim_loss, mse_loss, ssim_loss\n"
        "for name, loss in (('mse', mse_loss), ('ssim', ssim_loss), ('ms_ssim', ms_ssim_loss)):\n"
        "    value, grad = jax.value_and_grad(lambda s: loss(data['hr'], s))(data['sr'])\n"
        "    out[name], out[name + '_grad'] = value, grad\n"
    ), hr=hr, sr=sr)
    for name, loss in (("mse", mse_loss), ("ssim", ssim_loss), ("ms_ssim", ms_ssim_loss)):
        variable = tf.Variable(sr)
        with tf.GradientTape() as tape:
            value = loss(tf.constant(hr), variable)
        # 0.1 * (1 - S) with S near 1 cancels: float32's error in S is absolute in the loss.
        np.testing.assert_allclose(jax[name], float(value), rtol=1e-5, atol=1e-6, err_msg=name)
        gradient = tape.gradient(value, variable).numpy()
        assert np.abs(gradient).max() > 0, name
        np.testing.assert_allclose(jax[name + "_grad"], gradient, rtol=1e-4,
                                   atol=1e-4 * np.abs(gradient).max(), err_msg=name)


# A small critic, built alike in both processes: two convolutions and a linear score.
SMALL_CRITIC = (
    "import keras\n"
    "def small_critic():\n"
    "    x = keras.Input((16, 16, 3))\n"
    "    h = keras.layers.LeakyReLU(0.2)(keras.layers.Conv2D(8, 3, padding='same')(x))\n"
    "    h = keras.layers.LeakyReLU(0.2)(keras.layers.Conv2D(8, 3, padding='same')(h))\n"
    "    return keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(h)))\n"
)


def test_jax_computes_the_same_gradient_penalty_and_its_gradient_by_the_weights(tmp_path):
    import keras
    import tensorflow as tf

    from srgan.losses.adversarial import gradient_penalty

    namespace = {}
    exec(SMALL_CRITIC, namespace)
    keras.utils.set_random_seed(6)
    critic = namespace["small_critic"]()
    critic.save_weights(tmp_path / "critic.weights.h5")
    rng = np.random.default_rng(6)
    hr, sr = (rng.uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32) for _ in range(2))
    epsilon = rng.uniform(size=(4, 1, 1, 1)).astype(np.float32)
    jax = under_jax(tmp_path, SMALL_CRITIC + (
        "import jax\n"
        "from srgan.losses.adversarial import gradient_penalty\n"
        "critic = small_critic()\n"
        f"critic.load_weights({str(tmp_path / 'critic.weights.h5')!r})\n"
        "fixed = [v.value for v in critic.non_trainable_variables]\n"
        "def penalty(weights):\n"
        "    score = lambda x: critic.stateless_call(weights, fixed, x)[0]\n"
        "    return gradient_penalty(score, data['hr'], data['sr'], data['epsilon'])\n"
        "value, grads = jax.value_and_grad(penalty)([v.value for v in critic.trainable_variables])\n"
        "out = {'value': value, **{f'g{i}': g for i, g in enumerate(grads)}}\n"
    ), hr=hr, sr=sr, epsilon=epsilon)
    with tf.GradientTape() as tape:
        value = gradient_penalty(critic, tf.constant(hr), tf.constant(sr), tf.constant(epsilon))
    grads = tape.gradient(value, critic.trainable_variables)
    assert float(value) > 0.01  # far from the penalty's minimum: its gradient says something
    np.testing.assert_allclose(jax["value"], float(value), rtol=1e-5)
    for i, (grad, weight) in enumerate(zip(grads, critic.trainable_variables)):
        # The score's bias moves no input gradient: TensorFlow says None, JAX zeros.
        grad = np.zeros(weight.shape, np.float32) if grad is None else grad.numpy()
        np.testing.assert_allclose(jax[f"g{i}"], grad, rtol=1e-4,
                                   atol=1e-5 * max(np.abs(grad).max(), 1e-12), err_msg=f"weight {i}")


def test_jax_computes_the_same_perceptual_loss(tmp_path):
    import keras

    from srgan.losses import perceptual

    keras.utils.set_random_seed(8)
    keras.applications.VGG19(include_top=False, weights=None, input_shape=(56, 56, 3)).save_weights(
        tmp_path / "vgg.weights.h5")
    vgg = perceptual.build_vgg_features(str(tmp_path / "vgg.weights.h5"))
    rng = np.random.default_rng(8)
    hr = rng.uniform(-1, 1, (2, 48, 48, 3)).astype(np.float32)
    sr = (hr + rng.normal(0, 0.2, hr.shape)).clip(-1, 1).astype(np.float32)
    jax = under_jax(tmp_path, (
        "from srgan.losses import perceptual\n"
        f"vgg = perceptual.build_vgg_features({str(tmp_path / 'vgg.weights.h5')!r})\n"
        "out = {'loss': perceptual.perceptual_loss(vgg, data['hr'], data['sr']),\n"
        "       'shape': np.array(vgg.output_shape[1:])}\n"
    ), hr=hr, sr=sr)
    assert jax["shape"].tolist() == [4, 4, 512]  # SAME pooling under JAX too
    expected = float(perceptual.perceptual_loss(vgg, hr, sr))
    assert expected > 0
    assert float(jax["loss"]) == pytest.approx(expected, rel=1e-4)


# The optimizers the warm-up takes, built alike in both processes.
OPTIMIZERS = {"rmsprop": "TF1RMSprop(1e-3)", "adam": "keras.optimizers.Adam(1e-3)"}


@pytest.mark.slow
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_jax_takes_the_same_first_five_warm_up_steps(tmp_path, name):
    # A tiny seed generator, the seed's RMSProp (TF1's rule) or Adam, the same batches:
    # JAX's compiled step (srgan/training/jax_steps.py) against TensorFlow's (srgan/training/tf_steps.py).
    import keras
    import tensorflow as tf

    from srgan.models.registry import build_networks
    from srgan.run.state import Networks
    from srgan.training.rmsprop import TF1RMSprop
    from srgan.training.tf_steps import TrainSteps

    keras.utils.set_random_seed(9)
    generator, critic = build_networks("seed", 4, 1, 48)
    generator.save_weights(tmp_path / "generator.weights.h5")
    rng = np.random.default_rng(9)
    hr = [(rng.uniform(-1, 1, (4, 48, 48, 3)).cumsum(axis=2) / 10).clip(-1, 1).astype(np.float32)
          for _ in range(5)]
    lr = [np.asarray(to_model(downsample((batch + 1) * 127.5))) for batch in hr]
    build = lambda: eval(OPTIMIZERS[name], {"keras": keras, "TF1RMSprop": TF1RMSprop})  # noqa: E731
    steps = TrainSteps(Networks(generator, critic, build(), build()), None, None)
    losses = [float(steps.warmup_step(tf.constant(x), tf.constant(y))["content"])
              for x, y in zip(lr, hr)]
    jax = under_jax(tmp_path, (
        "from srgan.models.registry import build_networks\n"
        "from srgan.run.state import Networks\n"
        "from srgan.training.jax_steps import JaxSteps\n"
        "from srgan.training.rmsprop import TF1RMSprop\n"
        "generator, critic = build_networks('seed', 4, 1, 48)\n"
        f"generator.load_weights({str(tmp_path / 'generator.weights.h5')!r})\n"
        f"steps = JaxSteps(Networks(generator, critic, {OPTIMIZERS[name]}, {OPTIMIZERS[name]}), None, None)\n"
        "steps.set_learning_rate(1e-3)\n"
        "losses = [float(steps.warmup_step(x, y)['content']) for x, y in zip(data['lr'], data['hr'])]\n"
        "steps.sync()\n"
        f"generator.save_weights({str(tmp_path / 'jax.weights.h5')!r})\n"
        "out['losses'] = np.array(losses)\n"
    ), hr=np.stack(hr), lr=np.stack(lr))
    np.testing.assert_allclose(jax["losses"], losses, rtol=1e-4)
    initial, trained = build_networks("seed", 4, 1, 48)[0], build_networks("seed", 4, 1, 48)[0]
    initial.load_weights(tmp_path / "generator.weights.h5")
    trained.load_weights(tmp_path / "jax.weights.h5")
    pairs = list(zip(generator.trainable_weights, initial.trainable_weights, trained.trainable_weights))
    moved = max(float(np.abs(tf_.numpy() - start.numpy()).max()) for tf_, start, _ in pairs)
    apart = max(float(np.abs(tf_.numpy() - jax_.numpy()).max()) for tf_, _, jax_ in pairs)
    assert moved > 1e-6 and apart < 0.01 * moved, (moved, apart)
    for mine, theirs in zip(generator.non_trainable_weights, trained.non_trainable_weights):
        np.testing.assert_allclose(theirs.numpy(), mine.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=mine.path)  # BatchNorm's moving statistics


LOSS_SCALED = (
    "from srgan.config import TrainConfig\n"
    "from srgan.runtime.precision import policy\n"
    "from srgan.models.registry import build_networks\n"
    "from srgan.run.state import Networks\n"
    "from srgan.training import recipe\n"
    "with policy('mixed_float16'):\n"
    "    generator, critic = build_networks('seed', 4, 1, 48)\n"
    "generator.load_weights(data_dir + '/generator.weights.h5')\n"
    "critic.load_weights(data_dir + '/critic.weights.h5')\n"
    "config = TrainConfig(features=4, blocks=1, vgg_weights='none')\n"
    "g_opt, c_opt, _ = recipe.optimizers(config, loss_scale=True)\n"
    "steps = recipe.step_class('seed')(Networks(generator, critic, g_opt, c_opt), None, recipe.model_losses(config)[1])\n"
    "steps.set_learning_rate(1e-3)\n"
    "terms = [steps.warmup_step(data['lr'][0], data['hr'][0])['content'],\n"
    "         steps.critic_step(data['lr'][1], data['hr'][1], data['epsilon'])['critic'],\n"
    "         steps.generator_step(data['lr'][1], data['hr'][1], False)['generator']]\n"
    "steps.sync()\n"
    "out['terms'] = np.array([float(t) for t in terms])\n"
    "out['scale'] = np.array([float(o.dynamic_scale) for o in (g_opt, c_opt)])\n"
    "out['counter'] = np.array([int(o.step_counter) for o in (g_opt, c_opt)])\n"
    "out['weights'] = np.concatenate([np.ravel(w.numpy()) for w in generator.trainable_weights])\n"
    "# A scale past float16's range: the gradients overflow, the step is skipped and the\n"
    "# scale halves.\n"
    "g_opt.dynamic_scale.assign(1e30)\n"
    "steps.reload()\n"
    "steps.warmup_step(data['lr'][0], data['hr'][0])\n"
    "steps.sync()\n"
    "out['overflow_scale'] = np.array(float(g_opt.dynamic_scale))\n"
    "out['overflow_weights'] = np.concatenate([np.ravel(w.numpy()) for w in generator.trainable_weights])\n"
)


@pytest.mark.slow
def test_jax_keeps_the_loss_scale_under_mixed_float16(tmp_path):
    # A warm-up, a critic and a generator step of a tiny seed model in mixed_float16 with
    # LossScaleOptimizers, the same program under each backend.
    import keras

    from srgan.models.registry import build_networks
    from srgan.runtime.precision import policy
    from srgan.training.draws import penalty_draws

    with policy("mixed_float16"):
        keras.utils.set_random_seed(11)
        generator, critic = build_networks("seed", 4, 1, 48)
    generator.save_weights(tmp_path / "generator.weights.h5")
    critic.save_weights(tmp_path / "critic.weights.h5")
    rng = np.random.default_rng(11)
    hr = (rng.uniform(-1, 1, (2, 2, 48, 48, 3)).cumsum(axis=3) / 10).clip(-1, 1).astype(np.float32)
    lr = np.stack([np.asarray(to_model(downsample((crops + 1) * 127.5))) for crops in hr])
    inputs = dict(hr=hr, lr=lr, epsilon=penalty_draws(11, 0, 2))
    program = f"data_dir = {str(tmp_path)!r}\n" + LOSS_SCALED
    jax = under_jax(tmp_path, program, **inputs)
    out: dict = {}
    exec("import keras, numpy as np\n" + program, {"data": inputs, "out": out})
    np.testing.assert_allclose(jax["terms"], out["terms"], rtol=2e-2)
    # One step each at the initial scale, none overflowed: the scale kept, the counters on.
    np.testing.assert_array_equal(jax["scale"], out["scale"])
    # The warm-up and the GAN phase share the generator's optimizer: two steps on it.
    np.testing.assert_array_equal(jax["counter"], [2, 1])
    np.testing.assert_array_equal(out["counter"], [2, 1])
    np.testing.assert_array_equal(jax["overflow_weights"], jax["weights"])
    assert jax["overflow_scale"] == np.float32(1e30) / 2


# Per model: its content loss (without VGG), how many GAN steps are compared, of how many
# crops, and to what relative tolerance their loss terms. SRGAN's batches are of four: its
# discriminator's BatchNorm, over two, makes every normalised value +-1 and its gradient
# float32 noise (the two backends' generators then ended 44% of their movement apart).
# Even so it amplifies float32 differences fastest: moving the generator's weights by 1e-6
# of themselves moves its second adversarial term by 0.28% under TensorFlow alone, as
# much as the two backends differ there (measured); its generators end 11% of their
# movement apart after two steps. Its BatchNorm statistics are held as the weights are, by
# their distance against their movement: under TensorFlow 2.21 and JAX 0.10 on an AMD EPYC
# the discriminator's end at most 0.27% of their movement apart, but one moving variance of
# 512 ends 2e-3 apart, past an element-wise 1e-3.
_TIGHT = dict(steps=3, batch=2, losses=1e-3, generator=0.01, statistics=1e-5)
GAN_CASES = {"seed": {**_TIGHT, "content": "ssim_loss"},
             "wsrgan": {**_TIGHT, "content": "mse_loss"},
             "srgan": dict(content="mse_loss", steps=2, batch=4, losses=1e-2, generator=0.2,
                           statistics_share=0.01)}


@pytest.mark.slow
@pytest.mark.parametrize("model", GAN_CASES)
def test_jax_takes_the_same_first_gan_steps(tmp_path, model):
    # Each model, tiny, the seed's RMSProp: critic and generator steps (for the seed's, MSE
    # for two, then the SSIM content loss), the same penalty draws, JAX's steps
    # (srgan/training/jax_steps.py) against TensorFlow's (srgan/training/tf_steps.py).
    import keras
    import tensorflow as tf

    from srgan.losses import content as contents
    from srgan.models.registry import build_networks
    from srgan.run.state import Networks
    from srgan.training import recipe
    from srgan.training.draws import penalty_draws
    from srgan.training.rmsprop import TF1RMSprop

    case = GAN_CASES[model]
    loss, count, batch = case["content"], case["steps"], case["batch"]
    keras.utils.set_random_seed(10)
    generator, critic = build_networks(model, 4, 1, 48)
    generator.save_weights(tmp_path / "generator.weights.h5")
    critic.save_weights(tmp_path / "critic.weights.h5")
    rng = np.random.default_rng(10)
    hr = np.stack([(rng.uniform(-1, 1, (batch, 48, 48, 3)).cumsum(axis=2) / 10).clip(-1, 1)
                   for _ in range(count)]).astype(np.float32)
    lr = np.stack([np.asarray(to_model(downsample((crops + 1) * 127.5))) for crops in hr])
    epsilon = np.stack([penalty_draws(10, step, batch) for step in range(count)])
    steps = recipe.step_class(model)(Networks(generator, critic, TF1RMSprop(1e-3), TF1RMSprop(1e-3)), None,
                                   getattr(contents, loss))
    expected = []
    for i in range(count):
        terms = {**steps.critic_step(tf.constant(lr[i]), tf.constant(hr[i]), epsilon[i]),
                 **steps.generator_step(tf.constant(lr[i]), tf.constant(hr[i]), tf.constant(i < 2))}
        expected.append({name: float(value) for name, value in terms.items()})
    jax = under_jax(tmp_path, (
        f"from srgan.losses.content import {loss}\n"
        "from srgan.models.registry import build_networks\n"
        "from srgan.run.state import Networks\n"
        "from srgan.training import recipe\n"
        "from srgan.training.rmsprop import TF1RMSprop\n"
        f"generator, critic = build_networks({model!r}, 4, 1, 48)\n"
        f"generator.load_weights({str(tmp_path / 'generator.weights.h5')!r})\n"
        f"critic.load_weights({str(tmp_path / 'critic.weights.h5')!r})\n"
        f"steps = recipe.step_class({model!r})(Networks(generator, critic, TF1RMSprop(1e-3), TF1RMSprop(1e-3)),\n"
        f"                                   None, {loss})\n"
        f"for i in range({count}):\n"
        "    lr, hr = data['lr'][i], data['hr'][i]\n"
        "    terms = {**steps.critic_step(lr, hr, data['epsilon'][i]),\n"
        "             **steps.generator_step(lr, hr, i < 2)}\n"
        "    for name, value in terms.items():\n"
        "        out.setdefault(name, []).append(float(value))\n"
        "steps.sync()\n"
        f"generator.save_weights({str(tmp_path / 'jax_generator.weights.h5')!r})\n"
        f"critic.save_weights({str(tmp_path / 'jax_critic.weights.h5')!r})\n"
        "out = {name: np.array(values) for name, values in out.items()}\n"
    ), hr=hr, lr=lr, epsilon=epsilon)
    assert jax.keys() == expected[0].keys()
    for name in jax:
        np.testing.assert_allclose(jax[name], [terms[name] for terms in expected], rtol=case["losses"],
                                   atol=1e-6, err_msg=name)
    # The trainable weights as one vector, their distance against their movement. The
    # critic's is looser: its penalty's gradient changes with which LeakyReLUs are active,
    # and at the reference's small initial weights many sit near 0, so moving SR by 1e-6
    # (a few float32 steps, what two backends' generators differ by) moves its score
    # kernel's gradient by 7% (measured under TensorFlow alone): 2.3% apart seen here.
    for network, name, tolerance in ((generator, "generator", case["generator"]),
                                     (critic, "critic", 0.05)):
        start, trained = keras.models.clone_model(network), keras.models.clone_model(network)
        start.load_weights(tmp_path / f"{name}.weights.h5")
        trained.load_weights(tmp_path / f"jax_{name}.weights.h5")
        flat = [np.concatenate([w.numpy().ravel() for w in model.trainable_weights])
                for model in (network, start, trained)]
        moved, apart = np.linalg.norm(flat[0] - flat[1]), np.linalg.norm(flat[0] - flat[2])
        assert moved > 1e-6 and apart < tolerance * moved, (name, moved, apart)
        for mine, theirs, first in zip(network.non_trainable_weights, trained.non_trainable_weights,
                                       start.non_trainable_weights):
            if "statistics" in case:
                np.testing.assert_allclose(theirs.numpy(), mine.numpy(), rtol=1e-3,
                                           atol=case["statistics"], err_msg=mine.path)
            else:
                moved = np.linalg.norm(mine.numpy() - first.numpy())
                apart = np.linalg.norm(theirs.numpy() - mine.numpy())
                assert apart < case["statistics_share"] * moved, (mine.path, moved, apart)
