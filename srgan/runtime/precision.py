"""Numeric precision of the networks: float32, or Keras' mixed policies.

Under a mixed policy the layers compute in bfloat16 or float16 while their variables
stay float32. Each network's last layer is built in float32 (see the models), so the
losses, the SSIM terms, the gradient-penalty norm and every image that metrics and PNGs
see are float32 whatever the policy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import keras

from srgan.runtime import PRECISIONS

# GPUs of compute capability 8.0 (Ampere) and newer run bfloat16 on tensor cores.
_BF16_GPU_CAPABILITY = (8, 0)
# CPU flags of the x86 units that run bfloat16 dot products natively.
_BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
CPUINFO = Path("/proc/cpuinfo")


def _cpu_flags() -> set[str]:
    try:
        text = CPUINFO.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def fast_bfloat16() -> tuple[bool, str]:
    """(whether this machine runs bfloat16 fast, the hardware that says so)."""
    from srgan.runtime import backends

    gpu = backends.gpu()
    if gpu is not None:
        name, capability = gpu
        hardware = f"GPU {name} (compute capability {'.'.join(map(str, capability))})"
        return tuple(capability) >= _BF16_GPU_CAPABILITY, hardware
    flags = _cpu_flags() & set(_BF16_CPU_FLAGS)
    if flags:
        return True, f"CPU with {', '.join(sorted(flags))}"
    return False, "CPU without bfloat16 units"


def resolve(precision: str) -> tuple[str, str]:
    """(the policy name `precision` stands for here, why), resolving 'auto'.

    'auto' is mixed_bfloat16 where the hardware runs it fast and float32 elsewhere: on
    this project's measurements bfloat16 trains to the same quality (docs/PERFORMANCE.md).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {PRECISIONS}")
    if precision != "auto":
        return precision, "as asked"
    fast, hardware = fast_bfloat16()
    return ("mixed_bfloat16" if fast else "float32"), f"auto: {hardware}"


@contextlib.contextmanager
def policy(name: str) -> Iterator[None]:
    """Builds the networks made inside it under the dtype policy `name`.

    Layers keep the policy they were built with, so the global policy is restored on
    exit and nothing else in the process (tests, other runs) is affected.
    """
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)
