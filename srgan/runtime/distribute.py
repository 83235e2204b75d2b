"""--strategy: one device, the GPUs of one machine, or several machines, by tf.distribute.

No distribution of our own: MirroredStrategy keeps a copy of every variable on each
local device and all-reduces the gradients; MultiWorkerMirroredStrategy does the same
across machines, configured by the standard TF_CONFIG environment variable. A step
runs the same code on each replica's share of the global batch (`srgan/training/tf_steps.py`).

SRGAN_CPU_DEVICES=N splits the CPU into N logical devices, so that every path runs
on a machine without GPUs: a testing aid, not a speed-up.
"""

import functools
import logging
import signal
import socket
import time

import tensorflow as tf

from srgan.errors import UserError, describe_os_error
from srgan.runtime import STRATEGIES, check_global_batch, environment
from srgan.runtime.environment import CPU_DEVICES_ENV

log = logging.getLogger(__name__)

# How often a waiting start checks the other tasks.
_POLL_S = 0.5


class Stopped(Exception):
    """Ctrl+C or SIGTERM came while a multi-worker start waited for the other tasks:
    nothing has started. The signal's name is the message."""


def split_cpu_devices() -> int:
    """Splits the CPU into SRGAN_CPU_DEVICES logical devices; returns how many there are.

    Must run before TensorFlow initialises its devices (its first op), so main() calls
    it straight after importing TensorFlow.
    """
    count = environment.cpu_devices()
    if count == 1:
        return 1
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
    except RuntimeError as error:  # TensorFlow already initialised its devices
        raise UserError(f"{CPU_DEVICES_ENV} is read before TensorFlow starts; set it in the "
                        f"environment of the process ({error})") from error
    return count


def _local_devices() -> list[str]:
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return [device.name for device in gpus]
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _answers(address: str) -> bool:
    try:
        with socket.create_connection(_host_port(address), timeout=1):
            return True
    except OSError:
        return False


def _listen(address: str) -> socket.socket:
    """A socket that answers at this task's own address while it waits: the sign the
    others wait for (TensorFlow's server, which takes the port over, answers there after)."""
    port = _host_port(address)[1]
    try:
        if socket.has_dualstack_ipv6():
            listener = socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
        else:
            listener = socket.create_server(("", port))
    except OSError as error:
        raise UserError(f"cannot listen at {address}, this task's address in TF_CONFIG "
                        f"({describe_os_error(error)})") from error
    listener.setblocking(False)
    return listener


def _hang_up(listener: socket.socket) -> None:
    """Accepts and closes what the other tasks' checks opened, so none is left queued."""
    while True:
        try:
            listener.accept()[0].close()
        except (BlockingIOError, InterruptedError):
            return


def _wait_for_cluster(config: dict) -> None:
    """Returns once every other task of the cluster answers at its address.

    TensorFlow's own start waits for the other tasks inside a call that holds the
    interpreter: an hour, deaf to Ctrl+C and SIGTERM. This wait comes first, in Python:
    each task answers at its own address and checks the others' every half second,
    saying which it waits for; it ends in a UserError after SRGAN_WORKER_WAIT, and in
    Stopped at Ctrl+C or SIGTERM.
    """
    cluster, task = config["cluster"], config["task"]
    mine = (task["type"], task["index"])
    others = {f"{job} {index}": address for job, addresses in cluster.items()
              for index, address in enumerate(addresses) if (job, index) != mine}
    limit = environment.worker_wait()
    deadline = time.monotonic() + limit
    signals: list[str] = []

    def stop(signum: int, frame: object) -> None:
        signals.append(signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    listener = _listen(cluster[task["type"]][task["index"]])
    announced: set[str] = set()
    try:
        while True:
            _hang_up(listener)
            missing = [name for name, address in others.items() if not _answers(address)]
            if not missing:
                return
            for name in missing:
                if name not in announced:
                    log.info(f"waiting for {name} at {others[name]} (up to {limit} s; "
                             f"{environment.WAIT_ENV} sets how long) ...")
                    announced.add(name)
            if signals:
                raise Stopped(signals[0])
            if time.monotonic() >= deadline:
                raise UserError(
                    f"{', '.join(f'{name} at {others[name]}' for name in missing)} did not "
                    f"answer within {limit} s ({environment.WAIT_ENV}). Start the same command "
                    "there with "
                    "its own TF_CONFIG, or correct the address, then run this one again.")
            time.sleep(_POLL_S)
    finally:
        listener.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@functools.cache
def _multiworker() -> tf.distribute.MultiWorkerMirroredStrategy:
    """The process's one MultiWorkerMirroredStrategy (TensorFlow allows one: it configures
    the devices), shared by the runs of --mode=compare; started once every task answers."""
    _wait_for_cluster(environment.tf_config())
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
    # TF_CONFIG is for MultiWorkerMirroredStrategy alone: other strategies leave it unread.
    cluster = environment.tf_config() if name in ("auto", "multiworker") else None
    if name == "multiworker" or (name == "auto" and cluster):
        if cluster is None:
            raise UserError("--strategy multiworker needs TF_CONFIG naming a cluster of more "
                            "than one task (docs/PERFORMANCE.md, \"Many GPUs and machines\")")
        task = cluster["task"]
        strategy = _multiworker()
        return strategy, (f"MultiWorkerMirroredStrategy, {strategy.num_replicas_in_sync} "
                          f"replicas; this is {task['type']} {task['index']}")
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
    """UserError unless the global batch splits evenly over the strategy's replicas."""
    check_global_batch(batch_size, strategy.num_replicas_in_sync)
