"""Where a JAX run trains: one device, or data parallel over the local devices through
Keras' distribution API. Under `keras.distribution.DataParallel` every variable is
replicated on each device and each batch is split along its first axis; jax.jit then
partitions the step itself (SPMD), all-reducing the gradients, so a step computes what it
computes on one device, BatchNorm's statistics over the whole batch included."""

import logging
from collections.abc import Callable
from pathlib import Path

import keras

from srgan.config import TrainConfig
from srgan.run.folder import RunLock
from srgan.runtime import check_global_batch
from srgan.training.budget import PhaseLimit

log = logging.getLogger(__name__)


def resolve(name: str) -> tuple[keras.distribution.DataParallel | None, str]:
    """(the distribution --strategy `name` stands for under JAX, None for one device; why:
    for the first log line). auto is data parallel where more than one device is local."""
    devices = keras.distribution.list_devices()
    if name == "auto":
        name = "mirrored" if len(devices) > 1 else "one"
    if name == "mirrored":
        return (keras.distribution.DataParallel(devices=devices),
                f"data parallel over {', '.join(devices)} (Keras DataParallel under JAX)")
    from srgan.runtime import jax_backend
    return None, jax_backend.device_line()


def train(config: TrainConfig, limit: PhaseLimit | None, run: Callable[..., bool],
          start_folder: Callable[[Path], None]) -> bool:
    """`run` (the loop's _train) under the distribution --strategy names; `start_folder`
    is called on the run's folder before it is locked."""
    distribution, why = resolve(config.strategy)
    if distribution is not None:
        check_global_batch(config.batch_size, len(distribution.device_mesh.devices.flat))
    folder = Path(config.checkpoint_dir)
    start_folder(folder)
    with RunLock(folder):
        return run(config, folder, distribution, why, limit)
