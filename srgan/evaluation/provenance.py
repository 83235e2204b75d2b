"""Which generator a mode uses, named in one line before it works.

A checkpoint is named with its step and, where its run validated at that step, the
PSNR-Y it scored beside bicubic's; the shipped generator by its files. Where a run
validated below the shipped generator on the same photos, one more line says so and
how to use the shipped one. Only scores of the same photos are compared, and bicubic's
score tells which those are: it depends on the photos alone, so a score of the shipped
generator's card whose bicubic PSNR-Y equals the run's (to the card's 4 decimals) was
measured on the photos the run validated on.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import keras

from srgan.evaluation.curve import validation_at
from srgan.inference import pretrained
from srgan.inference.restore import load_generator
from srgan.models.registry import Architecture
from srgan.run.state import BEST, checkpoint_step

log = logging.getLogger(__name__)

# The shipped generator as a user finds it: its weights and card, by their common stem.
SHIPPED = pretrained.CARD.relative_to(pretrained.FOLDER.parent.parent).with_suffix("")
# The card's scores are rounded to 4 decimals.
_SAME_PHOTOS_DB = 1e-3


@dataclasses.dataclass
class Source:
    """Where a generator came from: a checkpoint and the step it was saved at, or the
    shipped files (step None); and its run's validation scores at that step, if any."""

    path: str
    step: int | None
    validation: dict[str, float] | None

    @property
    def label(self) -> str:
        """A short name for a grid's column title: the checkpoint and its folder."""
        if self.step is None:
            return f"shipped {SHIPPED.name}"
        prefix = Path(self.path)
        return "/".join(prefix.parts[-3 if prefix.parent.name == BEST else -2:])

    def describe(self) -> str:
        """'using X ...': the checkpoint, its step and validation score, or the shipped one."""
        if self.step is None:
            return f"using the shipped generator, {SHIPPED}"
        text = f"using {self.path} (step {self.step})"
        if self.validation is None:
            return text + "; its run logged no validation score at that step"
        return (text + f"; validation there: PSNR-Y {self.validation['psnr_y']:.2f} dB "
                f"(bicubic {self.validation['bicubic_psnr_y']:.2f})")


def source_of(path: str) -> Source:
    """The Source of the generator load_generator loaded from `path`."""
    if path == str(pretrained.WEIGHTS):
        return Source(path, None, None)
    prefix = Path(path)
    # best/ holds a copy of a checkpoint of the run in the folder above it.
    run_dir = prefix.parent.parent if prefix.parent.name == BEST else prefix.parent
    step = checkpoint_step(path)
    return Source(path, step, validation_at(run_dir, step))


def shipped_score_on_same_photos(source: Source) -> tuple[str, float] | None:
    """(the name of the card's score set, the shipped generator's PSNR-Y there) where the
    card scored it on the photos `source`'s run validated on; else None."""
    if source.validation is None:
        return None
    scores = pretrained.card().get("scores")
    for name, entry in (scores.items() if isinstance(scores, dict) else ()):
        # The card's scores are written for people: a set without both numbers (a note,
        # the convention) cannot be compared, and is passed over.
        bicubic, model = (_psnr(entry, method) for method in ("bicubic", "model"))
        if bicubic is not None and model is not None and (
                abs(bicubic - source.validation["bicubic_psnr_y"]) < _SAME_PHOTOS_DB):
            return name, model
    return None


def _psnr(entry: object, method: str) -> float | None:
    """The PSNR-Y of `method` in a score set of the card, where it is a number."""
    score = entry.get(method) if isinstance(entry, dict) else None
    value = score.get("psnr") if isinstance(score, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def below_shipped(source: Source) -> str | None:
    """'X validated at ... below the shipped generator's ... on the same photos (...)';
    None where it did not, or no like score exists."""
    shipped = shipped_score_on_same_photos(source)
    if shipped is None or source.validation["psnr_y"] >= shipped[1]:
        return None
    name, psnr = shipped
    return (f"{source.path} validated at {source.validation['psnr_y']:.2f} dB PSNR-Y, below the "
            f"shipped generator's {psnr:.2f} dB on the same photos (its card's '{name}' scores; "
            f"bicubic {source.validation['bicubic_psnr_y']:.2f} on both)")


def load_named_generator(checkpoint_dir: Path, checkpoint: Path | None, precision: str,
                         role: str = "", advise: bool = False, named: bool = True
                         ) -> tuple[keras.Model, Architecture, Source]:
    """load_generator's generator and settings, and where they came from, said in a line
    (after `role`, where given); with `advise`, a second line where the shipped generator
    scored better on the same photos.

    Where the command did not name the run (`named` False: the default folder's, found
    by itself) and it validated below the shipped generator on the same photos, the
    shipped generator is used instead, and a line says so and how to use the run: a
    short first run never makes the next upscale worse than the one before it.
    """
    generator, config, path = load_generator(checkpoint_dir, checkpoint, precision)
    source = source_of(path)
    if not named and source.step is not None:
        below = below_shipped(source)
        if below is not None:
            log.warning(f"{below}: using the shipped generator; pass --checkpoint_dir "
                        f"{checkpoint_dir} to use this run")
            generator, config, path = pretrained.load_pretrained(precision)
            source = source_of(path)
            log.info(f"{role}{source.describe()}")
            return generator, config, source
    why = ""
    if source.step is None and checkpoint is None:
        why = (f" (no trained run in {checkpoint_dir}; train your own with `python main.py`, "
               "see README)")
    log.info(f"{role}{source.describe()}{why}")
    advice = below_shipped(source) if advise else None
    if advice is not None:
        log.warning(f"{advice}: pass --checkpoint {pretrained.NAME} to use the shipped one")
    return generator, config, source
