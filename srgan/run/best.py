"""The best checkpoint by validation: CHECKPOINT_DIR/best/, apart from the rolling ones.

    best/
      ckpt-N.index, ckpt-N.data-*   the checkpoint (state.py saves it)
      settings.json          the run's, so that best/ loads on its own as a run folder
      best.json              which epoch and step it is, and its validation scores
"""

import json
from pathlib import Path
from typing import TypedDict

from srgan import files, schema
from srgan.errors import UserError, describe_os_error
from srgan.run.settings import SETTINGS_FILE

BEST = "best"
BEST_FILE = "best.json"


class Record(TypedDict):
    epoch: int
    step: int
    checkpoint: str
    psnr_y: float
    ssim_y: float


def read_record(folder: Path) -> Record | None:
    """The best checkpoint's record in the run folder `folder`, checked; None where
    there is none yet."""
    path = Path(folder) / BEST / BEST_FILE
    if not path.is_file():
        return None
    return schema.load(path, Record, f"fix it, or remove {path.parent} to keep the best "
                                     "checkpoint afresh from the next validation")


def write_record(folder: Path, record: Record) -> None:
    """best.json, and the run's settings.json beside it (the run folder `folder`'s)."""
    best = Path(folder) / BEST
    files.write_text(best / SETTINGS_FILE, (Path(folder) / SETTINGS_FILE).read_text())
    files.write_text(best / BEST_FILE, json.dumps(record, indent=2) + "\n")


def check_writable(folder: Path) -> None:
    """UserError unless training can keep its best checkpoint in FOLDER/best: said before
    the first epoch, not after it."""
    best = Path(folder) / BEST
    remedy = ("move it away, or pass --val_images 0 to train without validation (and "
              "without a best checkpoint)")
    if best.exists() and not best.is_dir():
        raise UserError(f"{best} is a file, not a folder: training keeps the best checkpoint "
                        f"by validation there; {remedy}")
    if not best.is_dir():
        return  # made at the first save, in the run folder training writes anyway
    probe = files.temporary_for(best / BEST_FILE)
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as error:
        raise UserError(f"cannot write into {best} ({describe_os_error(error)}): training "
                        f"keeps the best checkpoint by validation there; fix it, or {remedy}"
                        ) from error
