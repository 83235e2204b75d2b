"""Writing a trained generator for use outside this project.

Two forms: `generator.keras` (the Keras model, [-1, 1] in and out, for Python users)
and `saved_model/` (for TF Serving, TFLite converters and other languages), whose
serving signature takes a uint8 HxWx3 photo of any size and returns the uint8
4Hx4Wx3 result, the pixel mapping included.
"""

from pathlib import Path

import keras
import tensorflow as tf

from srgan.data.degrade import from_model, to_model
from srgan.files import atomic_path

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
    keras_path, saved_path = output / KERAS_FILE, output / SAVED_MODEL_DIR
    module = _Serving(generator)
    with atomic_path(keras_path, ".keras") as keras_temp, atomic_path(saved_path) as saved_temp:
        generator.save(keras_temp)  # Keras insists on the .keras suffix
        tf.saved_model.save(module, str(saved_temp), signatures={"serving_default": module.serve})
    return keras_path, saved_path
