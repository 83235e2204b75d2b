"""A training run: its networks, resume, and the epoch loop (what happens at a checkpoint
is srgan/training/checkpoints.py's)."""

import contextlib
import dataclasses
import itertools
import logging
import math
from collections.abc import Iterator
from pathlib import Path

import keras
from tqdm import tqdm

from srgan.config import TrainConfig
from srgan.data.pipeline import PhotoSet, crop_areas, steps_per_epoch, training_dataset
from srgan.evaluation import provenance
from srgan.models import registry
from srgan.run.events import LOGS, EventWriter
from srgan.run.folder import move_run_aside
from srgan.run.settings import save_settings
from srgan.run.state import Networks, RunState, TrainingDiverged
from srgan.runtime import precision as precisions
from srgan.training.budget import GAN, WARMUP, PhaseLimit, WarmupFit
from srgan.training.checkpoints import SavePoints
from srgan.training.draws import penalty_draws
from srgan.training.interrupt import StopRequest
from srgan.training.recipe import (content_is_mse, learning_rate, model_losses, optimizers, rate_by_step,
                                   step_class, with_rates)
from srgan.training.start import (keep_finished_warmup, load_training_photos, resolve_settings,
                                  start_from_pretrained)

log = logging.getLogger(__name__)


def train(config: TrainConfig, restart: bool = False, limit: PhaseLimit | None = None) -> bool:
    """Trains (or resumes) the run in config.checkpoint_dir; True once all its epochs are
    done, or, under a `limit`, once the phase it names is over. Under TensorFlow on one
    device or a tf.distribute strategy; under JAX on one device or data parallel over the
    local devices (Keras' DataParallel).
    """
    config = with_rates(config)
    config.validate()
    if keras.backend.backend() == "jax":
        from srgan.runtime import jax_backend
        from srgan.training import jax_devices
        jax_backend.check_training_flags(config)
        return jax_devices.train(config, limit, _train, _move_aside if restart else _keep)
    from srgan.training import tf_devices
    return tf_devices.train(config, limit, _train, _move_aside if restart else _keep)


def _move_aside(folder: Path) -> None:
    """--restart: the run in `folder` moved aside, before the new one locks it."""
    moved = move_run_aside(folder)
    if moved is not None:
        log.info(f"--restart: the previous run was moved to {moved}")


def _keep(folder: Path) -> None:
    """No --restart: the run in `folder`, if any, is resumed."""


def _train(config: TrainConfig, folder: Path, strategy, strategy_why: str,
           limit: PhaseLimit | None, restore_from: Path | None = None,
           several_machines: bool = False) -> bool:
    """The run in `folder` (the chief's, or a worker's own with the chief's `restore_from`),
    under `strategy` (a tf.distribute strategy, a Keras distribution, or None: one device)."""
    config, ignored, previous = resolve_settings(config, restore_from or folder, several_machines)
    policy, why = precisions.resolve(config.precision)
    log.info(f"precision {policy} ({why}){', XLA' if config.jit else ''}; {strategy_why}")
    photos = load_training_photos(config)
    scope = strategy.scope if strategy is not None else contextlib.nullcontext
    with scope():
        with precisions.policy(policy):
            vgg, content = model_losses(config)
            keras.utils.set_random_seed(config.seed)
            generator, critic = registry.build_networks(config.model, config.features, config.blocks,
                                                        config.hr_size, config.weights_init)
        networks = Networks(generator, critic, *optimizers(config, loss_scale=policy == "mixed_float16"))
    steps = step_class(config.model)(networks, vgg, content, config.jit, strategy)
    state = RunState(folder, networks, restore_from, scope, before_save=steps.sync)
    for standing in (state.standing, state.best_standing):
        if standing.notes:
            log.info(standing.explain())
    restored = state.restore()
    if ignored:
        where = f"resuming {restored} of a run" if restored else f"{restore_from or folder} holds a run"
        log.info(f"{', '.join(given for given, _ in ignored)} ignored: {where} started with "
                 + ", ".join(kept for _, kept in ignored))
    if restored and previous is not None:
        config, line = keep_finished_warmup(config, previous, state.epoch, state.batch)
        if line:
            log.info(line)
    if restored is None and config.init == "pretrained":
        start_from_pretrained(config, generator)
    save_settings(config, folder)
    run = _Run(config, folder, photos, state, steps, limit)
    if restored and state.batch and previous is not None:
        run.keep_share_of_epoch(previous)
    log.info(f"{'resuming' if restored else 'a new run of'} the {run.model_name()} in {folder}"
             + ("" if restored else f" (--init {config.init}, --seed {config.seed})"))
    if restored and state.epoch >= run.total_epochs:
        log.info(f"{restored} has finished all {run.total_epochs} epochs (step "
                 f"{state.step}): nothing to train. Raise --n_epoch to train on.")
    elif restored:
        log.info(f"resuming from {restored}: epoch {state.epoch + 1}, batch "
                 f"{state.batch} of {run.batches}, step {state.step} ({run.phase_name()})")
    return run.loop()


class _Run:
    """The epoch loop of one run: its phases, steps, logs and stop handling; its checkpoints
    are SavePoints' (srgan/training/checkpoints.py)."""

    def __init__(self, config: TrainConfig, folder: Path, photos: PhotoSet,
                 state: RunState, steps, limit: PhaseLimit | None = None):
        self.config = config
        self.limit = limit
        # Where a limit times the seed's MSE share of the GAN phase, its clock.
        self.mse_by_clock = limit.mse_share() if limit is not None else None
        self.folder = folder
        self.photos = photos
        self.state = state
        self.steps = steps
        self.total_epochs = config.n_epoch_init + config.n_epoch
        self.writer = EventWriter(folder / LOGS)
        self.saves = SavePoints(config, folder, photos, state, steps, self.writer)
        # --minutes_init's length is fitted once (then kept in settings.json); compare's
        # phases are timed by their limit instead.
        self.fit = (WarmupFit(config.minutes_init)
                    if config.minutes_init is not None and config.warmup_steps is None else None)

    def model_name(self) -> str:
        """The model and its size, as the first lines of a run name it."""
        return (f"{registry.spec(self.config.model).display_name} "
                f"({self.config.features} features x {self.config.blocks} blocks)")

    def crop(self) -> int:
        """HR size of this phase's crops: the critic fixes it for the GAN epochs."""
        return self.config.warmup_crop if self.warming_up() else self.config.hr_size

    @property
    def batches(self) -> int:
        crops = int(crop_areas(self.photos, self.crop()).sum())
        return steps_per_epoch(crops, self.config.batch_size, self.steps.replicas)

    def keep_share_of_epoch(self, previous: dict) -> None:
        """A run resumed inside an epoch with another --batch_size (or, in the warm-up,
        --warmup_crop) goes on from the same share of the epoch: its batch position was
        counted in batches of the old size."""
        config, defaults = self.config, TrainConfig()
        old_batch_size = previous.get("batch_size", defaults.batch_size)
        old_crop = (previous.get("warmup_crop") or previous.get("hr_size", defaults.hr_size)
                    if self.warming_up() else config.hr_size)
        old = steps_per_epoch(int(crop_areas(self.photos, old_crop).sum()), old_batch_size,
                              self.steps.replicas)
        if old == self.batches:
            return
        done = self.state.batch
        self.state.batch = min(self.batches, round(done * self.batches / old))
        log.info(f"the epoch was stopped at batch {done} of {old} (--batch_size {old_batch_size}"
                 + (f", --warmup_crop {old_crop}" if self.warming_up() else "")
                 + f"); it goes on from the same share, batch {self.state.batch} of {self.batches}")

    def warming_up(self) -> bool:
        return self.state.epoch < self.config.n_epoch_init

    def phase_name(self) -> str:
        return "generator warm-up" if self.warming_up() else "GAN training"

    def phase(self) -> str:
        return WARMUP if self.warming_up() else GAN

    def out_of_time(self) -> bool:
        return self.limit is not None and self.limit.reached()

    def warmup_over(self) -> bool:
        """Whether the warm-up has run the steps fitted to --minutes_init."""
        steps = self.config.warmup_steps
        return self.warming_up() and steps is not None and self.state.step >= steps

    def loop(self) -> bool:
        """Trains to the last epoch (under a limit, to the end of its phase), or until a
        stop request; True if done. The logs are flushed however it ends."""
        try:
            return self._loop()
        finally:
            self.writer.close()

    def _loop(self) -> bool:
        with StopRequest() as stop:
            batches = None
            while self.state.epoch < self.total_epochs:
                if self.warmup_over():
                    self.end_warmup()
                    batches = None
                    continue
                if self.limit is not None and self.phase() != self.limit.phase:
                    label = f"the {self.limit.phase} phase is over (step {self.state.step})"
                    # Its last epoch is saved where --save_every skipped it: the next
                    # phase's call resumes from it.
                    if self.state.saved_step != self.state.step:
                        self.save_point(label)
                    else:
                        log.info(label)
                    return True
                if batches is None or self.state.epoch == self.config.n_epoch_init:
                    batches = self.batches_to_phase_end()
                saved = None
                if self.run_epoch(stop, batches):
                    epoch = self.state.epoch
                    if epoch % self.config.save_every == 0 or epoch == self.total_epochs:
                        saved = self.save_point(f"epoch {epoch}")
                # A stop that came during the last epoch's save stops nothing: the run is done.
                if stop.requested and not (saved and self.state.epoch == self.total_epochs):
                    saved = saved or self.state.save()
                    log.info(f"stopped in epoch {self.state.epoch + 1}, batch {self.state.batch}, "
                             f"step {self.state.step}: saved {saved}. Run the same command to resume.")
                    return False
                if self.out_of_time():
                    self.end_phase_early(saved)
                    return True
        finished = f"training finished: {self.total_epochs} epochs, step {self.state.step}"
        # Where the run validated below the shipped generator, inference keeps the shipped
        # one unless the run is named (srgan/evaluation/provenance.py): say so now.
        below = provenance.below_shipped(provenance.source_of(self.state.latest))
        if below is None:
            log.info(f"{finished}; testing, upscale and export now use this run, {self.folder}")
        else:
            log.info(finished)
            log.warning(f"{below}: testing, upscale and export keep the shipped generator unless "
                        f"you name this run (--checkpoint_dir {self.folder})")
        return True

    def save_point(self, label: str) -> str:
        """A checkpoint as every scheduled one (srgan/training/checkpoints.py); its path."""
        return self.saves.save(label, self.crop())

    def end_phase_early(self, saved: str | None) -> None:
        """The limit's minutes are used: a warm-up ends here (the run's next call trains
        the GAN phase), and the phase's last checkpoint is saved as an epoch's would be."""
        phase, step = self.phase(), self.state.step
        if phase == WARMUP:
            self.state.epoch = self.config.n_epoch_init
            self.state.batch = 0
        elif saved is not None:
            return  # the epoch that used the minutes up has just been saved
        self.save_point(f"the {phase} phase's time budget is used at step {step}")

    def end_warmup(self) -> None:
        """The warm-up's fitted steps are done: the GAN phase starts at the next step, and
        the warm-up's last checkpoint is saved as an epoch's would be."""
        minutes = self.config.minutes_init
        label = (f"the warm-up's {self.config.warmup_steps} steps"
                 + ("" if minutes is None else f" (fitted to --minutes_init {minutes:g})") + " are done")
        self.state.epoch = self.config.n_epoch_init
        self.state.batch = 0
        if self.state.saved_step != self.state.step:
            self.save_point(label)
        else:
            log.info(f"{label}: saved {self.state.save()}")

    def fit_warmup(self) -> None:
        """After a warm-up step: once the step rate is timed, the warm-up's length, saved
        with the run's settings before any checkpoint that follows it."""
        steps = self.fit.step_done(self.state.step)
        if steps is None:
            return
        self.config = dataclasses.replace(self.config, warmup_steps=steps)
        save_settings(self.config, self.folder)
        rate = "" if self.fit.rate is None else f"{self.fit.rate:.1f} warm-up steps/s: "
        log.info(f"{rate}the warm-up ends at step {steps}, to fill --minutes_init "
                 f"{self.config.minutes_init:g} (kept in settings.json, so a resumed run ends it "
                 "there too)")
        self.fit = None

    def batches_to_phase_end(self) -> Iterator:
        """The batches from the run's epoch and batch to the end of its phase, whose crops
        differ (--warmup_crop): one dataset for them all, not one an epoch."""
        config, epoch = self.config, self.state.epoch
        end = config.n_epoch_init if self.warming_up() else self.total_epochs
        data = training_dataset(self.photos, config.batch_size, epoch, config.seed, self.crop(),
                                skip_batches=self.state.batch, replicas=self.steps.replicas,
                                epochs=end - epoch)
        return self.steps.distribute(data)

    def run_epoch(self, stop: StopRequest, batches: Iterator) -> bool:
        """Trains the rest of the current epoch on `batches`; False if a stop request cut
        it short."""
        config, state = self.config, self.state
        epoch = state.epoch
        warming_up = self.warming_up()
        rate = learning_rate(config, epoch, state.step)
        self.steps.set_learning_rate(rate)
        by_step = warming_up and rate_by_step(config)
        use_mse = content_is_mse(config, epoch)
        done = state.batch
        bar = tqdm(itertools.islice(batches, self.batches - done), total=self.batches, initial=done,
                   unit="batch", dynamic_ncols=True,
                   desc=f"epoch {epoch + 1}/{self.total_epochs}" + (" warm-up" if warming_up else ""))
        with bar:
            for lr, hr in bar:
                if stop.requested or self.out_of_time() or self.warmup_over():
                    return False
                if by_step:
                    rate = learning_rate(config, epoch, state.step)
                    self.steps.set_learning_rate(rate)
                if warming_up:
                    if self.fit is not None:
                        self.fit.begin()
                    losses = self.steps.warmup_step(lr, hr)
                else:
                    epsilon = penalty_draws(config.seed, state.step, self.steps.global_batch(hr))
                    losses = {**self.steps.critic_step(lr, hr, epsilon),
                              **self.steps.generator_step(lr, hr, self.mse_by_clock() if self.mse_by_clock
                                                   else use_mse)}
                values = {name: float(value) for name, value in losses.items()}
                self.check_finite(values)
                state.batch += 1
                state.step += 1
                if warming_up and self.fit is not None:
                    self.fit_warmup()
                bar.set_postfix({name: f"{value:.4g}" for name, value in values.items()}, refresh=False)
                for name, value in values.items():
                    self.writer.scalar(f"loss/{name}", value, state.step)
            self.writer.scalar("learning_rate", rate, state.step)
            self.writer.flush()
        if state.batch != self.batches:
            # One dataset spans the phase: a short epoch would shift every later one.
            raise RuntimeError(f"epoch {epoch + 1} gave {state.batch} batches, not {self.batches}")
        state.epoch += 1
        state.batch = 0
        return True

    def check_finite(self, values: dict[str, float]) -> None:
        bad = [name for name, value in values.items() if not math.isfinite(value)]
        if bad:
            last = self.state.latest or "none yet"
            raise TrainingDiverged(
                f"the {', '.join(bad)} loss became {values[bad[0]]} at step {self.state.step + 1} "
                f"(epoch {self.state.epoch + 1}); stopped without saving. The last good checkpoint "
                f"is kept: {last}. Try a lower --lr_init.")
