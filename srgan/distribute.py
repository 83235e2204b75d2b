"""--strategy: one device, the GPUs of one machine, or several machines, by tf.distribute.

No distribution of our own: MirroredStrategy keeps a copy of every variable on each
local device and all-reduces the gradients; MultiWorkerMirroredStrategy does the same
across machines, configured by the standard TF_CONFIG environment variable. A step
runs the same code on each replica's share of the global batch (`srgan/steps.py`).

SRGAN_CPU_DEVICES=N splits the CPU into N logical devices, so that every path runs
on a machine without GPUs: a testing aid, not a speed-up.
"""

import functools
import json
import os

import tensorflow as tf

from srgan.config import STRATEGIES
from srgan.errors import UserError

CPU_DEVICES_ENV = "SRGAN_CPU_DEVICES"


def split_cpu_devices() -> int:
    """Splits the CPU into SRGAN_CPU_DEVICES logical devices; returns how many there are.

    Must run before TensorFlow initialises its devices (its first op), so main() calls
    it straight after importing TensorFlow.
    """
    text = os.environ.get(CPU_DEVICES_ENV, "").strip()
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise UserError(f"{CPU_DEVICES_ENV} must be a whole number of at least 1, got {text!r}")
    count = int(text)
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError as error:  # TensorFlow already initialised its devices
        raise UserError(f"{CPU_DEVICES_ENV} is read before TensorFlow starts; set it in the "
                        f"environment of the process ({error})") from error
    return count


def _cluster() -> dict | None:
    """TF_CONFIG's cluster where it names more than one task, else None."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"TF_CONFIG is not JSON ({error})") from error
    cluster = config.get("cluster", {}) if isinstance(config, dict) else {}
    tasks = sum(len(addresses) for addresses in cluster.values() if isinstance(addresses, list))
    return config if tasks > 1 else None


def _local_devices() -> list[str]:
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return [device.name for device in gpus]
    return [device.name for device in tf.config.list_logical_devices("CPU")]


@functools.cache
def _multiworker() -> tf.distribute.MultiWorkerMirroredStrategy:
    """The process's one MultiWorkerMirroredStrategy (TensorFlow allows one: it configures
    the devices), shared by the runs of --mode=compare."""
    try:
        # Before anything else touches TensorFlow's devices: it must configure them.
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as error:
        raise UserError(f"cannot start the multi-worker strategy ({error}); it must be the "
                        "first thing the process does with TensorFlow") from error


def resolve(name: str) -> tuple[tf.distribute.Strategy, str]:
    """(the tf.distribute strategy `name` stands for, why: for the first log line).

    auto: MultiWorkerMirroredStrategy when TF_CONFIG names a cluster, MirroredStrategy
    when more than one GPU (or logical CPU device) is visible, else one device.
    """
    if name not in STRATEGIES:
        raise UserError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {name!r}")
    cluster = _cluster()
    if name == "multiworker" or (name == "auto" and cluster):
        if cluster is None:
            raise UserError("--strategy multiworker needs TF_CONFIG naming a cluster of more "
                            "than one task (README, \"Many GPUs and machines\")")
        task = cluster.get("task", {})
        strategy = _multiworker()
        return strategy, (f"MultiWorkerMirroredStrategy, {strategy.num_replicas_in_sync} "
                          f"replicas; this is {task.get('type')} {task.get('index')}")
    devices = _local_devices()
    if name == "auto":
        name = "mirrored" if len(devices) > 1 else "one"
    if name == "mirrored":
        # On CPU devices TensorFlow's collective all-reduce can be issued in another order
        # on each replica when synchronized BatchNorm layers run in one step (SRGAN's
        # discriminator), and then aborts; reducing on one device has no order to keep.
        # GPUs keep TensorFlow's default (NCCL).
        on_cpu = not tf.config.list_logical_devices("GPU")
        strategy = tf.distribute.MirroredStrategy(
            devices, cross_device_ops=tf.distribute.ReductionToOneDevice() if on_cpu else None)
        return strategy, f"MirroredStrategy over {', '.join(devices)}"
    return tf.distribute.get_strategy(), f"one device ({devices[0]})"


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run's files: always, except a MultiWorker worker
    other than the chief (worker 0 where no chief is named)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type is None or task_type == "chief" or (
        task_type == "worker" and task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict())


def check_batch(batch_size: int, strategy: tf.distribute.Strategy) -> None:
    """UserError unless the global batch splits evenly over the replicas."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise UserError(f"--batch_size {batch_size} (the global batch) does not split evenly "
                        f"over {replicas} replicas; give a multiple of {replicas}")
