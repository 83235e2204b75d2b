"""A run's settings.json: the TrainConfig it was trained with, and the run format's version.

Resuming, testing and exporting rebuild the networks from it, so no architecture flag
has to be repeated. Every field is checked on reading (type and range), and a run of
a newer format than this code reads is refused rather than misread.
"""

import dataclasses
import json
import typing
from pathlib import Path

from srgan import schema
from srgan.config import TrainConfig
from srgan.errors import UserError
from srgan.files import write_text

SETTINGS_FILE = "settings.json"
# The run folder's format (checkpoint keys, file names, settings): raised whenever a
# change would make older code misread a run. 2: the networks' BatchNorm epsilon is the
# reference's 1e-5, recorded in each checkpoint (format 1's checkpoints, trained with 1e-3,
# are converted on reading: srgan/run/state.py). 3: warmup_steps, the warm-up's length
# fitted to --minutes_init, which older code would ignore and train on past.
FORMAT = 3
FORMAT_KEY = "format"
# What fixes the shapes of the saved weights: resuming with other values cannot work.
ARCHITECTURE = ("model", "features", "blocks", "hr_size")
_REMEDY = "fix it, or move the run away"


def save_settings(config: TrainConfig, folder: Path) -> None:
    """Writes settings.json atomically, so a kill never leaves half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = {FORMAT_KEY: FORMAT, **config.to_json()}
    write_text(folder / SETTINGS_FILE, json.dumps(settings, indent=2) + "\n")


class _Versioned(typing.TypedDict):
    format: typing.NotRequired[int]


def load_settings(folder: Path) -> dict | None:
    """The settings saved in `folder`, checked field by field; None where there are none.

    Every known field must have its type and a value the flags would accept; unknown
    fields (from another version) are kept but not used.
    """
    path = folder / SETTINGS_FILE
    if not path.is_file():
        return None
    # The format first: a newer one may have changed what a field holds.
    saved = schema.load(path, _Versioned, _REMEDY)
    # Runs from before the format was numbered have none: they are format 1.
    version = saved.pop(FORMAT_KEY, 1)
    if version < 1:
        raise UserError(f"{path}: {FORMAT_KEY} is {json.dumps(version)}, not a format number")
    if version > FORMAT:
        raise UserError(f"{path} was written by a newer version of this project (run format "
                        f"{version}; this one reads up to {FORMAT}). Update the project to use "
                        "this run.")
    schema.check(saved, TrainConfig, str(path), _REMEDY)
    # Runs from before --init reference recorded none (null or no field): Keras' defaults
    # started them.
    if saved.get("init") is None:
        saved["init"] = "glorot"
    fields = {field.name for field in dataclasses.fields(TrainConfig)}
    try:
        TrainConfig(**{name: value for name, value in saved.items() if name in fields}).validate()
    except UserError as error:
        raise UserError(f"{path} holds a value no run can have: {error}") from error
    return saved


def architecture_mismatch(saved: dict, config: TrainConfig) -> list[str]:
    """Lines naming each architecture setting that differs from the saved run."""
    defaults = TrainConfig()
    return [f"--{name} {getattr(config, name)} (the checkpoint has {saved.get(name, getattr(defaults, name))})"
            for name in ARCHITECTURE
            if saved.get(name, getattr(defaults, name)) != getattr(config, name)]

