"""What a checkpoint holds, in one format that every Keras backend reads and writes.

A checkpoint (srgan/run/folder.py writes its file) holds every variable of the generator,
the critic and the optimizers (their learning rates, iteration counts and slots), in the
order Keras keeps them, which is the same under every backend; the epoch, the batch
within it and the global step; the BatchNorm epsilon the networks were trained with; and
under mixed_float16 each optimizer's dynamic loss scale, under a name of its own, so a
run can change its precision on resume (the scales start afresh where a checkpoint has
none). Nothing else is random between steps: the crops and the gradient penalty's draws
are functions of the seed and the step (srgan/data/pipeline.py, srgan/training/draws.py),
so a resumed run continues exactly where it stopped, under either backend.

Which checkpoint a run resumes from is decided by its files (srgan/run/folder.py), not by
the pointer file alone; a save that fails removes its own files. Checkpoints of earlier
versions (TensorFlow's format) are read by srgan/run/legacy.py, and the next save writes
this format.
"""

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from srgan.errors import UserError, describe_os_error
from srgan.models import norm
from srgan.run import folder as run_folder
from srgan.run.best import BEST
from srgan.run.folder import is_legacy, prefix_of, read_arrays, standing

log = logging.getLogger(__name__)

KEEP = 3
FORMAT = 3
GENERATOR = "generator"
EPSILON = "batchnorm_epsilon"
COUNTERS = ("epoch", "batch", "step")
_FORMAT_KEY = "format"


class TrainingDiverged(UserError):
    pass


def split_loss_scale(optimizer: keras.optimizers.Optimizer) -> tuple[keras.optimizers.Optimizer, list]:
    """(the optimizer whose variables are checkpointed, its loss-scale variables if any)."""
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer.inner_optimizer, [optimizer.dynamic_scale, optimizer.step_counter]
    return optimizer, []


def _key(group: str, index: int) -> str:
    return f"{group}/{index:04d}"


def _values(arrays: dict[str, np.ndarray], group: str) -> list[np.ndarray]:
    found, index = [], 0
    while _key(group, index) in arrays:
        found.append(arrays[_key(group, index)])
        index += 1
    return found


def _assign(variables: list, values: list[np.ndarray], group: str) -> None:
    """Loads `values` into `variables`; ValueError where they differ in count or shape."""
    if len(values) != len(variables):
        raise ValueError(f"{group} has {len(values)} arrays in the checkpoint, "
                         f"{len(variables)} in this run")
    for index, (variable, value) in enumerate(zip(variables, values)):
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{group} array {index} ({variable.path}) is {value.shape} in the "
                             f"checkpoint, {tuple(variable.shape)} in this run")
        variable.assign(value.astype(keras.backend.standardize_dtype(variable.dtype)))


def _numpy(variable) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(variable.value))


@dataclasses.dataclass(frozen=True)
class Networks:
    """A run's networks and their optimizers, as its steps train them and its checkpoints
    hold them."""

    generator: keras.Model
    critic: keras.Model
    generator_optimizer: keras.optimizers.Optimizer
    critic_optimizer: keras.optimizers.Optimizer
    # The warm-up's own (--warmup_optimizer), or None where it is the generator's.
    warmup_optimizer: keras.optimizers.Optimizer | None = None

    @property
    def warmup(self) -> keras.optimizers.Optimizer:
        """The optimizer of the warm-up's steps."""
        return self.warmup_optimizer or self.generator_optimizer

    def optimizers(self) -> dict[str, tuple[keras.optimizers.Optimizer, keras.Model]]:
        """Each distinct optimizer with the network it trains, by its part's name
        (generator, critic, warmup)."""
        found = {"generator": (self.generator_optimizer, self.generator),
                 "critic": (self.critic_optimizer, self.critic)}
        if self.warmup is not self.generator_optimizer:
            found["warmup"] = (self.warmup, self.generator)
        return found


class RunState:
    """Everything a resumed run needs, saved and restored as one checkpoint."""

    def __init__(self, folder: Path, networks: Networks, restore_from: Path | None = None,
                 scope: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
                 before_save: Callable[[], None] | None = None):
        """Saves into `folder`; resumes from `restore_from` where given (a MultiWorker
        worker other than the chief: it saves into a folder of its own, which is thrown
        away, and resumes from the chief's, which it leaves as it is).

        The optimizers' variables are built in `scope` (a tf.distribute strategy's, beside
        the networks' variables). `before_save` brings the Keras variables up to date
        where a backend's steps keep the values apart (JAX's)."""
        self.epoch = self.batch = self.step = 0
        generator, critic = networks.generator, networks.critic
        self._groups = {GENERATOR: generator.weights, "critic": critic.weights}
        self._scales = {}
        self._inner = {}
        for part, (optimizer, network) in networks.optimizers().items():
            key = f"{part}_optimizer"
            # Optimizer slots are created lazily; build them now so a restore fills them.
            with scope():
                optimizer.build(network.trainable_variables)
            inner, scale = split_loss_scale(optimizer)
            self._groups[key] = inner.variables
            self._inner[key] = inner
            if scale:
                self._scales[f"{key}_loss_scale"] = scale
        self._networks = (generator, critic)
        self._before_save = before_save
        self.folder = Path(folder)
        # Before anything reads the pointer files: standing() rewrites them where wrong.
        source = Path(restore_from or folder)
        self.standing = standing(source, repair=restore_from is None)
        self.best_standing = standing(source / BEST, repair=restore_from is None)
        self.latest = None
        self.saved_step: int | None = None  # the step of `latest`

    def arrays(self) -> dict[str, np.ndarray]:
        """The checkpoint's contents, as the run stands now."""
        if self._before_save is not None:
            self._before_save()
        arrays = {_FORMAT_KEY: np.int64(FORMAT), EPSILON: np.float64(norm.EPSILON),
                  **{name: np.int64(getattr(self, name)) for name in COUNTERS}}
        for group, variables in {**self._groups, **self._scales}.items():
            for index, variable in enumerate(variables):
                arrays[_key(group, index)] = _numpy(variable)
        return arrays

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        """Sets the run to a checkpoint's contents (ValueError where they do not fit it)."""
        for group, variables in self._groups.items():
            _assign(variables, _values(arrays, group), group)
        for group, variables in self._scales.items():
            # Absent from runs saved in another precision; the scales then start afresh.
            if _key(group, 0) in arrays:
                _assign(variables, _values(arrays, group), group)
        for name in COUNTERS:
            setattr(self, name, int(arrays[name]))

    def restore(self) -> str | None:
        """Loads the newest intact checkpoint; returns its path, or None on a fresh run.

        A folder that holds checkpoints never starts afresh: where none is intact, this
        raises UserError (only --restart, which moves the run aside, starts over).
        """
        path = self.standing.latest
        if path is None:
            if self.standing.any_checkpoint:
                raise UserError(f"no intact checkpoint in {self.folder} ("
                                + "; ".join(self.standing.notes) + "). Pass --restart to start "
                                "afresh (the old run, damaged files included, is moved aside).")
            return None
        try:
            if is_legacy(path):
                from srgan.run import legacy
                trained_with = legacy.restore(path, self, self._networks, self._inner,
                                              self._scales)
            else:
                arrays = read_arrays(path)
                self.load(arrays)
                trained_with = float(arrays[EPSILON])
        except (KeyError, ValueError) as error:
            raise UserError(f"checkpoint {path} cannot be loaded into this run ({error}).\n"
                            "Pass --restart to start afresh (the old run is moved aside).") from error
        if trained_with != norm.EPSILON:
            for network in self._networks:
                norm.convert_epsilon(network, trained_with)
            log.info(f"{path} was saved by an earlier version of this project: its BatchNorm "
                     f"weights are converted exactly from epsilon {trained_with:g} to the "
                     f"reference's {norm.EPSILON:g}. Its critic now has the reference's "
                     "LeakyReLU after the last convolution, and RMSProp follows TF1's rule, so "
                     "the run goes on from these weights but not exactly as it would have.")
        self.latest, self.saved_step = path, self.step
        return path

    def save(self) -> str:
        """Saves the run as it is as a new rolling checkpoint, keeping the KEEP newest."""
        self.latest = self._save(self.folder, KEEP, self.latest)
        self.saved_step = self.step
        return self.latest

    def save_best(self) -> str:
        """Saves the run as it is into BEST/, replacing the one there (kept apart from
        the rolling checkpoints, which never prune it)."""
        return self._save(self.folder / BEST, 1, self.latest)

    def _save(self, folder: Path, keep: int, newest: str | None) -> str:
        """The checkpoint file, then the pointer naming it, then all but the `keep` newest
        removed. Where a write fails (a full disk, a folder made read-only), the new file
        is removed, so the space is freed, and a UserError says what happened and names
        `newest`, the run's newest checkpoint, which the failure left intact."""
        prefix = prefix_of(folder, self.step)
        arrays = self.arrays()
        self._check_finite(arrays, newest)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            run_folder.write_arrays(prefix, arrays)
            run_folder.write_pointer(folder, run_folder.numbers(folder)[:keep])
            run_folder.prune(folder, keep)
        except OSError as error:
            if run_folder.read_pointer(folder)[0] != prefix.name:
                run_folder.remove_checkpoint(prefix)
            raise UserError(f"cannot save {prefix}: {describe_os_error(error)}. Its partial files "
                            f"were removed; the run's newest checkpoint ({newest or 'none yet'}) "
                            "is intact. Fix the cause (free space, permissions) and run the same "
                            "command to resume.") from error
        return str(prefix)


    def _check_finite(self, arrays: dict[str, np.ndarray], newest: str | None) -> None:
        """TrainingDiverged unless every value is finite: the one check that a checkpoint is
        good. A step can ruin the weights (or the BatchNorm statistics recomputed from them)
        while its losses, computed before, are still finite."""
        bad = [key for key, value in arrays.items()
               if value.dtype.kind == "f" and not np.isfinite(value).all()]
        if not bad:
            return
        group, index = bad[0].rsplit("/", 1)
        variables = {**self._groups, **self._scales}[group]
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        raise TrainingDiverged(
            f"{group} {variables[int(index)].path}{more} became non-finite by step {self.step}, "
            f"epoch {self.epoch + (self.batch > 0)}: stopped without saving. The last good "
            f"checkpoint is kept: {newest or 'none yet'}. Try a lower --lr_init.")


def checkpoint_step(prefix: str) -> int:
    """The training step the checkpoint at `prefix` was saved at."""
    if is_legacy(prefix):
        from srgan.run import legacy
        return legacy.checkpoint_step(prefix)
    return int(read_arrays(prefix, ["step"])["step"])


def saved_step(folder: Path) -> int:
    """The step of the newest intact checkpoint in `folder`; 0 where there is none."""
    latest = standing(folder, repair=False).latest
    return 0 if latest is None else checkpoint_step(latest)


def restore_generator(generator: keras.Model, prefix: str) -> str | None:
    """Reads the generator's weights alone from the checkpoint at `prefix`; None, or
    why it failed (a damaged file, or a generator of another architecture)."""
    try:
        if is_legacy(prefix):
            from srgan.run import legacy
            trained_with = legacy.restore_generator(generator, prefix)
        else:
            arrays = read_arrays(prefix)
            _assign(generator.weights, _values(arrays, GENERATOR), GENERATOR)
            trained_with = float(arrays[EPSILON])
        if trained_with != norm.EPSILON:
            norm.convert_epsilon(generator, trained_with)
    except UserError:  # a legacy checkpoint without TensorFlow: it says what to do
        raise
    # A damaged file fails in many ways (BadZipFile, ValueError, EOFError, ... depending
    # on which bytes are wrong); whichever it is, the file cannot be used.
    except Exception as error:
        return f"{type(error).__name__}: {error}".splitlines()[0]
    return None
