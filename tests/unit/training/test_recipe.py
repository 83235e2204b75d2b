"""The warm-up recipe (optimizer, rate schedule, crop size, crops per photo), precise
BatchNorm statistics, validation while training and the best checkpoint."""

import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan.config import TrainConfig
from srgan.data.images import list_images, load_rgb, save_png
from srgan.data.pipeline import PhotoSet, crop_areas, steps_per_epoch, training_dataset
from srgan.data.prepare import detail, prepare
from srgan.errors import UserError
from srgan.evaluation.testing import run_testing
from srgan.models.generator import build_generator
from srgan.training import loop, recipe
from srgan.training.batchnorm import batchnorm_layers, recompute_batchnorm_statistics
from srgan.training.budget import WarmupFit
from tests.helpers import tiny_config


def test_big_photos_give_one_random_crop_per_crop_area():
    rng = np.random.default_rng(1)
    photos = PhotoSet.from_arrays([rng.integers(0, 256, (100, 150, 3), np.uint8),
                                   rng.integers(0, 256, (48, 50, 3), np.uint8)])
    assert crop_areas(photos, 48).tolist() == [2 * 3, 1]
    assert crop_areas(photos, 96).tolist() == [1, 1]  # a photo smaller than 2 crops gives one
    batches = list(training_dataset(photos, batch_size=4, epoch=0, seed=3, hr_size=48))
    assert [hr.shape[0] for _, hr in batches] == [4, 3] and steps_per_epoch(7, 4) == 2
    # Seven crops of two photos: six distinct crops of the big one (different positions).
    crops = np.concatenate([hr.numpy() for _, hr in batches])
    assert len({crop.tobytes() for crop in crops}) == 7


def test_warm_up_rate_is_constant_or_cosine_then_the_seeds_schedule():
    seed = TrainConfig(n_epoch_init=4, n_epoch=10)
    assert [recipe.learning_rate(seed, epoch) for epoch in range(4)] == [8e-5] * 4
    cosine = TrainConfig(n_epoch_init=4, n_epoch=10, warmup_lr=4e-4, warmup_schedule="cosine")
    rates = [recipe.learning_rate(cosine, epoch) for epoch in range(5)]
    np.testing.assert_allclose(rates[:4], [4e-4, 4e-4 * (1 + np.cos(np.pi / 4)) / 2, 2e-4,
                                           4e-4 * (1 + np.cos(3 * np.pi / 4)) / 2])
    assert rates[4] == pytest.approx(8e-5)  # the GAN epochs start at lr_init


def test_a_warm_up_with_minutes_has_its_cosine_by_step_over_the_fitted_length():
    fitted = TrainConfig(n_epoch_init=1000, warmup_lr=4e-4, warmup_schedule="cosine",
                         minutes_init=5, warmup_steps=100)
    rates = [recipe.learning_rate(fitted, epoch, step) for epoch, step in
             ((0, 0), (7, 50), (9, 100), (9, 150))]
    np.testing.assert_allclose(rates, [4e-4, 2e-4, 0.0, 0.0], atol=1e-12)
    # Until the length is fitted the rate holds; a constant warm-up stays constant.
    timing = dataclasses.replace(fitted, warmup_steps=None)
    assert recipe.learning_rate(timing, 3, 180) == 4e-4
    assert recipe.learning_rate(dataclasses.replace(fitted, warmup_schedule="constant"), 9, 90) == 4e-4
    with pytest.raises(UserError, match="--minutes_init is the warm-up's budget"):
        TrainConfig(minutes_init=5).validate()


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_fitted_length_is_the_timed_rate_times_the_minutes_left():
    clock = Clock()
    fit = WarmupFit(minutes=10, clock=clock)
    clock.now = 50.0  # a resumed run: its budget starts at this call's first warm-up step
    fitted, step = None, 400
    while fitted is None:
        fit.begin()
        # The first steps compile: they take 3 s each, and are not timed.
        clock.now += 3.0 if fit.calls < 10 else 0.1
        step += 1
        fitted = fit.step_done(step)
    # Timed from the tenth step to 200 steps later: 10 steps/s for the 600 s less the
    # 10 x 3 + 200 x 0.1 s used.
    assert fit.calls == 210 and fit.rate == pytest.approx(10.0)
    assert fitted == step + 5500
    # A budget used up before the steps are timed ends the warm-up where it is.
    short = WarmupFit(minutes=0.1, clock=clock)
    short.begin()
    clock.now += 7.0
    assert short.step_done(12) == 12 and short.rate is None
    # A short budget is timed over its first tenth.
    tenth = WarmupFit(minutes=1, clock=clock)
    for done in range(1, 100):
        tenth.begin()
        clock.now += 0.5
        if tenth.step_done(done) is not None:
            break
    assert done == 12 and tenth.rate == pytest.approx(2.0)


def test_warm_up_optimizer_is_the_gan_ones_unless_named():
    generator_optimizer, _, warmup = recipe.optimizers(TrainConfig())
    assert isinstance(generator_optimizer, keras.optimizers.RMSprop) and warmup is None
    _, _, warmup = recipe.optimizers(TrainConfig(warmup_optimizer="adam", warmup_lr=2e-4))
    assert isinstance(warmup, keras.optimizers.Adam)
    assert float(warmup.learning_rate) == pytest.approx(2e-4)
    with pytest.raises(UserError, match="--warmup_crop"):
        TrainConfig(warmup_crop=50).validate()


def test_precise_batchnorm_statistics_are_the_mean_of_the_batch_statistics():
    keras.utils.set_random_seed(2)
    generator = build_generator(4, 1)
    batches = [tf.random.uniform([2, 6, 6, 3], -1, 1, seed=i) for i in range(5)]
    assert recompute_batchnorm_statistics(generator, batches) == 5
    for layer in batchnorm_layers(generator):
        assert layer.momentum == 0.9  # restored
        # The layer's own input, from an independent sub-model: mean over the batches of
        # each batch's per-channel mean and (biased) variance.
        inputs = keras.Model(generator.input, layer.input)
        outputs = [inputs(batch, training=True).numpy().reshape(-1, layer.moving_mean.shape[0])
                   for batch in batches]
        np.testing.assert_allclose(layer.moving_mean.numpy(),
                                   np.mean([o.mean(0) for o in outputs], 0), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(layer.moving_variance.numpy(),
                                   np.mean([o.var(0) for o in outputs], 0), rtol=1e-4, atol=1e-6)


def test_validation_equals_testing_and_keeps_the_best_checkpoint(data_dir, tmp_path, capsys):  # noqa: F811
    folder = tmp_path / "run"
    loop.train(tiny_config(data_dir, folder, n_epoch_init=2, n_epoch=0, warmup_optimizer="adam",
                           warmup_lr=1e-2, bn_batches=2))
    log = capsys.readouterr().err
    assert log.count("validation on 2 photos") == 2
    best = json.loads((folder / "best" / "best.json").read_text())
    # The latest checkpoint is epoch 2; its validation line must equal testing's numbers.
    summary = run_testing(folder, None, data_dir, tmp_path / "results")
    line = [text for text in log.splitlines() if "epoch 2: saved" in text][0]
    assert f"PSNR-Y {summary['methods']['model']['psnr']:.2f} dB" in line
    assert f"(bicubic {summary['methods']['bicubic']['psnr']:.2f})" in line
    assert f"SSIM-Y {summary['methods']['model']['ssim']:.4f}" in line
    assert (best["epoch"] == 2) == ("the best so far" in line)
    best_summary = run_testing(folder, folder / "best", data_dir, tmp_path / "best_results")
    assert best_summary["methods"]["model"]["psnr"] == pytest.approx(best["psnr_y"], abs=1e-6)
    assert best_summary["methods"]["model"]["psnr"] >= summary["methods"]["model"]["psnr"] - 1e-9
    scalars = {value.tag for path in (folder / "logs").glob("events*")
               for event in tf.compat.v1.train.summary_iterator(str(path))
               for value in event.summary.value}
    assert {"validation/psnr_y", "validation/ssim_y", "validation/bicubic_psnr_y"} <= scalars


def test_warm_up_only_run_with_big_crops(data_dir, tmp_path, capsys):  # noqa: F811
    loop.train(tiny_config(data_dir, tmp_path / "run", n_epoch_init=1, n_epoch=0, warmup_crop=64,
                           val_images=0))
    assert "training finished: 1 epochs" in capsys.readouterr().err
    # Crops larger than a photo: refused before the run folder is made.
    with pytest.raises(UserError, match="--warmup_crop 68 is larger than 8 of the 8 photos in "
                                        ".*the smallest side is 64 px.: give at most 64"):
        loop.train(tiny_config(data_dir, tmp_path / "big", n_epoch_init=1, n_epoch=0, warmup_crop=68))
    assert not (tmp_path / "big" / "settings.json").exists()
    with pytest.raises(UserError, match="nothing to train"):
        tiny_config(data_dir, tmp_path / "x", n_epoch_init=0, n_epoch=0).validate()


def test_test_patch_tiles_the_test_photos_and_min_detail_skips_flat_tiles(tmp_path):
    photos = tmp_path / "photos"
    rng = np.random.default_rng(0)
    flat = np.full((48, 96, 3), 120, np.uint8)
    for i in range(12):
        photo = rng.integers(0, 256, (96, 96, 3), np.uint8)
        photo[:48] = flat[:, :96]  # top row of tiles flat, bottom row noise
        save_png(photos / f"p{i}.png", photo)
    prepare(str(photos), tmp_path / "d", test_patch=48, min_detail=6, test_fraction=0.5)
    train = list_images(tmp_path / "d" / "train")
    test = list_images(tmp_path / "d" / "test")
    assert train and all(load_rgb(path).shape == (96, 96, 3) for path in train)
    assert test and all(path.stem.endswith(("_r01_c00", "_r01_c01")) for path in test)
    assert detail(flat) == 0 and detail(rng.integers(0, 256, (48, 48, 3), np.uint8)) > 50
    with pytest.raises(UserError, match="--min_detail"):
        prepare(str(photos), tmp_path / "e", min_detail=6)


def _tf1_rmsprop(weights: np.ndarray, gradients: list[np.ndarray], rate: float) -> np.ndarray:
    """TF1's ApplyRMSProp transcribed (decay 0.9, momentum 0, epsilon 1e-10), in float32."""
    mean_square = np.ones_like(weights)
    for gradient in gradients:
        mean_square = np.float32(0.9) * mean_square + np.float32(0.1) * gradient * gradient
        weights = weights - np.float32(rate) * gradient / np.sqrt(mean_square + np.float32(1e-10))
    return weights


def test_the_seeds_rmsprop_follows_tf1s_rule_over_30_steps():
    rng = np.random.default_rng(5)
    start = rng.normal(0, 0.1, 64).astype(np.float32)
    # Gradients from 1e-1 to 1e-5, the small ones where the two rules part most.
    scales = (10.0 ** rng.uniform(-5, -1, 64)).astype(np.float32)
    gradients = [(rng.normal(0, 1, 64) * scales).astype(np.float32) for _ in range(30)]
    config = TrainConfig()
    generator_optimizer, critic_optimizer, warmup = recipe.optimizers(config)
    assert warmup is None and recipe.rates(config)[0] == 8e-5
    expected = _tf1_rmsprop(start, gradients, 8e-5)
    for optimizer in (generator_optimizer, critic_optimizer):
        weights = keras.Variable(start)
        for gradient in gradients:
            optimizer.apply_gradients([(tf.constant(gradient), weights)])
        np.testing.assert_allclose(weights.numpy(), expected, rtol=1e-6, atol=1e-9)
    # Keras' own, still reachable by name, moves them ~10x further in these first steps,
    # where TF1's accumulator is still near its start of ones.
    keras_rmsprop = recipe.optimizers(TrainConfig(warmup_optimizer="keras_rmsprop"))[2]
    weights = keras.Variable(start)
    for gradient in gradients:
        keras_rmsprop.apply_gradients([(tf.constant(gradient), weights)])
    assert type(keras_rmsprop) is keras.optimizers.RMSprop
    assert np.abs(weights.numpy() - expected).max() > 5 * np.abs(expected - start).max()
