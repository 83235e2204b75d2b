"""What a checkpoint holds: one tf.train.Checkpoint of everything a resume needs.

The checkpoint holds the generator, the critic, the optimizers (with their
learning rates), the epoch, the batch within it, the global step and the random
generator, so that a resumed run continues exactly where it stopped, and the BatchNorm
epsilon its networks were trained with: checkpoints without one were saved with Keras'
1e-3, and their BatchNorm weights are converted exactly on reading (models/norm.py). Under
mixed_float16 the optimizers' dynamic loss scales are saved too, under keys of their
own, so a run can change its precision on resume: the scales start afresh where the
checkpoint has none.

Which checkpoint a run resumes from is decided by its files (srgan/run/folder.py),
not by TensorFlow's pointer file alone; a save that fails removes its own files.
"""

import logging
from pathlib import Path

import keras
import tensorflow as tf

from srgan.errors import UserError, describe_os_error, first_line
from srgan.models import norm
from srgan.run.best import BEST
from srgan.run.folder import prefix_of, read_pointer, remove_checkpoint, standing

log = logging.getLogger(__name__)

KEEP = 3
# The names the checkpoint gives what it holds (RunState's attributes): read back by
# the generator-only restore and by the step counter below, and nowhere else.
GENERATOR = "generator"
STEP_KEY = "step/.ATTRIBUTES/VARIABLE_VALUE"
EPSILON = "batchnorm_epsilon"
EPSILON_KEY = f"{EPSILON}/.ATTRIBUTES/VARIABLE_VALUE"


def _split_loss_scale(optimizer: keras.optimizers.Optimizer) -> tuple[keras.optimizers.Optimizer, dict]:
    """(the optimizer whose slots are checkpointed, its loss-scale variables if any)."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.inner_optimizer, {"scale": optimizer.dynamic_scale,
                                           "counter": optimizer.step_counter}
    return optimizer, {}


class RunState:
    """Everything a resumed run needs, saved and restored as one checkpoint."""

    def __init__(self, folder: Path, generator: keras.Model, critic: keras.Model,
                 generator_optimizer: keras.optimizers.Optimizer,
                 critic_optimizer: keras.optimizers.Optimizer, rng: tf.random.Generator,
                 warmup_optimizer: keras.optimizers.Optimizer | None = None,
                 restore_from: Path | None = None,
                 strategy: tf.distribute.Strategy | None = None):
        """Saves into `folder`; resumes from `restore_from` where given (a MultiWorker
        worker other than the chief: it saves into a folder of its own, which is thrown
        away, and resumes from the chief's, which it leaves as it is).

        Built outside `strategy`'s scope, so that the counters stay plain variables;
        the optimizers' slots are built inside it, beside the networks' variables."""
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.batch = tf.Variable(0, dtype=tf.int64, trainable=False, name="batch")
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        optimizers = {"generator_optimizer": (generator_optimizer, generator),
                      "critic_optimizer": (critic_optimizer, critic)}
        if warmup_optimizer is not None and warmup_optimizer is not generator_optimizer:
            optimizers["warmup_optimizer"] = (warmup_optimizer, generator)
        core = dict(**{GENERATOR: generator}, critic=critic, rng=rng,
                    epoch=self.epoch, batch=self.batch, step=self.step)
        scales = {}
        for key, (optimizer, network) in optimizers.items():
            # Optimizer slots are created lazily; build them now so a restore fills them.
            with (strategy or tf.distribute.get_strategy()).scope():
                optimizer.build(network.trainable_variables)
            core[key], scale = _split_loss_scale(optimizer)
            if scale:
                scales[f"{key}_loss_scale"] = tf.train.Checkpoint(**scale)
        self.epsilon = tf.Variable(norm.EPSILON, dtype=tf.float64, trainable=False, name=EPSILON)
        self._networks = (generator, critic)
        self._core = tf.train.Checkpoint(**core)
        self._scales = tf.train.Checkpoint(**scales)
        self._epsilon = tf.train.Checkpoint(**{EPSILON: self.epsilon})
        self.checkpoint = tf.train.Checkpoint(**core, **scales, **{EPSILON: self.epsilon})
        self.folder = Path(folder)
        # Before the managers read the pointer files: standing() rewrites them where wrong.
        source = Path(restore_from or folder)
        self.standing = standing(source, repair=restore_from is None)
        self.best_standing = standing(source / BEST, repair=restore_from is None)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(folder), max_to_keep=KEEP)
        self.best = tf.train.CheckpointManager(self.checkpoint, str(folder / BEST), max_to_keep=1)

    def restore(self) -> str | None:
        """Loads the newest intact checkpoint; returns its path, or None on a fresh run.

        A folder that holds checkpoints never starts afresh: where none is intact, this
        raises UserError (only --restart, which moves the run aside, starts over).
        """
        path = self.standing.latest
        if path is None:
            if self.standing.any_checkpoint:
                raise UserError(f"no intact checkpoint in {self.folder} ("
                                + "; ".join(self.standing.notes) + "). Pass --restart to start "
                                "afresh (the old run, damaged files included, is moved aside).")
            return None
        try:
            self._core.restore(path).assert_existing_objects_matched()
            # Absent from runs saved in another precision; the scales then start afresh.
            self._scales.restore(path).expect_partial()
            # Absent from checkpoints saved before the networks took the reference's epsilon.
            self.epsilon.assign(norm.KERAS_EPSILON)
            self._epsilon.restore(path).expect_partial()
        except (tf.errors.OpError, AssertionError, ValueError) as error:
            raise UserError(f"checkpoint {path} cannot be loaded into this run ({error}).\n"
                            "Pass --restart to start afresh (the old run is moved aside).") from error
        trained_with = float(self.epsilon.numpy())
        if trained_with != norm.EPSILON:
            for network in self._networks:
                norm.convert_epsilon(network, trained_with)
            self.epsilon.assign(norm.EPSILON)
            log.info(f"{path} was saved by an earlier version of this project: its BatchNorm "
                     f"weights are converted exactly from epsilon {trained_with:g} to the "
                     f"reference's {norm.EPSILON:g}. Its critic now has the reference's "
                     "LeakyReLU after the last convolution, and RMSProp follows TF1's rule, so "
                     "the run goes on from these weights but not exactly as it would have.")
        return path

    def save(self) -> str:
        # CheckpointManager writes the new files first and updates the small
        # `checkpoint` index atomically last: a kill mid-save leaves the last one usable.
        return _save(self.manager, int(self.step), self.manager.latest_checkpoint)

    def save_best(self) -> str:
        """Saves the run as it is into BEST/, replacing the one there (kept apart from
        the rolling checkpoints, which never prune it)."""
        return _save(self.best, int(self.step), self.manager.latest_checkpoint)


def _save(manager: tf.train.CheckpointManager, number: int, newest: str | None) -> str:
    """manager.save(); where it fails (a full disk, a folder made read-only), its own
    partial files are removed, so the space is freed, and a UserError says what happened
    and names `newest`, the run's newest checkpoint, which the failure left intact."""
    folder = Path(manager.directory)
    prefix = prefix_of(folder, number)
    try:
        return manager.save(checkpoint_number=number)
    except (tf.errors.OpError, OSError) as error:
        if read_pointer(folder)[0] != prefix.name:
            remove_checkpoint(prefix)
        cause = describe_os_error(error) if isinstance(error, OSError) else first_line(error)
        raise UserError(f"cannot save {prefix}: {cause}. Its partial files were removed; "
                        f"the run's newest checkpoint ({newest or 'none yet'}) is intact. Fix "
                        "the cause (free space, permissions) and run the same command to "
                        "resume.") from error


def checkpoint_step(prefix: str) -> int:
    """The training step the checkpoint at `prefix` was saved at."""
    return int(tf.train.load_checkpoint(str(prefix)).get_tensor(STEP_KEY))


def saved_step(folder: Path) -> int:
    """The step of the newest intact checkpoint in `folder`; 0 where there is none."""
    latest = standing(folder, repair=False).latest
    return 0 if latest is None else checkpoint_step(latest)


def restore_generator(generator: keras.Model, prefix: str) -> str | None:
    """Reads the generator's weights alone from the checkpoint at `prefix`; None, or
    why it failed (a damaged file, or a generator of another architecture)."""
    try:
        status = tf.train.Checkpoint(**{GENERATOR: generator}).restore(prefix)
        # The critic, optimizers and counters are in the file too; they are not wanted here.
        status.expect_partial()
        # Fails when some generator weight had no counterpart in the file: a generator
        # with more layers than the checkpoint's. Fewer layers or other widths fail
        # earlier, in restore(), on the first weight whose shape differs.
        status.assert_existing_objects_matched()
        reader = tf.train.load_checkpoint(prefix)
        trained_with = (float(reader.get_tensor(EPSILON_KEY)) if reader.has_tensor(EPSILON_KEY)
                        else norm.KERAS_EPSILON)
        if trained_with != norm.EPSILON:
            norm.convert_epsilon(generator, trained_with)
    # A damaged file fails in many ways (DataLossError, IndexError, ValueError, ...
    # depending on which bytes are wrong); whichever it is, the file cannot be used.
    except Exception as error:
        return f"{type(error).__name__}: {first_line(error)}"
    return None
