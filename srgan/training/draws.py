"""The gradient penalty's random mixing weights, drawn on the host as a function of (seed,
step) alone: the same under every backend and on any number of devices, and nothing to
save, so that a resumed run, or one resumed under the other backend, draws what an
uninterrupted one would."""

import numpy as np

# Philox keyed as the crops are (srgan/data/pipeline.py), its counter started far from theirs.
_COUNTER = np.array([0, 0, 0, 1], dtype=np.uint64)


def penalty_draws(seed: int, step: int, batch: int) -> np.ndarray:
    """U[0, 1) float32 [batch, 1, 1, 1] for the critic step at `step` of the run `seed`."""
    key = np.array([seed, step], dtype=np.int64).view(np.uint64)
    rng = np.random.Generator(np.random.Philox(key=key, counter=_COUNTER))
    return rng.random((batch, 1, 1, 1), dtype=np.float32)
