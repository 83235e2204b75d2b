"""TensorFlow's way: a tape, nested inside the step's own so that the step can take the
gradient of what is computed from this one."""

from collections.abc import Callable

import tensorflow as tf


def input_gradient(function: Callable[[tf.Tensor], tf.Tensor], x: tf.Tensor) -> tf.Tensor:
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = function(x)
    return tape.gradient(y, x)


def compiled(function: Callable[..., tf.Tensor]) -> Callable[..., tf.Tensor]:
    traced = tf.function(function)
    return lambda *arrays: traced(*(tf.convert_to_tensor(array) for array in arrays))


def compiled_for_images(function: Callable[[tf.Tensor], tf.Tensor]) -> Callable[..., tf.Tensor]:
    return tf.function(function, input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])


def gpu() -> tuple[str, tuple[int, int]] | None:
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name", gpus[0].name), tuple(details.get("compute_capability", (0, 0)))
