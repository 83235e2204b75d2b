"""The modes of `python main.py --mode=MODE`, declared once: what each is for (its help),
whose flags it takes, the checks it passes before TensorFlow loads and what runs it.
The parser, the checks and the dispatch all read this table."""

import argparse
import dataclasses
from collections.abc import Callable

from srgan.cli import preflight, runners

Command = Callable[[argparse.Namespace], None]


@dataclasses.dataclass(frozen=True)
class Mode:
    help: str
    check: Command  # before TensorFlow loads (preflight.py)
    run: Command  # imports its module when called (runners.py)
    flags_of: str = ""  # the mode whose flags it takes, where not its own (an alias)
    trains: bool = False  # whether it trains, so that JAX checks the training flags first


MODES: dict[str, Mode] = {
    "train": Mode("train a model", preflight.check_train, runners.run_train, trains=True),
    "esrgan": Mode("the seed's name for train", preflight.check_train, runners.run_train,
                   flags_of="train", trains=True),
    "prepare": Mode("fill DATA_DIR/train and test from STL10 or a photo folder (see --source)",
                    preflight.check_prepare, runners.run_prepare),
    "testing": Mode("measure the trained generator against bicubic on DATA_DIR/test",
                    preflight.check_testing, runners.run_testing),
    "upscale": Mode("write each photo of --input 4x larger into --output",
                    preflight.check_upscale, runners.run_upscale),
    "export": Mode("write the generator as generator.keras and a SavedModel into --output",
                   preflight.check_export, runners.run_export),
    "compare": Mode("train SRGAN, W-SRGAN and the seed's model alike and write the comparison "
                    "table (compare.md, compare.csv, compare.png) into --results_dir",
                    preflight.check_compare, runners.run_compare, trains=True),
}


def flags_of(name: str) -> str:
    """The mode whose flags `name` takes: its own, or the one it is another name for."""
    return MODES[name].flags_of or name
