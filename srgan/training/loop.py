"""The training run: data, networks, resume, the epoch loop, checkpoints and logs."""

import math
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from srgan.config import TrainConfig, architecture_mismatch, load_settings, save_settings
from srgan.data.demo import build_demo_set
from srgan.data.images import list_images, save_png
from srgan.data.pipeline import PhotoSet, load_photo_set, sample_batch, steps_per_epoch, training_dataset
from srgan.errors import UserError
from srgan.losses.content import content_loss, mse_loss
from srgan.losses.perceptual import VGG54_LAYER, build_vgg_features, vgg54_loss
from srgan.models import build_networks
from srgan.training.checkpointing import RunLock, RunState, move_aside
from srgan.training.interrupt import StopRequest
from srgan.training.samples import sample_grid, validation_batch
from srgan.training.steps import SRGANSteps, TrainSteps, WSRGANSteps

SAMPLES = 8
# The seed switches from MSE to the SSIM content loss after 4% of the GAN epochs (ref).
MSE_FRACTION = 0.04


def log(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


class TrainingDiverged(UserError):
    pass


def load_training_photos(config: TrainConfig, data_dir_given: bool) -> PhotoSet:
    """The photos in DATA_DIR/train; on a fresh clone, the demo set built there first."""
    data_dir = Path(config.data_dir)
    train_dir = data_dir / "train"
    if data_dir_given and not (train_dir.is_dir() and list_images(train_dir)):
        raise UserError(f"no training photos in {train_dir}. Put photos there "
                        "(or run --mode=prepare), or leave out --data_dir to train on the demo set.")
    if not (train_dir.is_dir() and list_images(train_dir)):
        n_train, n_test = build_demo_set(data_dir, config.hr_size)
        log(f"{train_dir} was empty: built the demo set from scikit-image's photos "
            f"({n_train} training and {n_test} test patches of {config.hr_size} px). "
            "See the README to train on STL10 instead.")
    photos, skipped = load_photo_set(train_dir, config.hr_size)
    if skipped:
        log(f"skipped {len(skipped)} file(s) in {train_dir}:\n  " + "\n  ".join(skipped))
    if len(photos) == 0:
        raise UserError(f"none of the files in {train_dir} is a photo of at least "
                        f"{config.hr_size}x{config.hr_size} px")
    return photos


def resolve_settings(config: TrainConfig, folder: Path) -> None:
    """Checks the saved run against the flags and fills in what it fixed (the seed)."""
    saved = load_settings(folder)
    if saved is not None:
        mismatch = architecture_mismatch(saved, config)
        if mismatch:
            raise UserError(f"{folder} holds a run of another architecture:\n  "
                            + "\n  ".join(mismatch)
                            + "\nUse the saved values, another --checkpoint_dir, or --restart.")
        if config.seed is None:
            config.seed = saved.get("seed")
    if config.seed is None:
        config.seed = secrets.randbelow(2**31)


def learning_rate(config: TrainConfig, epoch: int) -> float:
    """lr_init during warm-up; then x lr_decay every decay period of GAN epochs."""
    gan_epoch = max(0, epoch - config.n_epoch_init)
    return config.lr_init * config.lr_decay ** (gan_epoch // config.decay_period)


def content_is_mse(config: TrainConfig, epoch: int) -> bool:
    """Whether the seed's generator trains on MSE in `epoch` (the first 4% of GAN
    epochs, ref) rather than on --content_loss."""
    return epoch - config.n_epoch_init < MSE_FRACTION * config.n_epoch


def model_losses(config: TrainConfig) -> tuple[keras.Model | None, Callable]:
    """(VGG for the seed's perceptual term or None, the generator's content loss).

    The seed's model: --content_loss, plus VGG19 block4_pool unless --vgg_weights none.
    The baselines: their content term is VGG54 itself; with --vgg_weights none it
    falls back to pixel MSE (the paper's SRResNet-MSE / SRGAN-MSE variant).
    """
    if config.model == "seed":
        content = content_loss(config.content_loss)
        vgg = None if config.vgg_weights == "none" else build_vgg_features(config.vgg_weights)
        return vgg, content
    if config.vgg_weights == "none":
        log(f"--model {config.model} with --vgg_weights none: the content term is pixel MSE "
            "instead of VGG54 (SRGAN-MSE).")
        return None, mse_loss
    vgg54 = build_vgg_features(config.vgg_weights, VGG54_LAYER, config.hr_size)
    return None, lambda hr, sr: vgg54_loss(vgg54, hr, sr)


def optimizers(config: TrainConfig) -> tuple[keras.optimizers.Optimizer, keras.optimizers.Optimizer]:
    """The seed: RMSProp (ref). The baselines: Adam with beta1 0.9, as the SRGAN paper;
    W-SRGAN is "SRGAN trained as a WGAN-GP", so it keeps SRGAN's optimizer."""
    if config.model == "seed":
        return keras.optimizers.RMSprop(config.lr_init), keras.optimizers.RMSprop(config.lr_init)
    return (keras.optimizers.Adam(config.lr_init, beta_1=0.9),
            keras.optimizers.Adam(config.lr_init, beta_1=0.9))


def step_class(model: str) -> type[TrainSteps]:
    """The compiled steps of `model` (looked up when called, so tests can replace one)."""
    return {"seed": TrainSteps, "srgan": SRGANSteps, "wsrgan": WSRGANSteps}[model]


def train(config: TrainConfig, restart: bool = False, data_dir_given: bool = False,
          deadline: float | None = None) -> bool:
    """Trains (or resumes) the run in config.checkpoint_dir; True once all its epochs are done.

    `deadline` (time.monotonic()) stops the run as SIGTERM would: a checkpoint is
    saved and the same call resumes it.
    """
    config.validate()
    if config.model == "seed":
        content_loss(config.content_loss)  # an unknown name fails before the lock is taken
    folder = Path(config.checkpoint_dir)
    if restart:
        moved = move_aside(folder)
        if moved is not None:
            log(f"--restart: the previous run was moved to {moved}")
    with RunLock(folder):
        resolve_settings(config, folder)
        photos = load_training_photos(config, data_dir_given)
        vgg, content = model_losses(config)

        keras.utils.set_random_seed(config.seed)
        generator, critic = build_networks(config.model, config.features, config.blocks,
                                           config.hr_size)
        generator_optimizer, critic_optimizer = optimizers(config)
        rng = tf.random.Generator.from_seed(config.seed)
        state = RunState(folder, generator, critic, generator_optimizer, critic_optimizer, rng)
        restored = state.restore()
        save_settings(config, folder)
        steps = step_class(config.model)(generator, critic, generator_optimizer, critic_optimizer,
                                    vgg, rng, content)
        run = _Run(config, folder, photos, state, steps, deadline)
        if restored:
            log(f"resuming from {restored}: epoch {int(state.epoch) + 1}, batch "
                f"{int(state.batch)} of {run.batches}, step {int(state.step)} ({run.phase_name()})")
        return run.loop()


class _Run:
    """The epoch loop of one run, with its logs, samples and stop handling."""

    def __init__(self, config: TrainConfig, folder: Path, photos: PhotoSet,
                 state: RunState, steps: TrainSteps, deadline: float | None = None):
        self.config = config
        self.deadline = deadline
        self.folder = folder
        self.photos = photos
        self.state = state
        self.steps = steps
        self.batches = steps_per_epoch(len(photos), config.batch_size)
        self.total_epochs = config.n_epoch_init + config.n_epoch
        self.writer = tf.summary.create_file_writer(str(folder / "logs"))
        self.samples = {"train": sample_batch(photos, SAMPLES, config.hr_size)}
        valid = validation_batch(Path(config.data_dir) / "test", SAMPLES, config.hr_size)
        if valid is not None:
            self.samples["valid"] = valid

    def warming_up(self) -> bool:
        return int(self.state.epoch) < self.config.n_epoch_init

    def phase_name(self) -> str:
        return "generator warm-up" if self.warming_up() else "GAN training"

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def loop(self) -> bool:
        """Trains to the last epoch, or until a stop request or the deadline; True if done."""
        with StopRequest() as stop:
            while int(self.state.epoch) < self.total_epochs:
                saved = None
                if self.run_epoch(stop):
                    epoch = int(self.state.epoch)
                    if epoch % self.config.save_every == 0 or epoch == self.total_epochs:
                        self.save_samples(epoch)
                        saved = self.state.save()
                        log(f"epoch {epoch}: saved {saved}")
                if stop.requested or self.out_of_time():
                    saved = saved or self.state.save()
                    log(("time budget used: " if not stop.requested else "")
                        + f"stopped in epoch {int(self.state.epoch) + 1}, batch {int(self.state.batch)}, "
                        f"step {int(self.state.step)}: saved {saved}. Run the same command to resume.")
                    return False
        log(f"training finished: {self.total_epochs} epochs, step {int(self.state.step)}")
        return True

    def run_epoch(self, stop: StopRequest) -> bool:
        """Trains the rest of the current epoch; False if a stop request cut it short."""
        config, state = self.config, self.state
        epoch = int(state.epoch)
        warming_up = self.warming_up()
        rate = learning_rate(config, epoch)
        self.steps.generator_optimizer.learning_rate.assign(rate)
        self.steps.critic_optimizer.learning_rate.assign(rate)
        use_mse = tf.constant(content_is_mse(config, epoch))
        done = int(state.batch)
        data = training_dataset(self.photos, config.batch_size, epoch, config.seed,
                                config.hr_size, skip_batches=done)
        bar = tqdm(data, total=self.batches, initial=done, unit="batch", dynamic_ncols=True,
                   desc=f"epoch {epoch + 1}/{self.total_epochs}" + (" warm-up" if warming_up else ""))
        with bar, self.writer.as_default(step=int(state.step)):
            for lr, hr in bar:
                if stop.requested or self.out_of_time():
                    return False
                if warming_up:
                    losses = self.steps.warmup_step(lr, hr)
                else:
                    losses = {**self.steps.critic_step(lr, hr),
                              **self.steps.generator_step(lr, hr, use_mse)}
                values = {name: float(value) for name, value in losses.items()}
                self.check_finite(values)
                state.batch.assign_add(1)
                state.step.assign_add(1)
                bar.set_postfix({name: f"{value:.4g}" for name, value in values.items()}, refresh=False)
                for name, value in values.items():
                    tf.summary.scalar(f"loss/{name}", value, step=int(state.step))
            tf.summary.scalar("learning_rate", rate, step=int(state.step))
        state.epoch.assign_add(1)
        state.batch.assign(0)
        return True

    def check_finite(self, values: dict[str, float]) -> None:
        bad = [name for name, value in values.items() if not math.isfinite(value)]
        if bad:
            last = self.state.manager.latest_checkpoint or "none yet"
            raise TrainingDiverged(
                f"the {', '.join(bad)} loss became {values[bad[0]]} at step {int(self.state.step) + 1} "
                f"(epoch {int(self.state.epoch) + 1}); stopped without saving. The last good checkpoint "
                f"is kept: {last}. Try a lower --lr_init.")

    def save_samples(self, epoch: int) -> None:
        for name, hr in self.samples.items():
            grid = sample_grid(self.steps.generator, hr)
            save_png(self.folder / "samples" / f"{name}_epoch{epoch:05d}.png", grid)
            with self.writer.as_default():
                tf.summary.image(f"samples/{name}", grid[np.newaxis], step=int(self.state.step))
