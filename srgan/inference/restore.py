"""Loading a trained generator from a training checkpoint, and nothing else of the run.

The network is rebuilt from the settings.json that training saves beside its
checkpoints, so no architecture flag has to be repeated; then only the generator's
weights are read from the checkpoint (the critic and optimizers are ignored).
"""

import dataclasses
import gc
import logging
import re
from pathlib import Path

import keras

from srgan.errors import UserError
from srgan.inference import pretrained
from srgan.log import tensorflow_warnings_muted
from srgan.models.registry import Architecture, build_generator_for
from srgan.run import folder as run_folder
from srgan.run.settings import SETTINGS_FILE, load_settings
from srgan.run.state import restore_generator
from srgan.runtime import precision as precisions

log = logging.getLogger(__name__)
# The suffixes of a checkpoint's files (an earlier version's index and shards too); a
# user may name one of them.
_CHECKPOINT_FILE_SUFFIX = re.compile(r"\.(npz|index|data-\d+-of-\d+)$")


def _standing(folder: Path) -> run_folder.Standing:
    """Where the run in `folder` stands. Only where something needs mending (a damaged
    checkpoint, a wrong pointer) is the run's lock taken, to mend it; while a training
    holds the folder, or it is read-only, the damaged checkpoint is skipped instead."""
    found = run_folder.standing(folder, repair=False)
    if not found.notes:
        return found
    try:
        with run_folder.RunLock(folder):
            return run_folder.standing(folder, repair=True)
    except (UserError, OSError):
        return found


def _newest_intact(folder: Path, missing: str) -> str:
    """The newest intact checkpoint in `folder`, said in one line where the pointer file
    or a damaged checkpoint made it another than the pointer's; UserError if none."""
    standing = _standing(folder)
    if standing.latest is None:
        if standing.any_checkpoint:
            raise UserError(f"no intact checkpoint in {folder} (" + "; ".join(standing.notes)
                            + "). Name another run with --checkpoint, or train again with "
                            "--restart (the damaged run is moved aside).")
        raise UserError(missing)
    if standing.notes:
        log.info(standing.explain())
    return standing.latest


def find_checkpoint(checkpoint_dir: Path, checkpoint: Path | None = None) -> str:
    """The checkpoint prefix to load: `checkpoint` (a prefix, one of its files, or a
    folder, whose newest intact one is taken), else the newest intact in `checkpoint_dir`."""
    if checkpoint is None:
        return _newest_intact(checkpoint_dir, f"no checkpoint in {checkpoint_dir}: train one first "
                              "with `python main.py` (see README), or name one with --checkpoint PATH")
    if checkpoint.is_dir():
        return _newest_intact(checkpoint, f"no checkpoint in {checkpoint}: give a folder that "
                              "training wrote, or a checkpoint such as checkpoint/ckpt-1000")
    prefix = _CHECKPOINT_FILE_SUFFIX.sub("", str(checkpoint))
    if not (run_folder.file_of(prefix).is_file() or Path(prefix + ".index").is_file()):
        raise UserError(f"no checkpoint at {checkpoint}: expected {run_folder.file_of(prefix)}, "
                        "as training writes it (e.g. checkpoint/ckpt-1000)")
    why = run_folder.damage(Path(prefix))
    if why is not None:
        raise UserError(f"checkpoint {prefix} is damaged ({why}). Name another, or leave out "
                        "--checkpoint to use the newest intact one in --checkpoint_dir.")
    return prefix


def saved_architecture(folder: Path) -> Architecture:
    """The architecture of the run whose settings are saved in `folder`."""
    saved = load_settings(folder)
    if saved is None:
        raise UserError(f"no {SETTINGS_FILE} in {folder}: training writes it beside the "
                        "checkpoints, and it says how to rebuild the generator. Copy it from "
                        "the run's folder.")
    # load_settings has checked every field's type and range.
    defaults = Architecture()
    return Architecture(*(saved.get(field.name, getattr(defaults, field.name))
                          for field in dataclasses.fields(Architecture)))


def _restored_generator(config: Architecture, prefix: str,
                        precision: str) -> tuple[keras.Model | None, str | None]:
    """The generator `config` describes with the weights of `prefix`; or None and why not.

    A restore that fails midway cannot be told to expect a partial match, so when its
    state is freed TensorFlow logs every critic and optimizer value it did not use:
    hundreds of lines burying the one message that matters. That state hangs on the
    generator's variables; it is freed here, with those log lines silenced.
    """
    with tensorflow_warnings_muted():
        with precisions.policy(precision):
            generator = build_generator_for(config.model, config.features, config.blocks)
        failure = restore_generator(generator, prefix)
        if failure is None:
            return generator, None
        del generator
        gc.collect()
        return None, failure


def uses_pretrained(checkpoint_dir: Path, checkpoint: Path | None) -> bool:
    """Whether the shipped generator is meant: `--checkpoint pretrained`, or no
    --checkpoint and no trained run in `checkpoint_dir` (a trained run always wins)."""
    if checkpoint is not None:
        return str(checkpoint) == pretrained.NAME
    return not run_folder.numbers(Path(checkpoint_dir))


def load_generator(checkpoint_dir: Path, checkpoint: Path | None = None,
                   precision: str = "float32") -> tuple[keras.Model, Architecture, str]:
    """The generator of the latest checkpoint in `checkpoint_dir`, or of `checkpoint`,
    or the shipped one (`uses_pretrained`), built in `precision` (a dtype policy).

    Returns the generator, the run's settings and the checkpoint path loaded (the
    shipped weights' path for the shipped one; evaluation/provenance.py names it). Raises
    UserError when the checkpoint is damaged, or when it holds a generator of another
    architecture than its settings.json describes.
    """
    if uses_pretrained(Path(checkpoint_dir), checkpoint):
        return pretrained.load_pretrained(precision)
    prefix = find_checkpoint(Path(checkpoint_dir), None if checkpoint is None else Path(checkpoint))
    folder = Path(prefix).parent
    config = saved_architecture(folder)
    generator, failure = _restored_generator(config, prefix, precision)
    if failure is not None:
        raise UserError(f"checkpoint {prefix} cannot be loaded as the generator described by "
                        f"{folder / SETTINGS_FILE} (model {config.model}, features "
                        f"{config.features}, blocks {config.blocks}): the file is damaged or holds "
                        "another architecture "
                        f"({failure})")
    return generator, config, prefix


def check_saved_model(checkpoint_dir: Path, checkpoint: Path | None, model: str | None) -> None:
    """Raises UserError where `--model` was given and the checkpoint holds another model."""
    if model is None:
        return
    if uses_pretrained(Path(checkpoint_dir), checkpoint):
        saved = pretrained.pretrained_architecture().model
        if saved != model:
            raise UserError(f"--model {model}, but the shipped pretrained generator is a {saved} "
                            f"generator. Train a {model} run first, or leave --model out.")
        return
    prefix = find_checkpoint(Path(checkpoint_dir), None if checkpoint is None else Path(checkpoint))
    saved = saved_architecture(Path(prefix).parent).model
    if saved != model:
        raise UserError(f"--model {model}, but {prefix} holds a {saved} generator (its "
                        f"{SETTINGS_FILE} says so). Pass --model {saved}, or leave --model out "
                        "to use what the checkpoint holds.")
