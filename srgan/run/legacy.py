"""Checkpoints of earlier versions: TensorFlow's format (`ckpt-N.index` and its shards),
read here, by TensorFlow, so that their runs resume and their generators score; the next
save writes the format every backend reads (srgan/run/state.py).

They held the networks, the optimizers, the counters, a tf.random.Generator for the
gradient penalty (dropped: its draws are now functions of the step) and, from format 2,
the BatchNorm epsilon (1e-3, Keras', where absent).
"""

import logging

import keras

from srgan.errors import UserError, first_line
from srgan.models import norm

log = logging.getLogger(__name__)

GENERATOR = "generator"
STEP_KEY = "step/.ATTRIBUTES/VARIABLE_VALUE"
EPSILON = "batchnorm_epsilon"
EPSILON_KEY = f"{EPSILON}/.ATTRIBUTES/VARIABLE_VALUE"


def _tensorflow():
    """TensorFlow, with Keras on it; UserError in one line where either is not so."""
    why = None
    if keras.backend.backend() != "tensorflow":
        why = f"Keras runs on {keras.backend.backend()}"
    else:
        try:
            import tensorflow as tf
            return tf
        except ImportError as error:
            why = str(error)
    raise UserError(f"this run's checkpoints are in TensorFlow's format, as versions before "
                    f"run format 3 saved them, and only TensorFlow reads them ({why}). Resume "
                    "the run once under TensorFlow (KERAS_BACKEND=tensorflow python main.py "
                    "... with the same --checkpoint_dir): its next save writes the format every "
                    "backend reads.")


def damage(prefix) -> str | None:
    """Why the legacy checkpoint at `prefix` cannot be read whole; None where it can, or
    where TensorFlow is not at hand to tell (reading it then says how to convert it)."""
    try:
        tf = _tensorflow()
    except UserError:
        return None
    try:
        reader = tf.train.load_checkpoint(str(prefix))
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as error:  # DataLossError, IndexError, ... by which bytes are wrong
        return f"{type(error).__name__}: {first_line(error)}"
    return None


def checkpoint_step(prefix) -> int:
    return int(_tensorflow().train.load_checkpoint(str(prefix)).get_tensor(STEP_KEY))


def _epsilon(tf, prefix) -> float:
    reader = tf.train.load_checkpoint(str(prefix))
    return float(reader.get_tensor(EPSILON_KEY)) if reader.has_tensor(EPSILON_KEY) else norm.KERAS_EPSILON


def restore(prefix, state, networks: tuple[keras.Model, keras.Model],
            optimizers: dict[str, keras.optimizers.Optimizer], loss_scales: dict[str, list]) -> float:
    """Loads the legacy checkpoint at `prefix` into the networks, the optimizers (each the
    one whose slots are saved: a loss-scale optimizer's inner one), the loss scales
    (name -> [scale, counter], as RunState splits them) and the counters of `state` (a
    RunState); returns the BatchNorm epsilon it was trained with. ValueError where it
    does not fit this run."""
    tf = _tensorflow()
    counters = {name: tf.Variable(0, dtype=tf.int64, name=name) for name in ("epoch", "batch", "step")}
    core = {GENERATOR: networks[0], "critic": networks[1], **counters, **optimizers}
    scales = {name: tf.train.Checkpoint(scale=scale, counter=counter)
              for name, (scale, counter) in loss_scales.items()}
    try:
        # The penalty's random generator is in the file too; it is not wanted.
        tf.train.Checkpoint(**core).restore(str(prefix)).expect_partial() \
            .assert_existing_objects_matched()
        tf.train.Checkpoint(**scales).restore(str(prefix)).expect_partial()
    except (tf.errors.OpError, AssertionError) as error:
        raise ValueError(first_line(error)) from error
    for name, variable in counters.items():
        setattr(state, name, int(variable.numpy()))
    log.info(f"{prefix} is in TensorFlow's checkpoint format of earlier versions: read, and "
             "the run's next save writes run format 3, which every backend reads")
    return _epsilon(tf, prefix)


def restore_generator(generator: keras.Model, prefix) -> float:
    """Loads the generator's weights alone; returns the epsilon it was trained with."""
    tf = _tensorflow()
    status = tf.train.Checkpoint(**{GENERATOR: generator}).restore(str(prefix))
    # The critic, optimizers and counters are in the file too; they are not wanted here.
    status.expect_partial()
    # Fails when some generator weight had no counterpart in the file: a generator with
    # more layers than the checkpoint's. Fewer layers or other widths fail earlier, in
    # restore(), on the first weight whose shape differs.
    status.assert_existing_objects_matched()
    return _epsilon(tf, prefix)
