"""Wall-clock budgets: a limit on one phase of a training run (how `--mode=compare` gives
every model the same minutes of warm-up and the same minutes of GAN training), and the
warm-up's length in steps fitted to --minutes_init (how a training run uses its minutes
and still resumes exactly)."""

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

    def mse_share(self) -> MseShare | None:
        """The clock of the seed's MSE share, where this limit times one."""
        return None if self.mse_seconds is None else MseShare(self.mse_seconds)


class MseShare:
    """Whether the seed's content loss is still MSE, by the clock: for `seconds` from the
    first GAN step it is asked about (PhaseLimit's mse_seconds)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end: float | None = None

    def __call__(self) -> bool:
        if self.end is None:
            self.end = time.monotonic() + self.seconds
        return time.monotonic() < self.end


# A call's first warm-up steps are not timed (they compile the step and fill caches); its
# rate is then timed over FIT_STEPS steps, or over a tenth of the budget if that ends first.
UNTIMED_STEPS = 10
FIT_STEPS = 200
FIT_SHARE = 0.1


class WarmupFit:
    """Fits the warm-up's length in steps to a budget of `minutes` (--minutes_init),
    counted from this call's first warm-up step: the step rate it times, times the
    seconds left, once. After that the run counts steps, not seconds, so its cosine and
    the warm-up's end are the same in a resumed run. A budget that ends before the rate
    is timed ends the warm-up where it is.

    The checkpoints and validation that fall in the fitted steps were not timed: they
    lengthen the warm-up by their own time.
    """

    def __init__(self, minutes: float, clock=time.monotonic):
        self.seconds = 60 * minutes
        self.clock = clock
        self.started: float | None = None
        self.end: float | None = None
        self.calls = 0
        self.timed_from: tuple[float, int] | None = None  # (clock, step) where timing began
        self.rate: float | None = None  # warm-up steps per second, once fitted

    def begin(self) -> None:
        """Before each warm-up step: the budget's clock starts at the call's first."""
        if self.started is None:
            self.started = self.clock()
            self.end = self.started + self.seconds

    def step_done(self, step: int) -> int | None:
        """After each warm-up step, with the run's step count: the warm-up's length in
        steps once it is fitted, else None."""
        now = self.clock()
        self.calls += 1
        if now >= self.end:
            return step
        if self.calls == UNTIMED_STEPS:
            self.timed_from = (now, step)
        if self.timed_from is None:
            return None
        since, first = self.timed_from
        if step > first and (step - first >= FIT_STEPS or now - self.started >= FIT_SHARE * self.seconds):
            self.rate = (step - first) / (now - since)
            return step + int(self.rate * (self.end - now))
        return None
