"""Writes a trained generator as the shipped pretrained weights.

    python scripts/make_pretrained.py CHECKPOINT
    python scripts/make_pretrained.py GENERATOR.weights.h5   (a Keras weights file)
    python scripts/make_pretrained.py OLD.weights.h5 --batchnorm_epsilon 1e-3

Saves srgan/pretrained/seed_x4.weights.h5 (float32) and sets the sha256 and the
source checkpoint in the card srgan/pretrained/seed_x4.json, which keeps its other
fields (commands, data, scores: edit those by hand from the run's log and testing).
A checkpoint says which BatchNorm epsilon it was trained with; a .weights.h5 file does
not: --batchnorm_epsilon names it, and its BatchNorm weights are converted exactly to the
networks' own (srgan/models/norm.py).
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from srgan.runtime.startup import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

from srgan import schema  # noqa: E402
from srgan.errors import UserError, exit_status  # noqa: E402
from srgan.files import atomic_path, read_json, write_text  # noqa: E402
from srgan.inference import pretrained  # noqa: E402
from srgan.inference.restore import load_generator  # noqa: E402
from srgan.models import norm  # noqa: E402
from srgan.models.generator import build_generator  # noqa: E402

_RESTORE = "fix it, or restore it (git checkout -- srgan/pretrained)"


def trained_generator(source: Path, batchnorm_epsilon: float):
    """(the seed's generator at its defaults with `source`'s weights, the name to record)."""
    if source.name.endswith(".weights.h5"):
        if not source.is_file():
            raise UserError(f"{source} does not exist")
        generator = build_generator()
        try:
            generator.load_weights(source)
        except (ValueError, OSError) as error:  # not HDF5, or weights of another network
            raise UserError(f"{source} cannot be read as the seed's generator at its defaults "
                            f"({error})") from error
        if batchnorm_epsilon != norm.EPSILON:
            norm.convert_epsilon(generator, batchnorm_epsilon)
        return generator, str(source)
    generator, config, prefix = load_generator(source.parent, source)
    if (config.model, config.features, config.blocks) != ("seed", 64, 16):
        raise UserError(f"{prefix} is not the seed's generator at its defaults")
    return generator, prefix


def ship(generator, prefix: str, weights: Path = pretrained.WEIGHTS,
         card_path: Path = pretrained.CARD) -> None:
    """Writes `generator` as the shipped weights and updates the card. The card is read
    and checked first, and each file is written whole under a temporary name: a card
    that cannot be updated leaves both files as they were."""
    card = read_json(card_path, _RESTORE) if card_path.is_file() else {}
    if not isinstance(card, dict):
        raise UserError(f"{card_path} holds no JSON object; {_RESTORE}")
    weights.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(weights, ".weights.h5") as temporary:
        generator.save_weights(temporary)
        card.update({"model": "seed", "features": 64, "blocks": 16,
                     "sha256": pretrained.sha256(temporary), "source_checkpoint": prefix})
        schema.check(card, pretrained.Card, str(card_path), _RESTORE)
        # The card just before the weights: a kill between the two is the one moment they
        # disagree, and loading names it (a sha256 mismatch, restore from git).
        write_text(card_path, json.dumps(card, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="a checkpoint prefix, or a .weights.h5 file")
    parser.add_argument("--batchnorm_epsilon", type=float, default=norm.EPSILON,
                        help="the epsilon a .weights.h5 file's generator was trained with")
    args = parser.parse_args(argv)

    def run() -> None:
        ship(*trained_generator(args.source, args.batchnorm_epsilon))
        print(f"wrote {pretrained.WEIGHTS} ({pretrained.WEIGHTS.stat().st_size / 1e6:.1f} MB) and "
              f"{pretrained.CARD}")
    return exit_status(run)


if __name__ == "__main__":
    sys.exit(main())
