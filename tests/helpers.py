"""Helpers the test modules share: the tiny configuration, a written run, photos, and
reading a checkpoint's values. Fixtures are in conftest.py."""

import importlib.util
import types
from pathlib import Path

import keras
import numpy as np
import skimage.data
from PIL import Image

from srgan.config import TrainConfig
from srgan.models.registry import build_networks
from srgan.run.folder import read_arrays, standing
from srgan.run.settings import save_settings
from srgan.run.state import Networks, RunState

# The repository's root, whatever folder of tests/ a test is in.
ROOT = Path(__file__).resolve().parents[1]


def tiny_config(data_dir: Path, checkpoint_dir: Path, **overrides) -> TrainConfig:
    settings = dict(features=4, blocks=1, batch_size=4, n_epoch=2, save_every=1, seed=7,
                    vgg_weights="none", data_dir=str(data_dir), checkpoint_dir=str(checkpoint_dir),
                    precision="float32")
    settings.update(overrides)
    return TrainConfig(**settings)


def latest(checkpoint_dir: Path) -> str | None:
    """The run's newest intact checkpoint, as training and testing find it."""
    return standing(Path(checkpoint_dir), repair=False).latest


def checkpoint_values(path: Path) -> dict[str, np.ndarray]:
    """Every value of a checkpoint (a run folder's newest, or the one at a ckpt-N prefix):
    weights, optimizer slots, counters."""
    path = Path(path)
    return read_arrays(latest(path) if path.is_dir() else path)


def write_run(folder: Path, features: int = 8, blocks: int = 1, seed: int = 0,
              model: str = "seed") -> keras.Model:
    """A training checkpoint as training writes it (RunState), with a tiny generator."""
    keras.utils.set_random_seed(seed)
    generator, critic = build_networks(model, features, blocks, hr_size=12)
    state = RunState(folder, Networks(generator, critic, keras.optimizers.RMSprop(1e-4),
                                       keras.optimizers.RMSprop(1e-4)))
    state.save()
    save_settings(TrainConfig(model=model, features=features, blocks=blocks, seed=seed, hr_size=12),
                  folder)
    return generator


def photo(height: int, width: int, name: str = "astronaut") -> np.ndarray:
    image = Image.fromarray(getattr(skimage.data, name)()[:, :, :3])
    return np.asarray(image.resize((width, height), Image.BICUBIC))


def load_script(name: str) -> types.ModuleType:
    """scripts/NAME.py as a module, for its functions and its main(argv)."""
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
