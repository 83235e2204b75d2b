"""The generator shipped with the project: the seed's architecture at its defaults,
trained by this project (srgan/pretrained/seed_x4.json says how, on what, and how well).

Its weights are checked against the card's sha256 before they are read, so a damaged or
swapped file is named instead of silently giving wrong images.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import keras

from srgan import precision as precisions
from srgan.config import TrainConfig
from srgan.errors import UserError
from srgan.registry import build_generator_for

FOLDER = Path(__file__).resolve().parent.parent / "pretrained"
WEIGHTS = FOLDER / "seed_x4.weights.h5"
CARD = FOLDER / "seed_x4.json"
NAME = "pretrained"  # what --checkpoint and --init call it


def card() -> dict:
    """The model card: sha256, commands, data, steps, time, machine, scores."""
    try:
        return json.loads(CARD.read_text())
    except (OSError, ValueError) as error:
        raise UserError(f"the pretrained generator's card {CARD} cannot be read ({error}); "
                        "restore it from the repository (git checkout -- srgan/pretrained)") from error


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pretrained_config() -> TrainConfig:
    """The settings of the shipped generator's architecture (the seed's defaults)."""
    info = card()
    return TrainConfig(model=info["model"], features=info["features"], blocks=info["blocks"])


def load_pretrained_weights(generator: keras.Model) -> None:
    """Reads the shipped weights into `generator` (the seed's, 64 features, 16 blocks)."""
    expected = card()["sha256"]
    try:
        actual = sha256(WEIGHTS)
    except OSError as error:
        raise UserError(f"the pretrained generator {WEIGHTS} cannot be read ({error}); restore it "
                        "from the repository (git checkout -- srgan/pretrained)") from error
    if actual != expected:
        raise UserError(f"the pretrained generator {WEIGHTS} is damaged or not the shipped file: "
                        f"its sha256 is {actual}, the card {CARD.name} says {expected}. Restore it "
                        "from the repository (git checkout -- srgan/pretrained)")
    generator.load_weights(WEIGHTS)


def load_pretrained(precision: str = "float32") -> tuple[keras.Model, TrainConfig, str]:
    """(the shipped generator built in `precision`, its settings, its file's path)."""
    config = pretrained_config()
    with precisions.policy(precision):
        generator = build_generator_for(config.model, config.features, config.blocks)
    load_pretrained_weights(generator)
    return generator, config, str(WEIGHTS)
