"""Writing a trained generator for use outside this project.

Two forms: `generator.keras` (the Keras model, [-1, 1] in and out, for Python users)
and `saved_model/` (for TF Serving, TFLite converters and other languages), whose
serving signature takes a uint8 HxWx3 photo of any size and returns the uint8
4Hx4Wx3 result, the pixel mapping included.
"""

import os
import shutil
import uuid
from pathlib import Path

import keras
import tensorflow as tf

from srgan.data.degrade import from_model, to_model

KERAS_FILE = "generator.keras"
SAVED_MODEL_DIR = "saved_model"


class _Serving(tf.Module):
    def __init__(self, generator: keras.Model):
        super().__init__()
        self.generator = generator

    @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.uint8, name="image")])
    def serve(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        sr = self.generator(to_model(image)[tf.newaxis], training=False)
        return {"sr": from_model(sr)[0]}


def export_generator(generator: keras.Model, output: Path) -> tuple[Path, Path]:
    """Writes OUTPUT/generator.keras and OUTPUT/saved_model/; returns both paths.

    Each is written under a temporary name and moved into place when complete, so a
    failure leaves any earlier export as it was and no half-written one.
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    keras_path, saved_path = output / KERAS_FILE, output / SAVED_MODEL_DIR
    keras_temp = output / f".{KERAS_FILE}.{token}.keras"  # save() insists on the suffix
    saved_temp = output / f".{SAVED_MODEL_DIR}.{token}"
    try:
        generator.save(keras_temp)
        module = _Serving(generator)
        tf.saved_model.save(module, str(saved_temp), signatures={"serving_default": module.serve})
        os.replace(keras_temp, keras_path)
        if saved_path.exists():
            old = output / f".{SAVED_MODEL_DIR}.old.{token}"
            os.replace(saved_path, old)
            os.replace(saved_temp, saved_path)
            shutil.rmtree(old)
        else:
            os.replace(saved_temp, saved_path)
    finally:
        keras_temp.unlink(missing_ok=True)
        shutil.rmtree(saved_temp, ignore_errors=True)
    return keras_path, saved_path
