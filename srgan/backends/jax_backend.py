"""JAX's way: a function transformation, which a jitted step differentiates again; jit
for compiling; and what training under JAX supports so far."""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from srgan.errors import UserError


def input_gradient(function: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    return jax.grad(lambda v: jnp.sum(function(v).astype(jnp.float32)))(x)


def compiled(function: Callable[..., jax.Array]) -> Callable[..., jax.Array]:
    return jax.jit(function)


def compiled_for_images(function: Callable[[jax.Array], jax.Array]) -> Callable[..., jax.Array]:
    return jax.jit(function)


def gpu() -> tuple[str, tuple[int, int]] | None:
    devices = [device for device in jax.devices() if device.platform == "gpu"]
    if not devices:
        return None
    capability = getattr(devices[0], "compute_capability", "0.0")
    return devices[0].device_kind, tuple(int(part) for part in str(capability).split(".")[:2])


def device_line() -> str:
    """The device training runs on, for the first log line."""
    device = jax.devices()[0]
    return f"one device (JAX {device.platform}: {device.device_kind})"


def check_training_flags(config) -> None:
    """UserError, in one line, for a flag that training under JAX does not take yet."""
    if config.strategy not in ("auto", "one"):
        raise UserError(f"--strategy {config.strategy} is TensorFlow's tf.distribute; under "
                        "KERAS_BACKEND=jax training runs on one device (--strategy auto or one)")
    if config.precision == "mixed_float16":
        raise UserError("--precision mixed_float16 needs a loss scale, which training under "
                        "KERAS_BACKEND=jax does not keep yet: use mixed_bfloat16 or float32")
