"""--mode=export: generator.keras and a uint8-in, uint8-out SavedModel, each loaded back."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_testing import sr_of, write_run

from srgan.cli import main
from srgan.inference.export import export_generator
from srgan.inference.upscale import context_margin
from srgan.models.generator import build_generator

TILE = 16


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    keras.utils.set_random_seed(5)
    generator = build_generator(8, 1)
    # Moving statistics away from their initial 0 / 1, so that a model exported in
    # training mode, or without them, would be caught.
    for variable in generator.non_trainable_variables:
        variable.assign(np.random.default_rng(0).uniform(0.5, 1.5, variable.shape).astype(np.float32))
    folder = tmp_path_factory.mktemp("export")
    # Small tiles with the full receptive field as context: tiled equals whole.
    return generator, export_generator(generator, folder, TILE, context_margin("seed", 1))


def test_keras_file_reloads_to_the_same_model(exported):
    generator, (keras_path, _) = exported
    loaded = keras.saving.load_model(keras_path)
    lr = np.random.default_rng(1).uniform(-1, 1, (2, 9, 11, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(lr, training=False).numpy(),
                               generator(lr, training=False).numpy(), atol=1e-5)


def test_saved_model_serves_uint8_photos_of_any_size(exported):
    generator, (_, saved_path) = exported
    serving = tf.saved_model.load(str(saved_path)).signatures["serving_default"]
    image = np.random.default_rng(2).integers(0, 256, (13, 17, 3), dtype=np.uint8)
    sr = serving(image=tf.constant(image))["sr"].numpy()
    assert sr.shape == (52, 68, 3) and sr.dtype == np.uint8
    assert np.abs(sr.astype(int) - sr_of(generator, image).astype(int)).max() <= 1


def test_the_tiled_signature_equals_the_whole_photo_in_bounded_calls(exported):
    generator, (_, saved_path) = exported
    loaded = tf.saved_model.load(str(saved_path))
    image = np.random.default_rng(3).integers(0, 256, (2 * TILE + 5, 3 * TILE + 1, 3), dtype=np.uint8)
    whole = loaded.signatures["serving_default"](image=tf.constant(image))["sr"].numpy()
    tiled = loaded.signatures["tiled"](image=tf.constant(image))["sr"].numpy()
    assert tiled.shape == whole.shape == (4 * image.shape[0], 4 * image.shape[1], 3)
    assert tiled.dtype == np.uint8 and np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1


def test_export_replaces_an_earlier_export_and_leaves_no_temporaries(exported):
    generator, (keras_path, saved_path) = exported
    export_generator(generator, keras_path.parent)
    assert sorted(p.name for p in keras_path.parent.iterdir()) == ["generator.keras", "saved_model"]


def test_cli_export(tmp_path, capsys):
    run = tmp_path / "checkpoint"
    output = tmp_path / "export"
    write_run(run)
    assert main(["--mode=export", f"--checkpoint_dir={run}", f"--output={output}"]) == 0
    assert (output / "generator.keras").is_file()
    assert (output / "saved_model" / "saved_model.pb").is_file()
