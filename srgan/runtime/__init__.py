"""How the networks run here: the Keras backend and what each does its own way
(backends.py, tf_backend.py, jax_backend.py), the environment variables (environment.py),
--precision (precision.py), --strategy (distribute.py) and the quiet start of TensorFlow
(startup.py).

The choices of --precision and --strategy are here, free of TensorFlow, so that the
settings and the command line check them before it loads.
"""

from srgan.errors import UserError

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("auto", "one", "mirrored", "multiworker")


def check_global_batch(batch_size: int, replicas: int) -> None:
    """UserError unless the global batch splits evenly over the replicas."""
    if batch_size % replicas:
        raise UserError(f"--batch_size {batch_size} (the global batch) does not split evenly "
                        f"over {replicas} replicas; give a multiple of {replicas}")
