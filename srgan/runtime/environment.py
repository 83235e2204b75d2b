"""The environment variables the project reads, checked: KERAS_BACKEND (or keras.json's
backend), TF_CONFIG (the cluster of a multi-worker run), SRGAN_CPU_DEVICES (logical CPU
devices, a testing aid) and SRGAN_WORKER_WAIT (how long a multi-worker start waits for the
other tasks).

Free of TensorFlow, so that the command line checks them before TensorFlow loads
(srgan/cli/preflight.py); srgan/runtime/distribute.py, which acts on them, reads them here too.
"""

import importlib.util
import json
import os
from pathlib import Path
from typing import Annotated, NotRequired, TypedDict

from srgan import schema
from srgan.errors import UserError

CPU_DEVICES_ENV = "SRGAN_CPU_DEVICES"
# Logical devices are a testing aid; past this many a typo is likelier than a test.
MAX_CPU_DEVICES = 64
WAIT_ENV = "SRGAN_WORKER_WAIT"
# Seconds a multi-worker start waits for the other tasks: long enough to start the same
# command on every machine by hand.
DEFAULT_WAIT_S = 300
# The jobs MultiWorkerMirroredStrategy runs: one chief at most, and workers.
JOBS = ("chief", "worker")
_EXAMPLE = ('TF_CONFIG must look like {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}} (docs/PERFORMANCE.md, "Many GPUs and machines")')


class _Task(TypedDict):
    type: str
    index: int


# host:port, the host a name, an IPv4 address or a bracketed IPv6 one.
_ADDRESS = Annotated[str, schema.Matches(r"(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]+):[0-9]{1,5}",
                                         '"host:port"')]


class _TFConfig(TypedDict):
    """TensorFlow's TF_CONFIG, as far as this project reads it."""

    cluster: NotRequired[dict[str, list[_ADDRESS]]]
    task: NotRequired[_Task]


def _whole_number(name: str, low: int, high: int | None, default: int, unit: str = "") -> int:
    """The environment variable `name` as a whole number from `low` to `high` (None: no
    limit), or `default` where it is not set."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    # str.isdigit() alone takes "²", which int() refuses.
    value = int(text) if text.isascii() and text.isdigit() else None
    if value is None or value < low or (high is not None and value > high):
        limits = f"of at least {low}" if high is None else f"from {low} to {high}"
        raise UserError(f"{name} must be a whole number{unit} {limits}, got {text!r}")
    return value


def cpu_devices() -> int:
    """SRGAN_CPU_DEVICES: how many logical devices to split the CPU into (1: none)."""
    return _whole_number(CPU_DEVICES_ENV, 1, MAX_CPU_DEVICES, 1)


def worker_wait() -> int:
    """SRGAN_WORKER_WAIT: the seconds a multi-worker start waits for the other tasks."""
    return _whole_number(WAIT_ENV, 1, None, DEFAULT_WAIT_S, " of seconds")


def tf_config() -> dict | None:
    """TF_CONFIG, checked, where it names a cluster of more than one task; else None.

    The cluster must be an object of lists of "host:port", of chief and worker jobs, and
    the task a type and index it names; otherwise a UserError names the field.
    """
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"TF_CONFIG is not JSON ({error}); {_EXAMPLE}") from error
    schema.check(config, _TFConfig, "TF_CONFIG", _EXAMPLE)
    cluster = config.get("cluster", {})
    if sum(len(addresses) for addresses in cluster.values()) < 2:
        return None
    other = [job for job in cluster if job not in JOBS]
    if other:
        raise UserError(f"TF_CONFIG: cluster names a {other[0]!r} job; MultiWorkerMirroredStrategy "
                        f"runs {' and '.join(JOBS)} tasks alone")
    if len(cluster.get("chief", [])) > 1:
        raise UserError(f"TF_CONFIG: cluster.chief names {len(cluster['chief'])} tasks; a "
                        "cluster has one chief at most")
    task = config.get("task")
    if task is None:
        raise UserError(f"TF_CONFIG: task is missing: say which task of the cluster this "
                        f"process is; {_EXAMPLE}")
    if task["type"] not in cluster:
        raise UserError(f"TF_CONFIG: task.type is {task['type']!r}, a job the cluster does not "
                        f"name (it names {', '.join(cluster)})")
    count = len(cluster[task["type"]])
    if not 0 <= task["index"] < count:
        raise UserError(f"TF_CONFIG: task.index is {task['index']}, but cluster.{task['type']} "
                        f"names {count} task(s): index 0 to {count - 1}")
    return config

# Keras 3's backends, and the module each needs.
KERAS_BACKENDS = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy",
                  "openvino": "openvino"}
# What the command line runs on: TensorFlow, the reference, and JAX, for accelerators
# that have no TensorFlow.
CLI_BACKENDS = ("tensorflow", "jax")


def _configured_backend() -> tuple[str, str]:
    """(the backend Keras will load, where that is said): KERAS_BACKEND, else the
    "backend" of keras.json in KERAS_HOME (~/.keras), else TensorFlow, as Keras decides."""
    value = os.environ.get("KERAS_BACKEND")
    if value is not None:
        return value, "KERAS_BACKEND"
    path = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "keras.json"
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return "tensorflow", "Keras' default"
    backend = saved.get("backend", "tensorflow") if isinstance(saved, dict) else "tensorflow"
    return str(backend), f"{path}'s backend"


def installed_backends() -> list[str]:
    return [name for name, module in KERAS_BACKENDS.items()
            if name != "numpy" and importlib.util.find_spec(module) is not None]


def keras_backend() -> str:
    """The Keras backend this process will run on, checked before Keras loads: UserError,
    naming the backends installed here, where it is none of Keras', is not installed, or
    is one the command line does not run on."""
    backend, said_by = _configured_backend()
    installed = ", ".join(installed_backends())
    if backend not in KERAS_BACKENDS:
        raise UserError(f"{said_by} is {backend!r}, not a Keras backend; installed here: "
                        f"{installed} (the command line runs on {', '.join(CLI_BACKENDS)})")
    if backend != "numpy" and importlib.util.find_spec(KERAS_BACKENDS[backend]) is None:
        raise UserError(f"{said_by} is {backend}, which is not installed; installed here: "
                        f"{installed} (the command line runs on {', '.join(CLI_BACKENDS)})")
    if backend not in CLI_BACKENDS:
        raise UserError(f"{said_by} is {backend}: the command line runs on "
                        f"{' and '.join(CLI_BACKENDS)}. Unset KERAS_BACKEND (TensorFlow) or set "
                        "it to one of those.")
    return backend
