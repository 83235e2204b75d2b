"""The baselines (SRGAN, W-SRGAN) and `--mode=compare`, on tiny networks and real photos."""

import csv
import json
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import skimage.data
import tensorflow as tf

from srgan.cli import main
from srgan.config import TrainConfig
from srgan.data.images import save_png
from srgan.errors import UserError
from srgan.evaluation.grids import title_band
from srgan.evaluation.testing import run_testing
from srgan.inference.restore import load_generator
from srgan.losses.adversarial import ADVERSARIAL_WEIGHT, discriminator_bce_loss, generator_bce_loss
from srgan.losses.perceptual import vgg54_loss
from srgan.models.registry import build_critic_for, build_generator_for, build_networks
from srgan.models.srresnet import build_srgan_discriminator, build_srresnet_generator, discriminator_logits
from srgan.training import compare, loop
from srgan.training.budget import GAN, WARMUP, PhaseLimit
from srgan.training.loop import train
from tests.helpers import latest

TINY = ["--features", "4", "--blocks", "1", "--batch_size", "4", "--save_every", "1",
        "--seed", "3", "--vgg_weights", "none"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """Eight 64x64 training crops and two test crops of real photos."""
    folder = tmp_path_factory.mktemp("data")
    photos = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.coffee()]
    for i in range(10):
        top, left = 25 * i, 30 * i
        save_png(folder / ("train" if i < 8 else "test") / f"photo{i}.png",
                 photos[i % 3][top:top + 64, left:left + 64])
    return folder


def tiny_config(data_dir: Path, checkpoint_dir: Path, model: str, **overrides) -> TrainConfig:
    settings = dict(model=model, features=4, blocks=1, batch_size=4, n_epoch=1, save_every=1,
                    seed=7, vgg_weights="none", data_dir=str(data_dir),
                    checkpoint_dir=str(checkpoint_dir))
    return TrainConfig(**{**settings, **overrides})


def trainable(model: keras.Model) -> int:
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_parameter_counts_at_the_default_sizes():
    # Counted by hand: 9x9 in + PReLU 15,680; 16 blocks x 74,176 (+ 256 BN statistics);
    # mid conv + BN 37,056 (+ 128); two x2 stages 147,776 each; 9x9 out 15,555.
    generator = build_srresnet_generator(64, 16)
    assert trainable(generator) == 1_550_659
    assert generator.count_params() == 1_554_883
    # Eight convs 4,685,376; dense 3*3*512 -> 1024: 4,719,616; dense 1: 1,025;
    # BatchNorm on 1,856 channels: 3,712 trainable + 3,712 statistics.
    discriminator = build_srgan_discriminator(48)
    assert trainable(discriminator) == 9_409_729
    assert discriminator.count_params() == 9_413_441
    critic = build_srgan_discriminator(48, batch_norm=False, sigmoid=False)
    assert trainable(critic) == critic.count_params() == 9_406_017


def test_registry_builds_each_models_networks():
    for model, generator_name, critic_name in [("seed", "generator", "critic"),
                                               ("srgan", "srresnet", "srgan_discriminator"),
                                               ("wsrgan", "srresnet", "wsrgan_critic")]:
        generator, critic = build_networks(model, 4, 1, 48)
        assert (generator.name, critic.name) == (generator_name, critic_name)
        assert build_generator_for(model, 4, 1).count_params() == generator.count_params()
    with pytest.raises(ValueError, match="unknown model"):
        build_critic_for("esrgan")


@pytest.mark.parametrize("height, width", [(12, 12), (13, 7), (1, 5)])
def test_srresnet_upscales_any_size_4x_into_the_image_range(height, width):
    generator = build_srresnet_generator(4, 2)
    lr = tf.random.uniform([2, height, width, 3], -1, 1)
    sr = generator(lr, training=False)
    assert sr.shape == (2, 4 * height, 4 * width, 3)
    assert float(tf.reduce_max(tf.abs(sr))) <= 1.0


def test_wsrgan_critic_has_no_batchnorm_and_a_linear_score():
    critic = build_critic_for("wsrgan")
    assert not [layer for layer in critic.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert isinstance(critic.layers[-1], keras.layers.Dense)
    assert critic.layers[-1].activation is keras.activations.linear
    assert discriminator_logits(critic) is critic


def test_srgan_discriminator_is_sigmoid_of_its_logits():
    discriminator = build_critic_for("srgan")
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in discriminator.layers) == 7
    images = tf.random.uniform([3, 48, 48, 3], -1, 1)
    logits = discriminator_logits(discriminator)(images, training=False)
    np.testing.assert_allclose(discriminator(images, training=False), tf.sigmoid(logits), rtol=1e-6)


def test_bce_losses_match_the_formula_and_stay_finite():
    real = np.array([[2.0], [-1.0]], np.float32)
    fake = np.array([[0.5], [-3.0]], np.float32)
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    expected = -np.mean(np.log(sigmoid(real))) - np.mean(np.log(1 - sigmoid(fake)))
    np.testing.assert_allclose(discriminator_bce_loss(tf.constant(real), tf.constant(fake)), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(generator_bce_loss(tf.constant(fake)),
                               ADVERSARIAL_WEIGHT * -np.mean(np.log(sigmoid(fake))), rtol=1e-6)
    # Saturated logits: log(sigmoid(-200)) would be log(0) in float32.
    extreme = discriminator_bce_loss(tf.constant([[-200.0]]), tf.constant([[200.0]]))
    assert float(extreme) == pytest.approx(400.0)


def test_vgg54_loss_is_the_mse_of_features_over_12_75():
    vgg19 = keras.applications.VGG19(include_top=False, weights=None, input_shape=(48, 48, 3))
    vgg = keras.Model(vgg19.input, vgg19.get_layer("block5_conv4").output)
    hr, sr = tf.random.uniform([2, 48, 48, 3], -1, 1), tf.random.uniform([2, 48, 48, 3], -1, 1)

    def features(images):
        bgr = ((images.numpy() + 1) * 127.5)[..., ::-1] - np.array([103.939, 116.779, 123.68])
        return vgg(bgr.astype(np.float32)).numpy() / 12.75

    expected = np.mean((features(hr) - features(sr)) ** 2)
    np.testing.assert_allclose(vgg54_loss(vgg, hr, sr), expected, rtol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["srgan", "wsrgan"])
def test_baseline_trains_and_tests_end_to_end(model, data_dir, tmp_path, capsys):
    folder = tmp_path / model
    assert train(tiny_config(data_dir, folder, model)) is True
    assert "instead of VGG54" in capsys.readouterr().err
    generator, config, path = load_generator(folder)
    assert (config.model, generator.name) == (model, "srresnet")
    assert path.endswith("ckpt-2")
    summary = run_testing(folder, None, data_dir, tmp_path / "results")
    assert summary["images"] == 2
    assert all(np.isfinite(value) for value in summary["methods"]["model"].values())


@pytest.mark.slow
def test_wrong_model_is_refused_when_resuming_and_testing(data_dir, tmp_path, capsys):
    folder = tmp_path / "run"
    train(tiny_config(data_dir, folder, "srgan"))
    with pytest.raises(UserError, match="--model wsrgan \\(the checkpoint has srgan\\)"):
        train(tiny_config(data_dir, folder, "wsrgan"))
    assert main(["--mode=testing", "--model", "seed", "--checkpoint_dir", str(folder),
                 "--data_dir", str(data_dir), "--results_dir", str(tmp_path / "r")]) == 1
    assert "--model seed, but" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def _steps_taken(monkeypatch) -> list[bool]:
    """The content flag of every GAN step that the runs after this call take."""
    taken = []
    original = loop.step_class

    def recording(model):
        class Recording(original(model)):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                compiled = self.generator_step

                def generator_step(lr, hr, use_mse):
                    taken.append(bool(use_mse))
                    return compiled(lr, hr, use_mse)
                self.generator_step = generator_step
        return Recording

    monkeypatch.setattr(loop, "step_class", recording)
    return taken


@pytest.mark.slow
def test_a_phase_limit_ends_the_warm_up_early_and_trains_one_phase(data_dir, tmp_path, monkeypatch):
    taken = _steps_taken(monkeypatch)
    folder = tmp_path / "run"
    config = tiny_config(data_dir, folder, "seed", n_epoch_init=3, n_epoch=1)
    # minutes already used: the warm-up ends before its first step, at the GAN phase's start
    assert train(config, limit=PhaseLimit(WARMUP, end=time.monotonic())) is True
    assert latest(folder).endswith("ckpt-0")
    # a second warm-up call finds the phase over and trains nothing
    assert train(tiny_config(data_dir, folder, "seed", n_epoch_init=3, n_epoch=1),
                 limit=PhaseLimit(WARMUP)) is True
    assert taken == []
    # The GAN phase from epoch 4 of 4, its 2 batches: MSE for 0.5 s from the first step
    # (whose tracing outlasts them), then SSIM. The epoch's rule (MSE for the first 4% of
    # the GAN epochs) would give MSE for both; a window from the call's start, for none.
    assert train(tiny_config(data_dir, folder, "seed", n_epoch_init=3, n_epoch=1),
                 limit=PhaseLimit(GAN, mse_seconds=0.5)) is True
    assert latest(folder).endswith("ckpt-2")
    assert taken == [True, False]
    # epoch 5 of 5, on MSE by the clock where the epoch's rule says SSIM
    assert train(tiny_config(data_dir, folder, "seed", n_epoch_init=3, n_epoch=2),
                 limit=PhaseLimit(GAN, mse_seconds=3600)) is True
    assert taken == [True, False, True, True]


@pytest.mark.slow
def test_a_warm_up_under_a_limit_stops_at_its_last_epoch(data_dir, tmp_path, capsys):
    folder = tmp_path / "run"
    config = tiny_config(data_dir, folder, "srgan", n_epoch_init=1, n_epoch=1)
    assert train(config, limit=PhaseLimit(WARMUP, end=time.monotonic() + 3600)) is True
    assert latest(folder).endswith("ckpt-2")  # its 2 batches, no GAN step
    assert "GAN phase's time budget" not in capsys.readouterr().err
    # the GAN phase's minutes used at once: saved where the warm-up ended, as a phase end
    assert train(tiny_config(data_dir, folder, "srgan", n_epoch_init=1, n_epoch=1),
                 limit=PhaseLimit(GAN, end=time.monotonic())) is True
    err = capsys.readouterr().err
    assert f"the GAN phase's time budget is used at step 2: saved {folder / 'ckpt-2'}; validation" in err
    assert "training finished" not in err



@pytest.mark.slow
def test_a_phase_ends_saved_where_save_every_skips_its_last_epoch(data_dir, tmp_path, capsys):
    # --mode=compare without minutes: the warm-up's call ends at its last epoch, which
    # --save_every 5 would not save; the GAN phase's call must resume from it.
    folder = tmp_path / "run"
    config = tiny_config(data_dir, folder, "srgan", n_epoch_init=1, n_epoch=1, save_every=5)
    assert train(config, limit=PhaseLimit(WARMUP)) is True
    assert f"the warm-up phase is over (step 2): saved {folder / 'ckpt-2'}" in capsys.readouterr().err
    assert latest(folder).endswith("ckpt-2")

def test_a_phase_budget_counts_what_was_used_and_the_seeds_mse_share_of_it():
    warmup = PhaseLimit.of_budget(WARMUP, 600.0, used=100.0, start=1000.0)
    assert (warmup.end, warmup.mse_seconds) == (1500.0, None)
    gan = PhaseLimit.of_budget(GAN, 600.0, used=10.0, start=1000.0)
    assert (gan.end, gan.mse_seconds) == (1590.0, 0.04 * 600 - 10)
    assert PhaseLimit.of_budget(GAN, 600.0, used=30.0, start=1000.0).mse_seconds == 0
    assert PhaseLimit.of_budget(GAN, None, used=0.0, start=1000.0) == PhaseLimit(GAN)


def _table(results: Path) -> list[list[str]]:
    with open(results / "compare.csv") as file:
        return [row[:5] for row in csv.reader(file)]  # method and all but time: deterministic


def _progress(root: Path) -> dict:
    """compare_state.json's (done, steps) of each model's phases."""
    state = json.loads((root / "compare" / "compare_state.json").read_text())
    return state["budget"], {model: {phase: (entry["done"], entry["steps"])
                                     for phase, entry in phases.items()}
                             for model, phases in state["models"].items()}


def _grid_size(path: Path) -> tuple[int, int]:
    return keras.utils.load_img(path).size


@pytest.mark.slow
def test_compare_trains_all_three_and_a_rerun_only_rewrites_the_table(data_dir, tmp_path, monkeypatch):
    args = ["--mode=compare", *TINY, "--n_epoch_init", "1", "--n_epoch", "1",
            "--data_dir", str(data_dir), "--checkpoint_dir", str(tmp_path / "ck"),
            "--results_dir", str(tmp_path / "res")]
    assert main(args) == 0
    results = tmp_path / "res"
    table = _table(results)
    assert [row[0] for row in table] == ["method", "bicubic", "SRGAN", "W-SRGAN", "seed model"]
    assert (results / "compare.md").read_text().startswith("# SRGAN, W-SRGAN and seed model\n")
    width, height = _grid_size(results / "compare.png")
    # LR | bicubic | 3 SR | HR, titled (SR ones as wide as their titles, if wider), 2 rows of 64 px
    assert width >= 6 * 64 + 5 * 4 and height == title_band(64, 4) + 2 * 64 + 4
    budget, progress = _progress(tmp_path / "ck")
    assert budget == {"n_epoch_init": 1, "n_epoch": 1, "minutes_init": None, "minutes": None, "seed": 3}
    # each phase is one epoch of 2 batches
    assert progress == {model: {"warm-up": (True, 2), "GAN": (True, 2)}
                        for model in ("srgan", "wsrgan", "seed")}

    def no_training(*args, **kwargs):
        raise AssertionError("a finished comparison was trained again")

    monkeypatch.setattr(compare, "train", no_training)
    (results / "compare.csv").unlink()
    assert main(args) == 0
    assert _table(results) == table
    assert main([*args[:-4], "--n_epoch", "2", *args[-4:]]) == 1  # another budget is refused


@pytest.mark.slow
def test_compare_ends_a_warm_up_at_its_minutes_and_trains_the_models_asked(data_dir, tmp_path):
    # 0.006 s of warm-up: spent before the first step, whose networks take longer to build
    args = ["--mode=compare", *TINY, "--models", "seed", "--n_epoch_init", "5",
            "--minutes_init", "0.0001", "--n_epoch", "1", "--data_dir", str(data_dir),
            "--checkpoint_dir", str(tmp_path / "ck"), "--results_dir", str(tmp_path / "res")]
    assert main(args) == 0
    budget, progress = _progress(tmp_path / "ck")
    assert budget["minutes_init"] == 0.0001
    assert progress == {"seed": {"warm-up": (True, 0), "GAN": (True, 2)}}
    assert [row[0] for row in _table(tmp_path / "res")] == ["method", "bicubic", "seed model"]
    assert _grid_size(tmp_path / "res" / "compare.png")[0] < 5 * 64  # LR | bicubic | SR | HR
    text = (tmp_path / "res" / "compare.md").read_text()
    assert text.startswith("# seed model\n")
    assert "warm-up (MSE) 5 epochs or 0.0001 min, whichever ends first" in text
