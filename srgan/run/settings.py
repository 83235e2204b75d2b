"""A run's settings.json: the TrainConfig it was trained with, and the run format's version.

Resuming, testing and exporting rebuild the networks from it, so no architecture flag
has to be repeated. Every field is checked on reading (type and range), and a run of
a newer format than this code reads is refused rather than misread.
"""

import dataclasses
import json
import types
import typing
from pathlib import Path

from srgan.config import TrainConfig
from srgan.errors import UserError
from srgan.files import read_json, write_text

SETTINGS_FILE = "settings.json"
# The run folder's format (checkpoint keys, file names, settings): raised whenever a
# change would make older code misread a run.
FORMAT = 1
FORMAT_KEY = "format"
# What fixes the shapes of the saved weights: resuming with other values cannot work.
ARCHITECTURE = ("model", "features", "blocks", "hr_size")


def save_settings(config: TrainConfig, folder: Path) -> None:
    """Writes settings.json atomically, so a kill never leaves half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = {FORMAT_KEY: FORMAT, **config.to_json()}
    write_text(folder / SETTINGS_FILE, json.dumps(settings, indent=2) + "\n")


def _accepts(kind: object, value: object) -> bool:
    """Whether JSON `value` fits the field type `kind` (int, float, str, bool, X | None)."""
    if isinstance(kind, types.UnionType):
        return any(_accepts(option, value) for option in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if isinstance(value, bool):  # JSON true/false is no number
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def load_settings(folder: Path) -> dict | None:
    """The settings saved in `folder`, checked field by field; None where there are none.

    Every known field must have its type and a value the flags would accept; unknown
    fields (from another version) are kept but not used.
    """
    path = folder / SETTINGS_FILE
    if not path.is_file():
        return None
    saved = read_json(path, "move it away or pass --restart")
    if not isinstance(saved, dict):
        raise UserError(f"{path} is not a run's settings (a JSON {type(saved).__name__}, not an "
                        "object); move it away or pass --restart")
    # Runs from before --init reference recorded none (null or no field): Keras' defaults
    # started them.
    if saved.get("init") is None:
        saved["init"] = "glorot"
    # Runs from before the format was numbered have none: they are format 1.
    version = saved.pop(FORMAT_KEY, 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UserError(f"{path}: {FORMAT_KEY} is {json.dumps(version)}, not a format number")
    if version > FORMAT:
        raise UserError(f"{path} was written by a newer version of this project (run format "
                        f"{version}; this one reads up to {FORMAT}). Update the project to use "
                        "this run.")
    fields = {field.name: field.type for field in dataclasses.fields(TrainConfig)}
    for name, value in saved.items():
        if name in fields and not _accepts(fields[name], value):
            raise UserError(f"{path}: {name} is {json.dumps(value)}, not of type "
                            f"{_type_name(fields[name])}; fix it, or move the run away")
    try:
        TrainConfig(**{name: value for name, value in saved.items() if name in fields}).validate()
    except UserError as error:
        raise UserError(f"{path} holds a value no run can have: {error}") from error
    return saved


def _type_name(kind: object) -> str:
    return " or ".join("null" if option is type(None) else option.__name__
                       for option in (typing.get_args(kind) or (kind,)))


def architecture_mismatch(saved: dict, config: TrainConfig) -> list[str]:
    """Lines naming each architecture setting that differs from the saved run."""
    defaults = TrainConfig()
    return [f"--{name} {getattr(config, name)} (the checkpoint has {saved.get(name, getattr(defaults, name))})"
            for name in ARCHITECTURE
            if saved.get(name, getattr(defaults, name)) != getattr(config, name)]

