"""`--mode=compare`: SRGAN, W-SRGAN and the seed's model trained alike, tested alike.

Each model trains in CHECKPOINT_DIR/compare/MODEL with the same flags, data and random
seed, through the ordinary training run, phase by phase: its own MSE warm-up, then its
GAN phase, each to the same budget (--n_epoch_init and --n_epoch, or --minutes_init and
--minutes of wall-clock, whichever ends first). compare_state.json in
CHECKPOINT_DIR/compare records the budget, the random seed and each model's time and
steps in each phase, so a rerun trains only what is left, each model from its
checkpoint. Then `--mode=testing`'s run scores them against bicubic on DATA_DIR/test,
and compare.md, compare.csv and compare.png (LR | bicubic | SRGAN | W-SRGAN | seed model
| HR) are written into the results folder.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from pathlib import Path
from typing import Annotated, TypedDict

import numpy as np

from srgan import files, schema
from srgan.config import TrainConfig, check_time_budget
from srgan.data.degrade import SCALE
from srgan.data.images import load_rgb
from srgan.errors import UserError
from srgan.evaluation.grids import nearest_upsized, sr_title
from srgan.evaluation.methods import BICUBIC, MODEL
from srgan.evaluation.report import METRICS, grid_cell, summary_markdown, write_grid
from srgan.evaluation.testing import GRID_IMAGES, bicubic, hr_and_lr, run_testing, test_pairs
from srgan.inference.outputs import output_names
from srgan.models import registry
from srgan.run.folder import move_run_aside
from srgan.run.state import saved_step
from srgan.runtime.precision import resolve
from srgan.training.budget import GAN, WARMUP, PhaseLimit
from srgan.training.loop import train

# Trained in this order: the cheap baselines first, so an interrupted compare has
# the most rows to show soonest; the project's model last, as the seed's table has it.
ORDER = tuple(sorted(registry.NAMES, key=lambda name: not registry.MODELS[name].baseline))
BASELINES, OURS = ORDER[:-1], ORDER[-1]
STATE_FILE = "compare_state.json"
_RESTART = "pass --restart to compare afresh"
log = logging.getLogger(__name__)


_Count = Annotated[int, schema.Minimum(0)]
_Minutes = Annotated[float | None, schema.Minimum(0, exclusive=True)]


class _Budget(TypedDict):
    n_epoch_init: _Count
    n_epoch: _Count
    minutes_init: _Minutes
    minutes: _Minutes
    seed: _Count | None


class _Phase(TypedDict):
    seconds: Annotated[float, schema.Minimum(0)]
    done: bool
    steps: _Count


# Each model's phases by name (srgan/training/budget.py), whose hyphen takes this syntax.
_Progress = TypedDict("_Progress", {WARMUP: _Phase, GAN: _Phase})


class _State(TypedDict):
    """compare_state.json: the budget, and each model's progress in each phase."""

    budget: _Budget
    models: dict[str, _Progress]


def _write_json(path: Path, value: dict) -> None:
    files.write_text(path, json.dumps(value, indent=2) + "\n")


def _load_state(root: Path, budget: dict) -> dict:
    """The saved progress, checked against this call's budget; a fresh one if none."""
    path = root / STATE_FILE
    if not path.is_file():
        return {"budget": budget, "models": {}}
    state = schema.load(path, _State, _RESTART)
    unknown = sorted(set(state["models"]) - set(ORDER))
    if unknown:
        raise UserError(f"{path}: models.{unknown[0]} is no model of this project (it has "
                        f"{', '.join(ORDER)}); {_RESTART}")
    saved = state["budget"]
    changed = [f"--{name} {budget[name]} (it has {saved[name]})"
               for name in budget if budget[name] is not None and saved[name] != budget[name]]
    if changed:
        raise UserError(f"{root} holds a comparison made with another budget:\n  "
                        + "\n  ".join(changed)
                        + "\nRepeat its flags, pass another --checkpoint_dir, or --restart.")
    state["budget"] = {name: saved[name] for name in budget}
    return state


def _start(settings: dict, minutes: float | None, minutes_init: float | None,
           restart: bool) -> tuple[Path, dict]:
    """(CHECKPOINT_DIR/compare, the comparison's state): a new one, or the one a rerun
    resumes, its budget and seed fixed and written."""
    defaults = TrainConfig()
    budget = {"n_epoch_init": settings.get("n_epoch_init", defaults.n_epoch_init),
              "n_epoch": settings.get("n_epoch", defaults.n_epoch),
              "minutes_init": minutes_init, "minutes": minutes, "seed": settings.get("seed")}
    check_time_budget(budget["n_epoch_init"], minutes_init, minutes)
    root = Path(settings.get("checkpoint_dir", defaults.checkpoint_dir)) / "compare"
    if restart and root.is_dir():
        for model in ORDER:
            moved = move_run_aside(root / model)
            if moved is not None:
                log.info(f"--restart: the previous {model} run was moved to {moved}")
        (root / STATE_FILE).unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    state = _load_state(root, budget)
    budget = state["budget"]  # a rerun that leaves out --minutes keeps the comparison's own
    if budget["seed"] is None:
        # One random seed for all, drawn once and kept, so a rerun resumes the same runs.
        budget["seed"] = secrets.randbelow(2**31)
    _write_json(root / STATE_FILE, state)
    return root, state


def train_all(settings: dict, minutes: float | None, minutes_init: float | None = None,
              models: tuple[str, ...] = ORDER, restart: bool = False) -> tuple[Path, dict] | None:
    """Trains what is left of each of `models`, phase by phase; returns
    (CHECKPOINT_DIR/compare, the state), or None where Ctrl+C or SIGTERM stopped it (as
    training, after a checkpoint).

    `settings` are TrainConfig fields given on the command line (not model or
    checkpoint_dir); each model takes its own learning rate unless lr_init is given.
    A phase ends at its epochs (--n_epoch_init, --n_epoch) or its minutes
    (`minutes_init`, `minutes`), whichever come first.
    """
    root, state = _start(settings, minutes, minutes_init, restart)
    budget = state["budget"]
    # The budget is the comparison's own (PhaseLimit), not each run's fitted warm-up length.
    fields = {name: value for name, value in settings.items()
              if name not in ("model", "checkpoint_dir", "minutes_init")}
    fields["seed"] = budget["seed"]
    for model in models:
        progress = state["models"].setdefault(
            model, {phase: {"seconds": 0.0, "done": False, "steps": 0} for phase in (WARMUP, GAN)})
        if budget["n_epoch_init"] == 0:
            progress[WARMUP]["done"] = True
        for phase in (WARMUP, GAN):
            entry = progress[phase]
            if entry["done"]:
                continue
            config = TrainConfig(**fields, model=model, checkpoint_dir=str(root / model))
            minutes_of_phase = budget["minutes_init" if phase == WARMUP else "minutes"]
            seconds = None if minutes_of_phase is None else 60 * minutes_of_phase
            log.info(f"compare: training {model}'s {phase} phase in {root / model}"
                     + (f" ({seconds - entry['seconds']:.0f} s left)" if seconds is not None else ""))
            # The limit from the same clock reading as the time used, so that a phase ended
            # by its limit has used all of its budget.
            start = time.monotonic()
            try:
                entry["done"] = train(config, limit=PhaseLimit.of_budget(phase, seconds, entry["seconds"],
                                                                         start))
            finally:
                entry["seconds"] += time.monotonic() - start
                entry["steps"] = saved_step(root / model) - (progress[WARMUP]["steps"] if phase == GAN else 0)
                _write_json(root / STATE_FILE, state)
            if not entry["done"]:
                log.info(f"compare stopped while training {model}. Run the same command to resume "
                         "where it stopped.")
                return None
    return root, state


def _scored(models: tuple[str, ...]) -> tuple[str, list[str]]:
    """(the model testing scores as its own, the ones it scores beside it): the seed's
    model where it is among `models`, as the seed's table has it."""
    primary = OURS if OURS in models else models[-1]
    return primary, [name for name in models if name != primary]


def _rows(summary: dict, state: dict, models: tuple[str, ...]) -> list[dict]:
    primary, others = _scored(models)
    rows = []
    # The seed's table order: bicubic, the baselines, then the model compared with them.
    for method in [BICUBIC, *others, MODEL]:
        model = primary if method == MODEL else method
        row = {"method": label(model), **summary["methods"][method]}
        for phase, prefix in ((WARMUP, "warmup"), (GAN, "gan")):
            entry = state["models"].get(model, {}).get(phase)
            row[f"{prefix}_steps"] = "" if entry is None else entry["steps"]
            row[f"{prefix}_s"] = "" if entry is None else f"{entry['seconds']:.0f}"
        rows.append(row)
    return rows


def label(model: str) -> str:
    """A model's name as tables and grids show it; bicubic's own."""
    return "bicubic" if model == BICUBIC else registry.MODELS[model].display_name


TRAINING_COLUMNS = ("warmup_steps", "warmup_s", "gan_steps", "gan_s")


def _budget_text(budget: dict) -> str:
    def phase(epochs: int, minutes: float | None) -> str:
        return f"{epochs} epochs" + (f" or {minutes:g} min, whichever ends first" if minutes else "")
    warmup = (f"warm-up (MSE) {phase(budget['n_epoch_init'], budget['minutes_init'])}, then "
              if budget["n_epoch_init"] else "no warm-up; ")
    return (f"{warmup}GAN phase {phase(budget['n_epoch'], budget['minutes'])}, each model; "
            f"random seed {budget['seed']}")


def write_table(results_dir: Path, summary: dict, state: dict,
                models: tuple[str, ...] = ORDER) -> str:
    """compare.csv and compare.md; returns the markdown."""
    rows = _rows(summary, state, models)
    files.write_csv(results_dir / "compare.csv", ["method", *METRICS, *TRAINING_COLUMNS],
                    ([row["method"], *(f"{row[name]:.6f}" for name in METRICS),
                      *(row[name] for name in TRAINING_COLUMNS)] for row in rows))
    renamed = {**summary, "methods": {row["method"]: {name: row[name] for name in METRICS}
                                      for row in rows}}
    training = "\n".join(
        f"| {row['method']} | {row['warmup_steps']} | {row['warmup_s']} | {row['gan_steps']} "
        f"| {row['gan_s']} |" for row in rows if row["gan_steps"] != "")
    names = [row["method"] for row in rows[1:]]  # after bicubic
    heading = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    text = (f"# {heading}\n\n" + summary_markdown(renamed)
            + f"\nBudget: {_budget_text(state['budget'])}.\n\n"
            + "| model | warm-up steps | warm-up s | GAN steps | GAN s |\n|---|---|---|---|---|\n"
            + training + "\n")
    files.write_text(results_dir / "compare.md", text)
    return text


def write_compare_grid(results_dir: Path, data_dir: Path, models: tuple[str, ...] = ORDER) -> None:
    """compare.png: LR | bicubic | each model | HR, titled, from the SR photos testing
    wrote: the same crops in every column, of photos spread evenly over the test set
    (its first ones are often tiles of one photo)."""
    primary, others = _scored(models)
    methods = [*others, MODEL]
    pairs = test_pairs(data_dir)
    names = output_names([hr for hr, _ in pairs])
    # skipped by testing where an SR photo is missing (too small or unreadable)
    scored = [(hr, lr) for hr, lr in pairs
              if all((results_dir / method / names[hr]).is_file() for method in methods)]
    chosen = np.unique(np.linspace(0, len(scored) - 1, min(len(scored), GRID_IMAGES)).round().astype(int))
    rows = []
    for hr_path, lr_path in (scored[index] for index in chosen):
        hr, lr, _ = hr_and_lr(hr_path, lr_path)
        images = [nearest_upsized(lr, SCALE), bicubic(lr),
                  *(load_rgb(results_dir / method / names[hr_path]) for method in methods), hr]
        rows.append([grid_cell(image) for image in images])
    titles = ["LR (x4 nearest)", "bicubic",
              *(sr_title(label(primary if method == MODEL else method)) for method in methods), "HR"]
    write_grid(results_dir / "compare.png", rows, titles)


def run_compare(settings: dict, minutes: float | None, results_dir: Path, tile: int,
                minutes_init: float | None = None, models: tuple[str, ...] = ORDER,
                restart: bool = False) -> str | None:
    """Trains what is left, scores the models and writes the table; returns it, or None
    where a stop request ended the training (nothing is scored then)."""
    models = tuple(name for name in ORDER if name in models)
    trained = train_all(settings, minutes, minutes_init, models, restart)
    if trained is None:
        return None
    root, state = trained
    data_dir = Path(settings.get("data_dir", TrainConfig().data_dir))
    results_dir = Path(results_dir)
    policy, _ = resolve(settings.get("precision", TrainConfig().precision))
    primary, others = _scored(models)
    summary = run_testing(root / primary, None, data_dir, results_dir,
                          [f"{name}={root / name}" for name in others], tile, policy)
    text = write_table(results_dir, summary, state, models)
    write_compare_grid(results_dir, data_dir, models)
    return text
