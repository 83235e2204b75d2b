"""The rows of a test table: bicubic, the model, and the checkpoints --compare adds as
NAME=CKPT; free of TensorFlow, so that a bad --compare answers before it loads."""

import re
from pathlib import Path

from srgan.errors import UserError

BICUBIC = "bicubic"
MODEL = "model"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def parse_compare(specs: list[str]) -> list[tuple[str, Path]]:
    """NAME=CKPT pairs of --compare, checked: CKPT is a checkpoint or a run's folder."""
    pairs, taken = [], {BICUBIC, MODEL}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not path:
            raise UserError(f"--compare {spec!r}: write NAME=CKPT, e.g. srgan=checkpoint-old/ckpt-2000")
        if not _NAME.match(name) or name in taken:
            raise UserError(f"--compare {spec!r}: NAME must be letters, digits, '_', '.' or '-', "
                            f"unique, and not {BICUBIC!r} or {MODEL!r}")
        taken.add(name)
        pairs.append((name, Path(path)))
    return pairs
