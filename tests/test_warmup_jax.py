"""scripts/warmup_jax.py's crops and schedule. Its LR is srgan/data/degrade.py's, which
tests/test_backends.py holds equal under JAX and TensorFlow. JAX is a requirement; optax,
which the script trains with on the accelerator machine, is not, and these tests do not
need it."""

import importlib.util
from pathlib import Path

import jax
import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "warmup_jax.py"


@pytest.fixture(scope="module")
def warmup():
    with pytest.MonkeyPatch.context() as patch:
        # The script picks the JAX backend only where none is set: keep this process's.
        patch.setenv("KERAS_BACKEND", "tensorflow")
        spec = importlib.util.spec_from_file_location("warmup_jax", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def test_its_crops_are_cut_from_the_photos_and_flipped_at_random(warmup):
    rng = np.random.default_rng(1)
    photos = [rng.integers(0, 256, size, dtype=np.uint8) for size in ((20, 30, 3), (40, 16, 3))]
    stack, heights, widths = warmup._padded(photos)
    assert stack.shape == (2, 40, 30, 3) and heights.tolist() == [20, 40] and widths.tolist() == [30, 16]
    crops = np.asarray(warmup.make_crops(*(jax.numpy.asarray(a) for a in (stack, heights, widths)),
                                         jax.random.PRNGKey(0), 64, 16))
    flipped = 0
    for crop in crops:
        found = [(p, t, l, f) for p, photo in enumerate(photos)
                 for t in range(photo.shape[0] - 15) for l in range(photo.shape[1] - 15)
                 for f in (False, True)
                 if np.array_equal(photo[t : t + 16, l : l + 16][:, :: -1 if f else 1], crop)]
        assert found, "a crop that is in no photo (padding?)"
        flipped += found[0][3]
    assert 16 <= flipped <= 48


def test_its_rate_warms_up_then_follows_a_cosine_to_zero(warmup):
    rates = [warmup.schedule(step, 1100, 2e-4, 100) for step in (0, 99, 600, 1100, 1200)]
    np.testing.assert_allclose(rates, [2e-6, 2e-4, 1e-4, 0.0, 0.0], atol=1e-12)
