"""What a training run starts from: its photos, its settings (new, or those of the run
it resumes) and, for a fine-tune, the shipped generator's weights."""

import dataclasses
import logging
import secrets
from pathlib import Path

import keras
import numpy as np

from srgan.config import TrainConfig
from srgan.data.images import list_images
from srgan.data.pipeline import PhotoSet, load_photo_set
from srgan.errors import UserError
from srgan.inference import pretrained
from srgan.run.settings import architecture_mismatch, load_settings

log = logging.getLogger(__name__)

# What only a new run takes from the flags: a resumed one keeps what started it, so that
# settings.json says how the run began (and the seed keeps resuming exact). The warm-up's
# fitted length is the run's own (no flag sets it), and it is kept alike.
START_ONLY = ("init", "seed", "minutes_init", "warmup_steps")


def load_training_photos(config: TrainConfig) -> PhotoSet:
    """The photos in DATA_DIR/train (where --data_dir is not given, the command line has
    built the demo set there if it was empty: srgan/data/demo.py)."""
    train_dir = Path(config.data_dir) / "train"
    if not (train_dir.is_dir() and list_images(train_dir)):
        raise UserError(f"no training photos in {train_dir}. Put photos there "
                        "(or run --mode=prepare), or leave out --data_dir to train on the demo set.")
    photos, skipped = load_photo_set(train_dir, config.hr_size)
    if skipped:
        log.info(f"skipped {len(skipped)} file(s) in {train_dir}:\n  " + "\n  ".join(skipped))
    if len(photos) == 0:
        raise UserError(f"none of the files in {train_dir} is a photo of at least "
                        f"{config.hr_size}x{config.hr_size} px")
    sides = np.minimum(photos.heights, photos.widths)
    small = int((sides < config.warmup_crop).sum())
    if config.n_epoch_init and small:
        raise UserError(f"--warmup_crop {config.warmup_crop} is larger than {small} of the "
                        f"{len(photos)} photos in {train_dir} (the smallest side is {int(sides.min())} "
                        f"px): give at most {int(sides.min())}, or remove the smaller photos")
    return photos


def resolve_settings(config: TrainConfig, folder: Path, several_machines: bool = False
                     ) -> tuple[TrainConfig, list[tuple[str, str]], dict | None]:
    """Checks the saved run against the flags; returns `config` with what started the run
    filled in (START_ONLY), (the flag given, the one that started the run) for each flag
    so overridden, and the saved settings (None for a new run), which this run's will
    replace. A new run on `several_machines` must be given its seed."""
    saved = load_settings(folder)
    ignored, kept = [], {}
    if saved is not None:
        mismatch = architecture_mismatch(saved, config)
        if mismatch:
            raise UserError(f"{folder} holds a run of another architecture:\n  "
                            + "\n  ".join(mismatch)
                            + "\nUse the saved values, another --checkpoint_dir, or --restart.")
        for name in START_ONLY:
            value, given = saved.get(name), getattr(config, name)
            if value is None:
                continue
            if given not in (None, value):
                ignored.append((f"--{name} {given}", f"--{name} {value}"))
            kept[name] = value
    config = dataclasses.replace(config, **kept)
    if config.init is None:
        config = dataclasses.replace(config, init="reference")
    if config.seed is None:
        if several_machines:
            raise UserError("a new run on several machines needs --seed: every worker must "
                            "draw the same crops and initial weights")
        config = dataclasses.replace(config, seed=secrets.randbelow(2**31))
    return config, ignored, saved


def start_from_pretrained(config: TrainConfig, generator: keras.Model) -> None:
    """--init pretrained: the shipped generator's weights, for a fine-tune."""
    shipped = pretrained.pretrained_architecture()
    mine = (config.model, config.features, config.blocks)
    if mine != (shipped.model, shipped.features, shipped.blocks):
        raise UserError(f"--init pretrained needs the shipped generator's architecture (--model "
                        f"{shipped.model} --features {shipped.features} --blocks {shipped.blocks}); "
                        f"this run has --model {mine[0]} --features {mine[1]} --blocks {mine[2]}")
    pretrained.load_pretrained_weights(generator)
    log.info(f"--init pretrained: the generator starts from {pretrained.WEIGHTS.name}")


def keep_finished_warmup(config: TrainConfig, previous: dict, epoch: int, batch: int
                         ) -> tuple[TrainConfig, str | None]:
    """A run whose GAN phase has begun keeps the warm-up it had: another --n_epoch_init
    would rerun a warm-up after GAN epochs (raised) or renumber the GAN epochs that the
    rate's decay and the MSE share count (lowered). Returns `config` with the warm-up it
    keeps, and the line saying so, if any. A warm-up that has just ended, with no GAN step
    yet, may still be lengthened."""
    kept = previous.get("n_epoch_init", TrainConfig().n_epoch_init)
    began = epoch > kept or (epoch == kept and batch > 0)
    if not began or config.n_epoch_init == kept:
        return config, None
    return dataclasses.replace(config, n_epoch_init=kept), (
        f"--n_epoch_init {config.n_epoch_init} ignored: the run's GAN phase began after its "
        f"{kept} warm-up epochs, and a finished warm-up never reruns")
