"""The start of a process's Keras backend: TensorFlow imported without its C++ chatter,
and the CPU split into logical devices (SRGAN_CPU_DEVICES) before the first op."""

import os
import sys


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow with its C++ start-up chatter (oneDNN, CUDA probing) muted.

    That chatter is printed by C++ before TF_CPP_MIN_LOG_LEVEL is read, so stderr's
    file descriptor is pointed at /dev/null for the import alone; Python errors
    raised by the import still reach the user.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def start(backend: str) -> None:
    """Loads `backend` (a Keras backend's name) and splits the CPU into the logical devices
    SRGAN_CPU_DEVICES asks for, which each backend allows only before its first op."""
    if backend == "tensorflow":
        import_tensorflow_quietly()
        from srgan.runtime.distribute import split_cpu_devices
        split_cpu_devices()
    elif backend == "jax":
        from srgan.runtime import jax_backend
        jax_backend.split_cpu_devices()
