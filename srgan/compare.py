"""`--mode=compare`: SRGAN, W-SRGAN and the seed's model trained alike, tested alike.

Each model trains in CHECKPOINT_DIR/compare/MODEL with the same flags, data, random seed and
budget (--n_epoch, or --minutes of wall-clock each), through the ordinary training
run, so a model cut short resumes from its checkpoint. compare_state.json in
CHECKPOINT_DIR/compare records the budget, the random seed and each model's time used and
whether it is done, so a rerun trains only what is left. Then `--mode=testing`'s
run scores all three against bicubic on DATA_DIR/test, and compare.md, compare.csv
and compare.png (HR | SRGAN | W-SRGAN | seed model) are written into the results folder.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from pathlib import Path
from typing import NotRequired, TypedDict

from srgan import files, registry, schema
from srgan.config import TrainConfig
from srgan.data.images import load_rgb
from srgan.errors import UserError
from srgan.evaluation.report import METRICS, grid_cell, summary_markdown, write_grid
from srgan.evaluation.methods import BICUBIC, MODEL
from srgan.evaluation.testing import GRID_IMAGES, hr_and_lr, run_testing, test_pairs
from srgan.grids import sr_title
from srgan.inference.upscale import output_names
from srgan.precision import resolve
from srgan.run.folder import move_run_aside
from srgan.run.state import saved_step
from srgan.training.loop import train

# Trained in this order: the cheap baselines first, so an interrupted compare has
# the most rows to show soonest; the project's model last, as the seed's table has it.
ORDER = tuple(sorted(registry.NAMES, key=lambda name: not registry.MODELS[name].baseline))
BASELINES, OURS = ORDER[:-1], ORDER[-1]
LABELS = {BICUBIC: "bicubic", MODEL: registry.MODELS[OURS].display_name,
          **{name: registry.MODELS[name].display_name for name in BASELINES}}
STATE_FILE = "compare_state.json"
_RESTART = "pass --restart to compare afresh"
log = logging.getLogger(__name__)


class _Budget(TypedDict):
    n_epoch: int
    minutes: float | None
    seed: int | None


class _Progress(TypedDict):
    seconds: float
    done: bool
    steps: NotRequired[int]


class _State(TypedDict):
    """compare_state.json: the budget, and each model's progress by its name."""

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
    saved = state["budget"]
    changed = [f"--{name} {budget[name]} (it has {saved[name]})"
               for name in budget if budget[name] is not None and saved[name] != budget[name]]
    if changed:
        raise UserError(f"{root} holds a comparison made with another budget:\n  "
                        + "\n  ".join(changed)
                        + "\nRepeat its flags, pass another --checkpoint_dir, or --restart.")
    state["budget"] = {name: saved[name] for name in budget}
    return state


def train_all(settings: dict, minutes: float | None, restart: bool = False,
              data_dir_given: bool = False) -> tuple[Path, dict] | None:
    """Trains what is left of each model; returns (CHECKPOINT_DIR/compare, the state), or
    None where Ctrl+C or SIGTERM stopped it (as training, after a checkpoint).

    `settings` are TrainConfig fields given on the command line (not model or
    checkpoint_dir); each model takes its own learning rate unless lr_init is given.
    """
    if minutes is not None and not minutes > 0:
        raise UserError(f"--minutes must be positive, got {minutes}")
    root = Path(settings.get("checkpoint_dir", TrainConfig().checkpoint_dir)) / "compare"
    if restart and root.is_dir():
        for model in ORDER:
            moved = move_run_aside(root / model)
            if moved is not None:
                log.info(f"--restart: the previous {model} run was moved to {moved}")
        (root / STATE_FILE).unlink(missing_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    budget = {"n_epoch": settings.get("n_epoch", TrainConfig().n_epoch), "minutes": minutes,
              "seed": settings.get("seed")}
    state = _load_state(root, budget)
    # A rerun that leaves out --minutes keeps the comparison's own.
    minutes = state["budget"]["minutes"]
    if state["budget"]["seed"] is None:
        # One random seed for all three, drawn once and kept, so a rerun resumes the same runs.
        state["budget"]["seed"] = secrets.randbelow(2**31)
    _write_json(root / STATE_FILE, state)
    fields = {name: value for name, value in settings.items() if name not in ("model", "checkpoint_dir")}
    fields["seed"] = state["budget"]["seed"]
    for model in ORDER:
        entry = state["models"].setdefault(model, {"seconds": 0.0, "done": False})
        if entry["done"]:
            log.info(f"compare: {model} already trained ({entry['seconds']:.0f} s); not retrained")
            continue
        config = TrainConfig(**fields, model=model, checkpoint_dir=str(root / model))
        log.info(f"compare: training {model} in {root / model}"
             + (f" ({60 * minutes - entry['seconds']:.0f} s left)" if minutes is not None else ""))
        # The deadline from the same clock reading as the time used, so that a run stopped
        # by its deadline has used all of its budget.
        start = time.monotonic()
        deadline = None if minutes is None else start + 60 * minutes - entry["seconds"]
        try:
            finished = train(config, data_dir_given=data_dir_given, deadline=deadline)
        finally:
            entry["seconds"] += time.monotonic() - start
            entry["steps"] = saved_step(root / model)
            out_of_time = minutes is not None and entry["seconds"] >= 60 * minutes
            entry["done"] = entry["done"] or out_of_time
            _write_json(root / STATE_FILE, state)
        entry["done"] = finished or out_of_time
        _write_json(root / STATE_FILE, state)
        if not entry["done"]:
            log.info(f"compare stopped while training {model}. Run the same command to resume "
                     "where it stopped.")
            return None
    return root, state


def _rows(summary: dict, state: dict) -> list[dict]:
    rows = []
    methods = summary["methods"]
    # The seed's table order: bicubic, the baselines, then the model compared with them.
    for method in sorted(methods, key=[BICUBIC, *BASELINES, MODEL].index):
        means = methods[method]
        model = OURS if method == MODEL else method
        entry = state["models"].get(model, {})
        rows.append({"method": LABELS.get(method, method), **means,
                     "train_steps": entry.get("steps", ""),
                     "train_s": f"{entry['seconds']:.0f}" if "seconds" in entry else ""})
    return rows


def write_table(results_dir: Path, summary: dict, state: dict) -> str:
    """compare.csv and compare.md; returns the markdown."""
    rows = _rows(summary, state)
    files.write_csv(results_dir / "compare.csv", ["method", *METRICS, "train_steps", "train_s"],
                    ([row["method"], *(f"{row[name]:.6f}" for name in METRICS),
                      row["train_steps"], row["train_s"]] for row in rows))
    renamed = {**summary, "methods": {row["method"]: {name: row[name] for name in METRICS}
                                      for row in rows}}
    budget = state["budget"]
    limit = (f"{budget['minutes']:g} min of wall-clock training each (or {budget['n_epoch']} epochs)"
             if budget["minutes"] is not None else f"{budget['n_epoch']} epochs each")
    training = "\n".join(f"- {row['method']}: {row['train_steps']} steps in {row['train_s']} s"
                         for row in rows if row["train_steps"] != "")
    text = ("# SRGAN, W-SRGAN and the seed's model\n\n" + summary_markdown(renamed)
            + f"\nBudget: {limit}, random seed {budget['seed']}.\n\nTraining:\n{training}\n")
    files.write_text(results_dir / "compare.md", text)
    return text


def write_compare_grid(results_dir: Path, data_dir: Path) -> None:
    """compare.png: HR | SRGAN | W-SRGAN | seed model, titled, from the SR photos testing
    wrote."""
    pairs = test_pairs(data_dir)
    names = output_names([hr for hr, _ in pairs])
    rows = []
    for hr_path, lr_path in pairs:
        paths = [results_dir / method / names[hr_path] for method in (*BASELINES, MODEL)]
        if not all(path.is_file() for path in paths):
            continue  # skipped by testing (too small or unreadable)
        hr = hr_and_lr(hr_path, lr_path)[0]
        rows.append([grid_cell(image) for image in [hr, *(load_rgb(path) for path in paths)]])
        if len(rows) == GRID_IMAGES:
            break
    write_grid(results_dir / "compare.png", rows,
               ["HR", *(sr_title(LABELS[method]) for method in (*BASELINES, MODEL))])


def run_compare(settings: dict, minutes: float | None, results_dir: Path, tile: int,
                restart: bool = False, data_dir_given: bool = False) -> str | None:
    """Trains what is left, scores the three models and writes the table; returns it, or
    None where a stop request ended the training (nothing is scored then)."""
    trained = train_all(settings, minutes, restart, data_dir_given)
    if trained is None:
        return None
    root, state = trained
    data_dir = Path(settings.get("data_dir", TrainConfig().data_dir))
    results_dir = Path(results_dir)
    policy, _ = resolve(settings.get("precision", TrainConfig().precision))
    summary = run_testing(root / OURS, None, data_dir, results_dir,
                          [f"{name}={root / name}" for name in BASELINES], tile, policy)
    text = write_table(results_dir, summary, state)
    write_compare_grid(results_dir, data_dir)
    return text
