"""Writing a trained generator for use outside this project.

Two forms: `generator.keras` (the Keras model: float32 NHWC in [-1, 1] in, 4x out in
[-1, 1], for Python users) and `saved_model/` (for TF Serving, TFLite converters and
other languages), whose signatures take a uint8 HxWx3 photo of any size and return the
uint8 4Hx4Wx3 result, the pixel mapping included: `serving_default` in one call (memory
grows with the photo), `tiled` in tiles of `tile` LR px with `margin` px of context each
side, as upscale runs them (memory bounded by the tile, whatever the photo's size).
"""

from pathlib import Path

import keras
import tensorflow as tf

from srgan.data.degrade import SCALE, from_model, to_model
from srgan.files import atomic_path
from srgan.inference.upscale import DEFAULT_TILE

KERAS_FILE = "generator.keras"
SAVED_MODEL_DIR = "saved_model"


_IMAGE = tf.TensorSpec([None, None, 3], tf.uint8, name="image")


class _Serving(tf.Module):
    def __init__(self, generator: keras.Model, tile: int, margin: int):
        super().__init__()
        self.generator = generator
        self.tile, self.margin = tile, margin

    def _sr(self, lr: tf.Tensor) -> tf.Tensor:
        return from_model(self.generator(lr[tf.newaxis], training=False))[0]

    @tf.function(input_signature=[_IMAGE])
    def serve(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"sr": self._sr(to_model(image))}

    @tf.function(input_signature=[_IMAGE])
    def serve_tiled(self, image: tf.Tensor) -> dict[str, tf.Tensor]:
        """Tiles of `tile` LR px, each run with up to `margin` px of the photo around it and
        cut back to its own 4x area; a row's tiles are joined along the width (transposed,
        since a TensorArray joins along its first axis), then the rows."""
        lr = to_model(image)
        height, width = tf.shape(lr)[0], tf.shape(lr)[1]
        tile, margin = self.tile, self.margin
        rows = tf.TensorArray(tf.uint8, size=0, dynamic_size=True, infer_shape=False)
        for top in tf.range(0, height, tile):
            bottom = tf.minimum(top + tile, height)
            top_in, bottom_in = tf.maximum(0, top - margin), tf.minimum(height, bottom + margin)
            row = tf.TensorArray(tf.uint8, size=0, dynamic_size=True, infer_shape=False)
            for left in tf.range(0, width, tile):
                right = tf.minimum(left + tile, width)
                left_in, right_in = tf.maximum(0, left - margin), tf.minimum(width, right + margin)
                sr = self._sr(lr[top_in:bottom_in, left_in:right_in])
                dy, dx = SCALE * (top - top_in), SCALE * (left - left_in)
                kept = sr[dy:dy + SCALE * (bottom - top), dx:dx + SCALE * (right - left)]
                row = row.write(row.size(), tf.transpose(kept, [1, 0, 2]))
            rows = rows.write(rows.size(), tf.transpose(row.concat(), [1, 0, 2]))
        return {"sr": rows.concat()}


def export_generator(generator: keras.Model, output: Path, tile: int = DEFAULT_TILE,
                     margin: int = 0) -> tuple[Path, Path]:
    """Writes OUTPUT/generator.keras and OUTPUT/saved_model/ (its `tiled` signature in
    tiles of `tile` LR px with `margin` px of context); returns both paths.

    Each is written under a temporary name and moved into place when complete, so a
    failure leaves any earlier export as it was and no half-written one.
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    keras_path, saved_path = output / KERAS_FILE, output / SAVED_MODEL_DIR
    module = _Serving(generator, tile, margin)
    with atomic_path(keras_path, ".keras") as keras_temp, atomic_path(saved_path) as saved_temp:
        generator.save(keras_temp)  # Keras insists on the .keras suffix
        tf.saved_model.save(module, str(saved_temp), signatures={
            "serving_default": module.serve, "tiled": module.serve_tiled})
    return keras_path, saved_path
