"""A wall-clock limit on one phase of a training run: how `--mode=compare` gives every
model the same minutes of warm-up and the same minutes of GAN training."""

from __future__ import annotations

import dataclasses
import time

from srgan.training.recipe import MSE_FRACTION

WARMUP, GAN = "warm-up", "GAN"


@dataclasses.dataclass(frozen=True)
class PhaseLimit:
    """Train only `phase` of the run: until its last epoch, or until `end`
    (time.monotonic()), where a warm-up ends early and the run's next call starts
    the GAN phase.

    `mse_seconds`: where the GAN phase has a time budget, the seed's content loss is MSE
    for this long from the call's first GAN step (not from its start: building and
    restoring the networks is no training), then --content_loss: the first 4% of the
    phase's minutes, as the seed has it for the first 4% of its epochs (a budget of
    minutes may end inside the first epoch).
    """

    phase: str
    end: float | None = None
    mse_seconds: float | None = None

    @classmethod
    def of_budget(cls, phase: str, seconds: float | None, used: float,
                  start: float) -> PhaseLimit:
        """The limit of `phase` given `seconds` in all (None: its epochs alone), `used`
        of them already spent, counted from the clock reading `start`."""
        if seconds is None:
            return cls(phase)
        mse_seconds = max(0.0, MSE_FRACTION * seconds - used) if phase == GAN else None
        return cls(phase, start + seconds - used, mse_seconds)

    def reached(self) -> bool:
        return self.end is not None and time.monotonic() >= self.end
