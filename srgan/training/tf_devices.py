"""Where a TensorFlow run trains: one device, or a tf.distribute strategy over the GPUs of
one machine or several machines (srgan/runtime/distribute.py), with TensorFlow's recovery model
for a cluster: a worker that stops ends the job, and the same commands resume it."""

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import tensorflow as tf

from srgan.config import TrainConfig
from srgan.errors import UserError, first_line
from srgan.run.folder import RunLock
from srgan.runtime import distribute
from srgan.training.budget import PhaseLimit

log = logging.getLogger(__name__)


def train(config: TrainConfig, limit: PhaseLimit | None, run: Callable[..., bool],
          start_folder: Callable[[Path], None]) -> bool:
    """`run` (the loop's _train) under the strategy --strategy names, in the run's folder
    on the chief, in a folder of its own thrown away on every other worker; the chief
    calls `start_folder` on the run's folder before it locks it."""
    try:
        strategy, strategy_why = distribute.resolve(config.strategy)
    except distribute.Stopped as signal_name:
        log.info(f"{signal_name} received while waiting for the cluster: stopped before training "
                 "began. Run the same command to start again.")
        return False
    distribute.check_batch(config.batch_size, strategy)
    several = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    folder = Path(config.checkpoint_dir)
    try:
        if not distribute.is_chief(strategy):
            # TensorFlow's pattern: every worker runs the same code, saves included; only
            # the chief writes into the run's folder, the others into their own.
            with tempfile.TemporaryDirectory(prefix="srgan-worker-") as scratch:
                return run(config, Path(scratch), strategy, strategy_why, limit,
                           restore_from=folder, several_machines=several)
        start_folder(folder)
        with RunLock(folder):
            return run(config, folder, strategy, strategy_why, limit,
                       several_machines=several)
    except (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
            tf.errors.CancelledError) as error:
        if not several:
            raise
        raise UserError(f"a worker of the cluster stopped or cannot be reached ({first_line(error)}). "
                        "Run the same command on every machine again to resume from the last "
                        "checkpoint.") from error
