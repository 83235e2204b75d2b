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

from srgan.cli import import_tensorflow_quietly  # noqa: E402

import_tensorflow_quietly()

from srgan.inference import pretrained  # noqa: E402
from srgan.inference.restore import load_generator  # noqa: E402
from srgan.models import build_generator, norm  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="a checkpoint prefix, or a .weights.h5 file")
    parser.add_argument("--batchnorm_epsilon", type=float, default=norm.EPSILON,
                        help="the epsilon a .weights.h5 file's generator was trained with")
    args = parser.parse_args()
    source = Path(args.source)
    if source.name.endswith(".weights.h5"):
        # Keras raises where the file does not fit the seed's generator at its defaults.
        generator, prefix = build_generator(), str(source)
        generator.load_weights(source)
        if args.batchnorm_epsilon != norm.EPSILON:
            norm.convert_epsilon(generator, args.batchnorm_epsilon)
    else:
        generator, config, prefix = load_generator(source.parent, source)
        if (config.model, config.features, config.blocks) != ("seed", 64, 16):
            sys.exit(f"{prefix} is not the seed's generator at its defaults")
    pretrained.FOLDER.mkdir(exist_ok=True)
    generator.save_weights(pretrained.WEIGHTS)
    card = json.loads(pretrained.CARD.read_text()) if pretrained.CARD.is_file() else {}
    card.update({"model": "seed", "features": 64, "blocks": 16,
                 "sha256": pretrained.sha256(pretrained.WEIGHTS), "source_checkpoint": prefix})
    pretrained.CARD.write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {pretrained.WEIGHTS} ({pretrained.WEIGHTS.stat().st_size / 1e6:.1f} MB) and "
          f"{pretrained.CARD}")


if __name__ == "__main__":
    main()
