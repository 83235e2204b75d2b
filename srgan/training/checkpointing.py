"""A run's state on disk: one tf.train.Checkpoint, a lock, and moving a run aside.

The checkpoint holds the generator, the critic, the optimizers (with their
learning rates), the epoch, the batch within it, the global step and the random
generator, so that a resumed run continues exactly where it stopped. Under
mixed_float16 the optimizers' dynamic loss scales are saved too, under keys of their
own, so a run can change its precision on resume: the scales start afresh where the
checkpoint has none.
"""

import datetime
import fcntl
import os
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from srgan.errors import UserError

LOCK_FILE = ".lock"
KEEP = 3
BEST = "best"


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
                 warmup_optimizer: keras.optimizers.Optimizer | None = None):
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.batch = tf.Variable(0, dtype=tf.int64, trainable=False, name="batch")
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        optimizers = {"generator_optimizer": (generator_optimizer, generator),
                      "critic_optimizer": (critic_optimizer, critic)}
        if warmup_optimizer is not None and warmup_optimizer is not generator_optimizer:
            optimizers["warmup_optimizer"] = (warmup_optimizer, generator)
        core = dict(generator=generator, critic=critic, rng=rng,
                    epoch=self.epoch, batch=self.batch, step=self.step)
        scales = {}
        for key, (optimizer, network) in optimizers.items():
            # Optimizer slots are created lazily; build them now so a restore fills them.
            optimizer.build(network.trainable_variables)
            core[key], scale = _split_loss_scale(optimizer)
            if scale:
                scales[f"{key}_loss_scale"] = tf.train.Checkpoint(**scale)
        self._core = tf.train.Checkpoint(**core)
        self._scales = tf.train.Checkpoint(**scales)
        self.checkpoint = tf.train.Checkpoint(**core, **scales)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(folder), max_to_keep=KEEP)
        self.best = tf.train.CheckpointManager(self.checkpoint, str(folder / BEST), max_to_keep=1)

    def restore(self) -> str | None:
        """Loads the latest checkpoint; returns its path, or None on a fresh run."""
        path = self.manager.latest_checkpoint
        if path is None:
            return None
        try:
            self._core.restore(path).assert_existing_objects_matched()
            # Absent from runs saved in another precision; the scales then start afresh.
            self._scales.restore(path).expect_partial()
        except (tf.errors.OpError, AssertionError, ValueError) as error:
            raise UserError(f"checkpoint {path} cannot be loaded into this run ({error}).\n"
                            "Pass --restart to start afresh (the old run is moved aside).") from error
        return path

    def save(self) -> str:
        # CheckpointManager writes the new files first and updates the small
        # `checkpoint` index atomically last: a kill mid-save leaves the last one usable.
        return self.manager.save(checkpoint_number=int(self.step))

    def save_best(self) -> str:
        """Saves the run as it is into BEST/, replacing the one there (kept apart from
        the rolling checkpoints, which never prune it)."""
        return self.best.save(checkpoint_number=int(self.step))


class RunLock:
    """An exclusive lock on a checkpoint folder, held for a whole run.

    flock() is released by the kernel when the process dies, even by kill -9, so a
    crashed run never leaves a stale lock behind.
    """

    def __init__(self, folder: Path):
        self.path = folder / LOCK_FILE
        self._file = None

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "another process"
            handle.close()
            raise UserError(f"{self.path.parent} is in use by a running training (pid {owner}). "
                            "Wait for it to finish, stop it, or pass another --checkpoint_dir.")
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc_info) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def move_aside(folder: Path) -> Path | None:
    """Moves a previous run out of `folder` into FOLDER-YYYYmmdd-HHMMSS.

    Returns where it went, or None where there was nothing to move. The folder itself
    stays (the repository keeps it), so the lock is taken in place while moving.
    """
    kept = (LOCK_FILE, ".gitkeep")
    if not folder.is_dir() or all(p.name in kept for p in folder.iterdir()):
        return None
    with RunLock(folder):
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = folder.with_name(f"{folder.name}-{stamp}")
        target.mkdir()
        for entry in folder.iterdir():
            if entry.name not in kept:
                shutil.move(str(entry), str(target / entry.name))
    return target
