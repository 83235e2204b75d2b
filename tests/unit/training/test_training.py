"""The training run end to end, on tiny networks and a handful of real photos."""

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import skimage.data
import tensorflow as tf
from PIL import Image

from srgan.config import TrainConfig
from srgan.data.demo import fill_if_empty
from srgan.data.images import save_png
from srgan.errors import UserError
from srgan.evaluation.grids import title_band
from srgan.models import registry
from srgan.run.folder import RunLock
from srgan.run.settings import load_settings
from srgan.run.state import Networks
from srgan.training import loop, recipe, start
from srgan.training.tf_steps import TrainSteps
from tests.helpers import ROOT, checkpoint_values, latest, tiny_config


def network_weights(checkpoint_dir: Path, features: int = 4) -> dict[str, list[np.ndarray]]:
    values = checkpoint_values(checkpoint_dir)
    return {network: [values[name] for name in sorted(values) if name.startswith(f"{network}/")]
            for network in ("generator", "critic")}


def use_steps(monkeypatch, steps: type[TrainSteps]) -> None:
    """Makes the seed's model train with `steps` (a TrainSteps subclass) for this test."""
    monkeypatch.setitem(recipe.RECIPES, "seed",
                        dataclasses.replace(recipe.RECIPES["seed"], steps=lambda: steps))


def signal_after(monkeypatch, steps: int, signum: int = signal.SIGTERM) -> None:
    """Sends `signum` to this process when the `steps`-th training step returns."""
    calls = {"n": 0}

    class Interrupted(TrainSteps):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name in ("warmup_step", "generator_step"):
                setattr(self, name, self._counting(getattr(self, name)))

        @staticmethod
        def _counting(step):
            def counted(*args):
                result = step(*args)
                calls["n"] += 1
                if calls["n"] == steps:
                    os.kill(os.getpid(), signum)
                return result
            return counted

    use_steps(monkeypatch, Interrupted)


@pytest.fixture(scope="module")
def straight_runs(data_dir_of, tmp_path_factory):
    """The uninterrupted run of test_interrupted_and_resumed_run_equals_an_uninterrupted_one
    in `precision`, trained once for every case of it (training is deterministic)."""
    folders: dict[str, Path] = {}

    def straight(precision: str) -> Path:
        if precision not in folders:
            folders[precision] = tmp_path_factory.mktemp("straight") / precision
            loop.train(tiny_config(data_dir_of(4), folders[precision], **resumable(precision)))
        return folders[precision]
    return straight


def resumable(precision: str) -> dict:
    # One warm-up epoch then two GAN epochs, two batches of two photos each.
    return dict(n_epoch_init=1, n_epoch=2, batch_size=2, precision=precision)


@pytest.mark.slow
@pytest.mark.parametrize("stop_after, precision", [(2, "float32"), (3, "float32"),
                                                    (3, "mixed_bfloat16")])
def test_interrupted_and_resumed_run_equals_an_uninterrupted_one(data_dir_of, straight_runs, tmp_path,
                                                                 monkeypatch, capsys, stop_after,
                                                                 precision):
    # Stopping after step 2 ends the warm-up exactly; after step 3 the run stops inside a
    # GAN epoch.
    overrides = resumable(precision)
    straight_run = straight_runs(precision)
    capsys.readouterr()

    with monkeypatch.context() as patch:
        signal_after(patch, stop_after)
        loop.train(tiny_config(data_dir_of(4), tmp_path / "resumed", **overrides))
    stopped = capsys.readouterr().err
    assert f"step {stop_after}: saved" in stopped and "Run the same command to resume." in stopped
    loop.train(tiny_config(data_dir_of(4), tmp_path / "resumed", **overrides))
    resumed = capsys.readouterr().err
    assert f"step {stop_after} (GAN training)" in resumed  # a finished warm-up never reruns

    straight = checkpoint_values(straight_run)
    again = checkpoint_values(tmp_path / "resumed")
    assert straight.keys() == again.keys() and len(straight) > 80
    for name in straight:
        np.testing.assert_allclose(again[name], straight[name], atol=1e-5, err_msg=name)


class RecordingRates(TrainSteps):
    """Records the learning rate each warm-up step trains with."""
    rates: list[float] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        step = self.warmup_step

        def recorded(lr, hr):
            self.rates.append(float(self.generator_optimizer.learning_rate))
            return step(lr, hr)
        self.warmup_step = recorded


@pytest.mark.slow
def test_a_warm_up_of_fitted_steps_follows_its_cosine_ends_there_and_resumes_exactly(
        data_dir_of, tmp_path, monkeypatch, capsys):
    # warmup_steps as a --minutes_init run fits it and settings.json keeps it: three steps,
    # ending inside the warm-up's second epoch of two batches, then one GAN epoch.
    overrides = dict(n_epoch_init=100, n_epoch=1, batch_size=2, warmup_schedule="cosine",
                     warmup_lr=1e-3)
    with monkeypatch.context() as patch:
        RecordingRates.rates = []
        use_steps(patch, RecordingRates)
        loop.train(tiny_config(data_dir_of(4), tmp_path / "straight", warmup_steps=3, **overrides))
    np.testing.assert_allclose(RecordingRates.rates, [1e-3, 7.5e-4, 2.5e-4], rtol=1e-6)
    log = capsys.readouterr().err
    assert f"the warm-up's 3 steps are done: saved {tmp_path / 'straight' / 'ckpt-3'}" in log
    assert "training finished: 101 epochs, step 5" in log

    with monkeypatch.context() as patch:
        signal_after(patch, 2)
        loop.train(tiny_config(data_dir_of(4), tmp_path / "resumed", warmup_steps=3, **overrides))
    # Resumed without it: the run's settings.json ends the warm-up at the same step.
    loop.train(tiny_config(data_dir_of(4), tmp_path / "resumed", **overrides))
    assert "the warm-up's 3 steps are done" in capsys.readouterr().err
    assert load_settings(tmp_path / "resumed")["warmup_steps"] == 3
    straight, again = checkpoint_values(tmp_path / "straight"), checkpoint_values(tmp_path / "resumed")
    assert straight.keys() == again.keys() and int(again["step"]) == 5
    for name in straight:
        np.testing.assert_allclose(again[name], straight[name], atol=1e-5, err_msg=name)


@pytest.mark.slow
def test_minutes_init_fits_the_warm_ups_steps_and_keeps_them(data_dir_of, tmp_path, capsys):
    folder = tmp_path / "run"
    loop.train(tiny_config(data_dir_of(4), folder, n_epoch_init=10000, n_epoch=0, batch_size=2,
                           minutes_init=0.05, warmup_schedule="cosine", save_every=10000))
    fitted = load_settings(folder)["warmup_steps"]
    log = capsys.readouterr().err
    assert f"the warm-up ends at step {fitted}, to fill --minutes_init 0.05" in log
    assert f"the warm-up's {fitted} steps (fitted to --minutes_init 0.05) are done" in log
    # A machine so slow that the budget ends before the steps are timed ends it there: the
    # same lines, a smaller length.
    assert latest(folder).endswith(f"ckpt-{fitted}") and fitted >= 1


@pytest.mark.slow
def test_a_run_resumed_inside_an_epoch_with_another_batch_size_keeps_its_share(
        data_dir_of, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "run"
    with monkeypatch.context() as patch:
        signal_after(patch, 3)  # batch 3 of the epoch's 4 of one photo
        loop.train(tiny_config(data_dir_of(4), folder, n_epoch=1, batch_size=1, val_images=0))
    capsys.readouterr()
    assert loop.train(tiny_config(data_dir_of(4), folder, n_epoch=1, batch_size=2, val_images=0))
    log = capsys.readouterr().err
    assert ("the epoch was stopped at batch 3 of 4 (--batch_size 1); it goes on from the same "
            "share, batch 2 of 2") in log
    assert "training finished: 1 epochs, step 3" in log


@pytest.mark.slow
def test_warm_up_trains_the_generator_alone(data_dir, tmp_path, monkeypatch):
    signal_after(monkeypatch, 2)  # the warm-up epoch's two steps
    loop.train(tiny_config(data_dir, tmp_path / "run", n_epoch_init=1, n_epoch=1))
    warmed = network_weights(tmp_path / "run")
    signal_after(monkeypatch, 1)
    loop.train(tiny_config(data_dir, tmp_path / "fresh", n_epoch_init=1, n_epoch=1))
    once = network_weights(tmp_path / "fresh")
    assert all(np.array_equal(a, b) for a, b in zip(warmed["critic"], once["critic"]))
    assert not all(np.array_equal(a, b) for a, b in zip(warmed["generator"], once["generator"]))


@pytest.mark.slow
def test_run_writes_checkpoints_settings_samples_and_logs(data_dir, tmp_path):
    folder = tmp_path / "run"
    loop.train(tiny_config(data_dir, folder, n_epoch=2))
    assert load_settings(folder)["features"] == 4
    assert latest(folder).endswith("ckpt-4")
    values = checkpoint_values(folder)
    assert (values["epoch"], values["step"], values["format"]) == (2, 4, 3)
    # Under the titles, one row of LR | SR | HR at 48 px, with 2-px gaps, per sample:
    # eight fixed training crops and the two test photos.
    for name, rows in (("train", 8), ("valid", 2)):
        for epoch in (1, 2):
            grid = np.asarray(Image.open(folder / "samples" / f"{name}_epoch{epoch:05d}.png"))
            assert grid.shape[0] == title_band(48, 2) + rows * 50 - 2
            assert grid.shape[1] >= 3 * 50 - 2
    tags = set()
    for event_file in (folder / "logs").glob("events.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(value.tag for value in event.summary.value)
    assert {"loss/wasserstein", "loss/gp", "loss/content", "loss/vgg", "loss/adversarial",
            "learning_rate", "samples/train", "samples/valid"} <= tags


@pytest.mark.slow
@pytest.mark.parametrize("content_loss", ["ssim", "ms_ssim"])
def test_jit_compiles_the_generator_step_with_each_content_loss(content_loss):
    # XLA could not compile a tf.cond between MSE and SSIM with SSIM's gradient.
    config = TrainConfig(features=4, blocks=1, vgg_weights="none", content_loss=content_loss)
    rng = np.random.default_rng(3)
    hr = tf.constant(rng.uniform(-1, 1, (2, 48, 48, 3)), tf.float32)
    lr = tf.image.resize(hr, (12, 12), antialias=True)
    losses = {}
    for jit in (False, True):
        keras.utils.set_random_seed(4)
        generator, critic = registry.build_networks("seed", 4, 1)
        optimizers = recipe.optimizers(config)
        steps = TrainSteps(Networks(generator, critic, optimizers[0], optimizers[1]), None,
                           recipe.model_losses(config)[1], jit)
        losses[jit] = [{name: float(value) for name, value in steps.generator_step(lr, hr, use_mse).items()}
                       for use_mse in (False, True, False)]
    for plain, compiled in zip(losses[False], losses[True], strict=True):
        assert plain.keys() == compiled.keys()
        for name in plain:
            assert compiled[name] == pytest.approx(plain[name], rel=1e-4, abs=1e-6), name
    assert losses[True][0]["content"] != losses[True][1]["content"]  # SSIM's, then MSE's


def test_learning_rate_schedule_follows_the_seed():
    config = TrainConfig(n_epoch=10, n_epoch_init=2, lr_init=1e-4, lr_decay=0.5)
    rates = [recipe.learning_rate(config, epoch) for epoch in range(12)]
    assert rates[:7] == [1e-4] * 7  # warm-up, then the first n_epoch / 2 GAN epochs
    assert rates[7:] == [5e-5] * 5
    assert recipe.learning_rate(TrainConfig(n_epoch=10, decay_every=3), 9) == pytest.approx(8e-5 / 8)


def test_content_loss_is_mse_for_the_first_four_percent_of_gan_epochs():
    config = TrainConfig(n_epoch=100, n_epoch_init=3)
    assert [recipe.content_is_mse(config, epoch) for epoch in range(3, 9)] == [True] * 4 + [False] * 2
    assert recipe.content_is_mse(TrainConfig(n_epoch=10000), 399)
    assert not recipe.content_is_mse(TrainConfig(n_epoch=10000), 400)


def test_esrgan_is_the_seeds_name_for_train():
    from srgan.cli import parse_args
    from srgan.cli.modes import MODES
    assert parse_args([]).mode == "train"
    assert MODES["esrgan"].run is MODES["train"].run


# Two batches of two photos an epoch, as in the tests above.
SMALL = {"batch_size": 2}


@pytest.fixture(scope="module")
def one_epoch_run(data_dir_of, tmp_path_factory) -> Path:
    """A run of one GAN epoch (ckpt-2), trained once; tests train on in copies of it."""
    folder = tmp_path_factory.mktemp("one_epoch") / "run"
    loop.train(tiny_config(data_dir_of(4), folder, n_epoch=1, **SMALL))
    return folder


def copy_of(run: Path, folder: Path) -> Path:
    """`run` as its own folder was left by its training (its .lock too)."""
    shutil.copytree(run, folder)
    return folder


@pytest.mark.slow
def test_resuming_another_architecture_is_refused_and_changes_nothing(data_dir_of, one_epoch_run,
                                                                       tmp_path):
    folder = copy_of(one_epoch_run, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    with pytest.raises(UserError, match="--features 8 \\(the checkpoint has 4\\)"):
        loop.train(tiny_config(data_dir_of(4), folder, n_epoch=2, features=8, **SMALL))
    after = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert after == before


@pytest.mark.slow
def test_restart_moves_the_old_run_aside(data_dir_of, one_epoch_run, tmp_path):
    folder = copy_of(one_epoch_run, tmp_path / "run")
    loop.train(tiny_config(data_dir_of(4), folder, n_epoch=1, features=8, **SMALL), restart=True)
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("run-")]
    assert len(moved) == 1
    assert load_settings(moved[0])["features"] == 4
    assert latest(moved[0]) is not None
    assert load_settings(folder)["features"] == 8


@pytest.mark.parametrize("test_set", ["small photos", "a file"])
def test_validation_that_cannot_run_says_so(data_dir_of, tmp_path, capsys, test_set):
    data = tmp_path / "data"
    shutil.copytree(data_dir_of(4) / "train", data / "train")
    if test_set == "a file":
        (data / "test").write_bytes(b"not a folder")
    else:
        save_png(data / "test" / "small.png", np.zeros((40, 40, 3), np.uint8))  # under 48 px
    assert loop.train(tiny_config(data, tmp_path / "run", n_epoch_init=1, n_epoch=0, **SMALL))
    said = capsys.readouterr().err
    assert f"no validation: {data / 'test'} holds no photo of at least 48 px that can be read" in said
    assert ("(it is not a folder)" in said) == (test_set == "a file")


def test_restart_never_moves_a_folder_that_holds_no_run(data_dir, tmp_path):
    # --checkpoint_dir pointed at a data folder by mistake: its train/ and notes stay put.
    folder = data_dir
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    with pytest.raises(UserError, match=f"--restart moves a previous run aside, but {folder} holds no run"):
        loop.train(tiny_config(data_dir, folder), restart=True)
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(f"{folder.name}-")]


def test_a_folder_in_use_by_a_live_run_is_refused(data_dir, tmp_path):
    folder = tmp_path / "run"
    with RunLock(folder):
        with pytest.raises(UserError, match="in use by a running training"):
            loop.train(tiny_config(data_dir, folder))
    assert not list(folder.glob("ckpt-*"))


@pytest.mark.slow
def test_a_nan_loss_stops_and_keeps_the_last_good_checkpoint(data_dir_of, one_epoch_run, tmp_path,
                                                            monkeypatch):
    folder = copy_of(one_epoch_run, tmp_path / "run")
    good = checkpoint_values(folder)

    class Diverging(TrainSteps):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            healthy = self.generator_step
            self.generator_step = lambda *a: {**healthy(*a), "content": tf.constant(np.nan)}

    use_steps(monkeypatch, Diverging)
    with pytest.raises(UserError, match="content loss became nan at step 3 "):
        loop.train(tiny_config(data_dir_of(4), folder, n_epoch=2, **SMALL))
    assert latest(folder).endswith("ckpt-2")
    kept = checkpoint_values(folder)
    assert all(np.array_equal(kept[name], good[name]) for name in good)


@pytest.mark.slow
def test_weights_ruined_by_the_last_step_before_a_save_are_never_saved(data_dir_of, one_epoch_run,
                                                                      tmp_path, monkeypatch):
    folder = copy_of(one_epoch_run, tmp_path / "run")
    good = checkpoint_values(folder)
    best_before = (folder / "best").exists() and {p.name: p.read_bytes() for p in (folder / "best").iterdir()}

    class Ruining(TrainSteps):
        """Its losses stay finite; the epoch's last step leaves a kernel infinite."""
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            healthy, calls = self.generator_step, []

            def step(*a):
                losses = healthy(*a)
                calls.append(1)
                if len(calls) == 2:
                    self.generator.trainable_weights[0].assign(
                        np.full(self.generator.trainable_weights[0].shape, np.inf, np.float32))
                return losses
            self.generator_step = step

    use_steps(monkeypatch, Ruining)
    with pytest.raises(UserError, match="became non-finite by step 4, epoch 2: stopped without "
                                        "saving. The last good checkpoint is kept: .*ckpt-2"):
        loop.train(tiny_config(data_dir_of(4), folder, n_epoch=2, **SMALL))
    assert latest(folder).endswith("ckpt-2") and not (folder / "ckpt-4.npz").exists()
    kept = checkpoint_values(folder)
    assert all(np.array_equal(kept[name], good[name]) for name in good)
    assert best_before == ((folder / "best").exists()
                           and {p.name: p.read_bytes() for p in (folder / "best").iterdir()})


@pytest.mark.slow
def test_a_sigterm_during_the_last_save_leaves_a_finished_run(data_dir_of, one_epoch_run, tmp_path,
                                                             monkeypatch, capsys):
    folder = copy_of(one_epoch_run, tmp_path / "run")
    save_point = loop._Run.save_point

    def interrupted(self, label):
        os.kill(os.getpid(), signal.SIGTERM)
        return save_point(self, label)

    monkeypatch.setattr(loop._Run, "save_point", interrupted)
    assert loop.train(tiny_config(data_dir_of(4), folder, n_epoch=2, **SMALL)) is True
    log = capsys.readouterr().err
    assert "training finished: 2 epochs, step 4" in log and "stopped in epoch" not in log
    assert latest(folder).endswith("ckpt-4")


@pytest.mark.slow
def test_a_run_in_its_gan_phase_keeps_its_warm_up(data_dir_of, one_epoch_run, tmp_path, capsys):
    folder = copy_of(one_epoch_run, tmp_path / "run")  # no warm-up, one GAN epoch done
    loop.train(tiny_config(data_dir_of(4), folder, n_epoch_init=2, n_epoch=2, **SMALL))
    log = capsys.readouterr().err
    assert ("--n_epoch_init 2 ignored: the run's GAN phase began after its 0 warm-up epochs, "
            "and a finished warm-up never reruns") in log
    assert "warm-up" not in log.split("never reruns")[1] and "training finished: 2 epochs, step 4" in log
    assert load_settings(folder)["n_epoch_init"] == 0


def test_data_errors(tmp_path, data_dir):
    with pytest.raises(UserError, match="no training photos"):
        loop.train(tiny_config(tmp_path / "missing", tmp_path / "run"))
    bad = tmp_path / "bad" / "train"
    bad.mkdir(parents=True)
    (bad / "notes.png").write_text("not a photo")
    save_png(bad / "small.png", np.zeros((40, 60, 3), np.uint8))
    with pytest.raises(UserError, match="none of the files"):
        loop.train(tiny_config(tmp_path / "bad", tmp_path / "run2"))


def test_odd_photos_are_converted_and_bad_files_listed_in_one_warning(tmp_path, capsys):
    train = tmp_path / "data" / "train"
    train.mkdir(parents=True)
    photo = skimage.data.astronaut()[100:164, 100:164]
    Image.fromarray(photo).convert("L").save(train / "gray.png")
    Image.fromarray(photo).convert("RGBA").save(train / "rgba.png")
    Image.fromarray(photo).convert("P").save(train / "palette.png")
    Image.fromarray((photo[..., 0].astype(np.uint16) * 257)).save(train / "deep.png")
    (train / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    save_png(train / "tiny.png", photo[:40, :40])
    loop.train(tiny_config(tmp_path / "data", tmp_path / "run", n_epoch=1))
    err = capsys.readouterr().err
    assert err.count("skipped 2 file(s)") == 1
    assert "broken.jpg: " in err and "tiny.png: 40x40 px is under 48 px" in err
    assert "step 1" in err and "training finished" in err  # four photos: one batch


def test_a_fresh_clone_trains_on_the_demo_set(tmp_path, capsys):
    fill_if_empty(tmp_path / "data2017", 48)
    photos = start.load_training_photos(tiny_config(tmp_path / "data2017", tmp_path / "run"))
    assert len(photos) == len(list((tmp_path / "data2017" / "train").glob("*.png"))) > 100
    assert "built the demo set" in capsys.readouterr().err


def main_command(data_dir: Path, checkpoint_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, str(ROOT / "main.py"), "--features", "4", "--blocks", "1",
            "--batch_size", "4", "--n_epoch", "50", "--save_every", "1", "--seed", "1",
            "--vgg_weights", "none", "--data_dir", str(data_dir),
            "--checkpoint_dir", str(checkpoint_dir), *extra]


def wait_for(process: subprocess.Popen, condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
def test_kill_9_then_sigterm_lose_nothing(data_dir, tmp_path):
    folder = tmp_path / "run"
    first = subprocess.Popen(main_command(data_dir, folder), stderr=subprocess.PIPE, text=True)
    wait_for(first, lambda: latest(folder) is not None)
    saved = latest(folder)
    first.kill()
    first.wait()

    second = subprocess.Popen(main_command(data_dir, folder), stderr=subprocess.PIPE, text=True)
    wait_for(second, lambda: latest(folder) != saved)
    second.send_signal(signal.SIGTERM)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert f"resuming from {saved}" in err
    assert "SIGTERM received" in err and "Run the same command to resume." in err
    assert int(latest(folder).rsplit("-", 1)[1]) > int(saved.rsplit("-", 1)[1])


def test_main_reports_user_errors_without_a_traceback(tmp_path):
    (tmp_path / "empty").mkdir()  # a missing folder is refused before TensorFlow loads
    result = subprocess.run(main_command(tmp_path / "empty", tmp_path / "run"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("error: no training photos")
    assert "Traceback" not in result.stderr
