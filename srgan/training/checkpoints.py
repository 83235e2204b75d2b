"""What every scheduled checkpoint of a run does before it saves: precise BatchNorm
statistics, the sample grids, validation and the best checkpoint by PSNR-Y."""

import itertools
import logging
from pathlib import Path

from srgan.config import TrainConfig
from srgan.data.images import save_png
from srgan.data.pipeline import PhotoSet, sample_batch, training_dataset
from srgan.evaluation.curve import VALIDATION_TAG
from srgan.evaluation.validation import Validator
from srgan.inference.upscale import tile_margin
from srgan.models import registry
from srgan.run import best
from srgan.run.events import EventWriter
from srgan.run.state import RunState
from srgan.training.batchnorm import recompute_batchnorm_statistics
from srgan.training.samples import sample_grid, validation_batch

log = logging.getLogger(__name__)

SAMPLES = 8


class SavePoints:
    """The checkpoints of one run: each as every scheduled one, whatever made it (an
    epoch, a phase's end, a time budget)."""

    def __init__(self, config: TrainConfig, folder: Path, photos: PhotoSet, state: RunState,
                 steps, writer: EventWriter):
        self.config = config
        self.folder = folder
        self.photos = photos
        self.state = state
        self.steps = steps
        self.writer = writer
        self.samples = {"train": sample_batch(photos, SAMPLES, config.hr_size)}
        valid = validation_batch(Path(config.data_dir) / "test", SAMPLES, config.hr_size)
        if valid is not None:
            self.samples["valid"] = valid
        self.validator = None
        if config.val_images and valid is not None:
            self.validator = Validator(steps.generator, Path(config.data_dir), config.val_images,
                                       tile_margin(config.model, config.blocks))
        if config.val_images and not self.validates():
            test = Path(config.data_dir) / "test"
            log.info(f"no validation: {test} holds no photo of at least {config.hr_size} px that "
                     "can be read" + ("" if test.is_dir() else " (it is not a folder)")
                     + "; held-out scores, best/ and the validation samples are off")
        self.best_record = None
        if self.validates():
            best.check_writable(folder)
            self.best_record = best.read_record(folder)

    def validates(self) -> bool:
        return self.validator is not None and len(self.validator) > 0

    def save(self, label: str, crop: int) -> str:
        """A checkpoint, its BatchNorm statistics from training batches of `crop` px (the
        phase's), logged with `label`; returns its path."""
        epoch = self.state.epoch
        self.steps.sync()
        self.recompute_batchnorm(crop)
        self.save_samples(epoch)
        # The best first: where it cannot be saved, neither is the epoch, so the rerun
        # that follows a fix validates the epoch again.
        validation = self.validate(epoch)
        saved = self.state.save()
        self.writer.flush()
        log.info(f"{label}: saved {saved}" + validation)
        return saved

    def recompute_batchnorm(self, crop: int) -> None:
        """Precise BatchNorm statistics for the checkpoint (srgan/training/batchnorm.py),
        from the first --bn_batches batches of a fixed shuffle of the training crops.

        Done only at the scheduled saves, which an interrupted and resumed run reaches
        alike: the trainable weights never depend on the moving statistics, and the
        statistics saved are a function of the weights, so resuming stays exact.
        """
        config = self.config
        if not config.bn_batches:
            return
        # A fixed epoch number outside any real epoch's: the same batches at every save.
        data = training_dataset(self.photos, config.batch_size, -1, config.seed, crop)
        recompute_batchnorm_statistics(self.steps.generator,
                                       (lr for lr, _ in itertools.islice(data, config.bn_batches)))
        self.steps.reload()

    def validate(self, epoch: int) -> str:
        """Scores the generator on the validation photos, logs the scores, keeps the best
        checkpoint by PSNR-Y; returns the text for the log line."""
        if not self.validates():
            return ""
        scores = self.validator.score()
        step = self.state.step
        for name, value in scores.items():
            self.writer.scalar(f"{VALIDATION_TAG}{name}", value, step)
            self.writer.scalar(f"{VALIDATION_TAG}bicubic_{name}", self.validator.bicubic[name], step)
        text = (f"; validation on {len(self.validator)} photos: PSNR-Y {scores['psnr_y']:.2f} dB "
                f"(bicubic {self.validator.bicubic['psnr_y']:.2f}), SSIM-Y {scores['ssim_y']:.4f} "
                f"(bicubic {self.validator.bicubic['ssim_y']:.4f})")
        if self.best_record is None or scores["psnr_y"] > self.best_record["psnr_y"]:
            record = best.Record(epoch=epoch, step=step, checkpoint=self.state.save_best(),
                                 psnr_y=scores["psnr_y"], ssim_y=scores["ssim_y"])
            best.write_record(self.folder, record)
            self.best_record = record
            text += ", the best so far"
        return text

    def save_samples(self, epoch: int) -> None:
        for name, hr in self.samples.items():
            grid = sample_grid(self.steps.generator, hr, registry.spec(self.config.model).display_name)
            save_png(self.folder / "samples" / f"{name}_epoch{epoch:05d}.png", grid)
            self.writer.image(f"samples/{name}", grid, self.state.step)
