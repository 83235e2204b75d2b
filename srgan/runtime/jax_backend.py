"""JAX's way: a function transformation, which a jitted step differentiates again; jit
for compiling; and the flags training under JAX does not take."""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from srgan.errors import UserError
from srgan.runtime import environment


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
    """UserError, in one line, for a flag that training under JAX does not take."""
    if config.strategy == "multiworker":
        raise UserError("--strategy multiworker is TensorFlow's; under KERAS_BACKEND=jax "
                        "training uses the devices of one machine (--strategy auto, one or mirrored)")


def split_cpu_devices() -> int:
    """Splits the CPU into SRGAN_CPU_DEVICES devices (a testing aid, as under TensorFlow);
    returns how many there are. Must run before JAX's first array."""
    count = environment.cpu_devices()
    if count > 1:
        try:
            jax.config.update("jax_num_cpu_devices", count)
        except RuntimeError as error:  # JAX already started its CPU backend
            raise UserError(f"{environment.CPU_DEVICES_ENV} is read before JAX starts; set it "
                            f"in the environment of the process ({error})") from error
    return count
