"""The generator shipped with the project: the seed's architecture at its defaults,
trained by this project (srgan/pretrained/seed_x4.json says how, on what, and how well).

Its weights are checked against the card's sha256 before they are read, so a damaged or
swapped file is named instead of silently giving wrong images.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Annotated, TypedDict

import keras

from srgan import schema
from srgan.errors import UserError, first_line
from srgan.models.registry import Architecture, build_generator_for
from srgan.runtime import precision as precisions

FOLDER = Path(__file__).resolve().parent.parent / "pretrained"
WEIGHTS = FOLDER / "seed_x4.weights.h5"
CARD = FOLDER / "seed_x4.json"
NAME = "pretrained"  # what --checkpoint and --init call it
_RESTORE = "restore it from the repository (git checkout -- srgan/pretrained)"


class Card(TypedDict):
    """The fields of the card that the code reads; the rest (commands, data, steps, time,
    machine, scores) are for people, and for the tests that keep them true."""

    model: str
    features: int
    blocks: int
    sha256: Annotated[str, schema.Matches("[0-9a-f]{64}", "a sha256 (64 hex digits)")]


def card() -> Card:
    """The model card, its fields checked: what it is, its file's sha256, how it was made."""
    info = schema.load(CARD, Card, _RESTORE)
    try:
        Architecture(info["model"], info["features"], info["blocks"]).check()
    except UserError as error:
        raise UserError(f"{CARD} describes no generator this project builds ({error}); "
                        f"{_RESTORE}") from error
    return info


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pretrained_architecture() -> Architecture:
    """The shipped generator's architecture, as its card describes it."""
    info = card()
    return Architecture(info["model"], info["features"], info["blocks"])


def load_pretrained_weights(generator: keras.Model) -> None:
    """Reads the shipped weights into `generator`, built as the card describes."""
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
    # Where the weights do not fit the generator the card describes, Keras warns once per
    # layer it skips (keeping that layer's fresh weights) and then raises, or only warns:
    # either way the file is not what the card says.
    with warnings.catch_warnings(record=True) as skipped:
        warnings.simplefilter("always")
        try:
            generator.load_weights(WEIGHTS)
            cause = str(skipped[0].message) if skipped else None
        # Keras says "could not be loaded" in a ValueError, or fails on the first layer
        # whose weights do not fit, in whichever way that layer's loader does.
        except Exception as error:
            cause = first_line(error)
    if cause is not None:
        info = card()
        raise UserError(f"the pretrained generator {WEIGHTS} does not fit its card {CARD.name} "
                        f"(model {info['model']}, features {info['features']}, blocks "
                        f"{info['blocks']}): Keras cannot load it ({cause.rstrip(':')}); restore "
                        "both from the repository (git checkout -- srgan/pretrained)")


def load_pretrained(precision: str = "float32") -> tuple[keras.Model, Architecture, str]:
    """(the shipped generator built in `precision`, its settings, its file's path)."""
    config = pretrained_architecture()
    with precisions.policy(precision):
        generator = build_generator_for(config.model, config.features, config.blocks)
    load_pretrained_weights(generator)
    return generator, config, str(WEIGHTS)
