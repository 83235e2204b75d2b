"""Mixed precision: float32 variables, float32 outputs and losses, training that learns
in every precision, resume across precisions, and the hardware detection of 'auto'."""

import numpy as np
import pytest
import tensorflow as tf

from srgan.models.registry import build_networks
from srgan.run.state import Networks, RunState
from srgan.runtime import precision
from srgan.training import loop, recipe
from srgan.training.draws import penalty_draws
from tests.helpers import checkpoint_values, tiny_config

MODELS = ("seed", "srgan", "wsrgan")


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("model", MODELS)
def test_networks_keep_float32_weights_and_give_float32_outputs(model, policy):
    with precision.policy(policy):
        generator, critic = build_networks(model, 4, 1)
    assert all(weight.dtype == "float32" for weight in generator.weights + critic.weights)
    assert generator.get_layer(index=1).compute_dtype == policy.removeprefix("mixed_")
    sr = generator(tf.zeros([2, 12, 12, 3]))
    assert sr.dtype == tf.float32 and sr.shape == (2, 48, 48, 3)
    assert critic(sr).dtype == tf.float32
    # The policy applies to what is built inside the block only.
    assert tf.keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
def test_a_bfloat16_run_of_each_model_learns_and_stays_finite(model):
    config = tiny_config("unused", "unused", model=model)
    with precision.policy("mixed_bfloat16"):
        vgg, content = recipe.model_losses(config)
        tf.keras.utils.set_random_seed(3)
        # Keras' defaults: from the reference's N(0, 0.02) draws a 4-feature SRResNet needs
        # far more than 24 steps before its loss moves; this test is about bfloat16.
        generator, critic = build_networks(model, 4, 1, init="glorot")
    generator_optimizer, critic_optimizer, _ = recipe.optimizers(config)
    for optimizer in (generator_optimizer, critic_optimizer):
        optimizer.learning_rate.assign(1e-3)
    steps = recipe.step_class(model)(Networks(generator, critic, generator_optimizer, critic_optimizer),
                                   vgg, content)
    rng = np.random.default_rng(0)
    hr = tf.constant(rng.uniform(-1, 1, [4, 48, 48, 3]).cumsum(axis=2) / 10, tf.float32)
    lr = tf.image.resize(hr, [12, 12], "area")
    # 24 steps: the seed's RMSProp (TF1's rule) starts its mean square at ones, so its first
    # steps are small until that decays.
    warmup = [float(steps.warmup_step(lr, hr)["content"]) for _ in range(24)]
    assert warmup[-1] < 0.8 * warmup[0]
    for _ in range(3):
        losses = {**steps.critic_step(lr, hr, penalty_draws(0, 0, steps.global_batch(hr))), **steps.generator_step(lr, hr, tf.constant(False))}
        assert all(np.isfinite(float(value)) for value in losses.values()), losses


@pytest.mark.slow
def test_mixed_float16_scales_the_loss_and_checkpoints_the_scale(data_dir_of, tmp_path):
    # Two photos at batch size 2: one step an epoch (a float16 GAN step takes half a
    # minute a batch of four on a CPU).
    loop.train(tiny_config(data_dir_of(2), tmp_path / "run", n_epoch_init=1, n_epoch=1,
                           batch_size=2, precision="mixed_float16"))
    values = checkpoint_values(tmp_path / "run")
    scales = [name for name in values if "loss_scale" in name]
    assert scales and all(np.isfinite(values[name]).all() for name in scales)


@pytest.mark.slow
def test_precision_changes_on_resume_both_ways(data_dir_of, tmp_path, capsys):
    folder = tmp_path / "run"
    # As above: one step an epoch, of two photos.
    data_dir, small = data_dir_of(2), {"batch_size": 2}
    loop.train(tiny_config(data_dir, folder, n_epoch_init=1, n_epoch=1, precision="float32", **small))
    loop.train(tiny_config(data_dir, folder, n_epoch_init=1, n_epoch=2, precision="mixed_bfloat16",
                           **small))
    assert "precision mixed_bfloat16" in capsys.readouterr().err
    loop.train(tiny_config(data_dir, folder, n_epoch_init=1, n_epoch=3, precision="mixed_float16",
                           **small))
    loop.train(tiny_config(data_dir, folder, n_epoch_init=1, n_epoch=4, precision="float32", **small))
    err = capsys.readouterr().err
    assert err.count("resuming from") == 2 and "training finished: 5 epochs" in err


def test_auto_picks_bfloat16_only_on_hardware_that_runs_it_fast(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(precision, "CPUINFO", cpuinfo)
    for flags, expected in [("fpu sse avx512f", "float32"), ("fpu avx512_bf16", "mixed_bfloat16"),
                            ("amx_bf16 amx_tile", "mixed_bfloat16")]:
        cpuinfo.write_text(f"processor : 0\nflags\t\t: {flags}\n")
        assert precision.resolve("auto")[0] == expected
    assert precision.resolve("mixed_float16") == ("mixed_float16", "as asked")
    with pytest.raises(ValueError):
        precision.resolve("float64")


def test_loss_scale_state_restores_only_where_the_checkpoint_has_it(tmp_path):
    config = tiny_config("unused", "unused")
    generator, critic = build_networks("seed", 4, 1)
    plain = recipe.optimizers(config)
    state = RunState(tmp_path, Networks(generator, critic, plain[0], plain[1]))
    state.save()
    scaled = recipe.optimizers(config, loss_scale=True)
    resumed = RunState(tmp_path, Networks(generator, critic, scaled[0], scaled[1]))
    assert resumed.restore() is not None
    assert float(scaled[0].dynamic_scale) == float(scaled[0].initial_scale)
