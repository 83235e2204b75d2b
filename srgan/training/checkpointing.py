"""A run's state on disk: one tf.train.Checkpoint, a lock, and moving a run aside.

The checkpoint holds the generator, the critic, both optimizers (with their
learning rates), the epoch, the batch within it, the global step and the random
generator, so that a resumed run continues exactly where it stopped.
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


class RunState:
    """Everything a resumed run needs, saved and restored as one checkpoint."""

    def __init__(self, folder: Path, generator: keras.Model, critic: keras.Model,
                 generator_optimizer: keras.optimizers.Optimizer,
                 critic_optimizer: keras.optimizers.Optimizer, rng: tf.random.Generator):
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        self.batch = tf.Variable(0, dtype=tf.int64, trainable=False, name="batch")
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        # Optimizer slots are created lazily; build them now so a restore fills them.
        generator_optimizer.build(generator.trainable_variables)
        critic_optimizer.build(critic.trainable_variables)
        self.checkpoint = tf.train.Checkpoint(
            generator=generator, critic=critic, generator_optimizer=generator_optimizer,
            critic_optimizer=critic_optimizer, rng=rng,
            epoch=self.epoch, batch=self.batch, step=self.step)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(folder), max_to_keep=KEEP)

    def restore(self) -> str | None:
        """Loads the latest checkpoint; returns its path, or None on a fresh run."""
        path = self.manager.latest_checkpoint
        if path is None:
            return None
        try:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        except (tf.errors.OpError, AssertionError, ValueError) as error:
            raise UserError(f"checkpoint {path} cannot be loaded into this run ({error}).\n"
                            "Pass --restart to start afresh (the old run is moved aside).") from error
        return path

    def save(self) -> str:
        # CheckpointManager writes the new files first and updates the small
        # `checkpoint` index atomically last: a kill mid-save leaves the last one usable.
        return self.manager.save(checkpoint_number=int(self.step))


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
