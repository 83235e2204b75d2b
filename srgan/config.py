"""A training run's settings: the seed's hyper-parameters as defaults.

A run saves them as settings.json beside its checkpoints (srgan/run/settings.py), so
that resuming, testing and exporting rebuild the same networks without the flags; so
every mode reads them, and this module sits below the run folder and inference. The
valid model names are the registry's; a model's default rate is its training recipe's
(srgan/training/recipe.py), which fills it in when a run starts.
"""

import dataclasses

from srgan.errors import UserError
from srgan.losses import CONTENT_LOSSES
from srgan.models import registry
from srgan.runtime import PRECISIONS, STRATEGIES

# rmsprop is TF1's rule (the seed's reference), keras_rmsprop Keras' (srgan/training/rmsprop.py).
OPTIMIZERS = ("rmsprop", "keras_rmsprop", "adam")
WARMUP_OPTIMIZERS = ("same", *OPTIMIZERS)
WARMUP_SCHEDULES = ("constant", "cosine")
# How a new run's weights start (srgan/models/initializers.py): the seed's reference code,
# Keras' defaults, or the shipped generator (a fine-tune; its critic as the reference's).
INITS = ("reference", "glorot", "pretrained")
# The random seed seeds NumPy too (keras.utils.set_random_seed), which takes 32 bits.
SEED_LIMIT = 2**32


# Frozen: a run's settings are built once; what changes them (a resumed run's saved
# values, the warm-up's fitted length) makes a new one.
@dataclasses.dataclass(frozen=True)
class TrainConfig:
    model: str = "seed"
    features: int = 64
    blocks: int = 16
    hr_size: int = 48
    batch_size: int = 16
    lr_init: float | None = None  # None: the model's rate (its recipe, srgan/training/recipe.py)
    lr_decay: float = 0.5
    decay_every: int | None = None  # None: n_epoch // 2, as the seed
    n_epoch: int = 10000
    n_epoch_init: int = 0
    save_every: int = 10
    seed: int | None = None  # None: drawn once, then saved with the run
    content_loss: str = "ssim"
    vgg_weights: str = "imagenet"
    # Not in the seed: ways to make the MSE warm-up learn faster (docs/MODEL.md, "The recipe that made it").
    # The defaults keep the seed's behaviour: the GAN phase's optimizer and rate,
    # constant, on hr_size crops.
    warmup_optimizer: str = "same"
    warmup_lr: float | None = None  # None: the GAN phase's rate
    warmup_schedule: str = "constant"
    warmup_crop: int | None = None  # HR px of warm-up crops; None: hr_size
    # A wall-clock budget for the warm-up, and the length in steps the run fits to it once
    # it has timed its steps (srgan/training/budget.py). The length is no flag: the run
    # writes it into settings.json, so a resumed run ends its warm-up, and its cosine,
    # at the same step.
    minutes_init: float | None = None
    warmup_steps: int | None = None
    # None: "reference" for a new run; a resumed one keeps what started it (settings.json).
    init: str | None = None
    # auto (mixed_bfloat16 where the hardware runs it fast): at equal minutes of warm-up,
    # bfloat16 reached a higher held-out PSNR-Y and SSIM-Y than float32, whose quality per
    # step it nearly matches (bench/measure/time_to_quality.py; docs/PERFORMANCE.md).
    precision: str = "auto"
    jit: bool = False
    strategy: str = "auto"  # srgan/runtime/distribute.py
    val_images: int = 64
    bn_batches: int = 32
    data_dir: str = "data2017"
    checkpoint_dir: str = "checkpoint"

    def __post_init__(self) -> None:
        if self.warmup_crop is None:
            object.__setattr__(self, "warmup_crop", self.hr_size)

    @property
    def decay_period(self) -> int:
        return self.decay_every or max(1, self.n_epoch // 2)

    @property
    def weights_init(self) -> str:
        """The scheme the networks are built with: the shipped generator's weights are
        loaded over a reference build."""
        return "glorot" if self.init == "glorot" else "reference"

    def validate(self) -> None:
        if self.model not in registry.NAMES:
            raise UserError(f"--model must be one of {', '.join(registry.NAMES)}, got {self.model!r}")
        positive = ("features", "batch_size", "save_every", "hr_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise UserError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if self.blocks < 0 or self.n_epoch_init < 0 or self.n_epoch < 0:
            raise UserError("--blocks, --n_epoch and --n_epoch_init must not be negative")
        if self.n_epoch + self.n_epoch_init < 1:
            raise UserError("nothing to train: give --n_epoch or --n_epoch_init of at least 1")
        if self.decay_every is not None and self.decay_every < 1:
            raise UserError(f"--decay_every must be at least 1, got {self.decay_every}")
        if self.hr_size % 4:
            raise UserError(f"the HR size must be a multiple of 4, got {self.hr_size}")
        if not ((self.lr_init is None or self.lr_init > 0) and 0 < self.lr_decay <= 1):
            raise UserError("--lr_init must be positive and --lr_decay in (0, 1]")
        if self.warmup_lr is not None and not self.warmup_lr > 0:
            raise UserError(f"--warmup_lr must be positive, got {self.warmup_lr}")
        if self.warmup_crop < 4 or self.warmup_crop % 4:
            raise UserError(f"--warmup_crop must be a positive multiple of 4, got {self.warmup_crop}")
        choices = {"precision": PRECISIONS, "strategy": STRATEGIES, "warmup_optimizer": WARMUP_OPTIMIZERS,
                   "warmup_schedule": WARMUP_SCHEDULES, "content_loss": CONTENT_LOSSES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise UserError(f"--{name} must be one of {', '.join(allowed)}, "
                                f"got {getattr(self, name)!r}")
        if self.init not in (None, *INITS):
            raise UserError(f"--init must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.val_images < 0 or self.bn_batches < 0:
            raise UserError("--val_images and --bn_batches must not be negative")
        if self.seed is not None and not 0 <= self.seed < SEED_LIMIT:
            raise UserError(f"--seed must be from 0 to {SEED_LIMIT - 1}, got {self.seed}")
        check_time_budget(self.n_epoch_init, self.minutes_init, None)
        if self.warmup_steps is not None and self.warmup_steps < 1:
            raise UserError(f"the warm-up's fitted length must be at least 1 step, got {self.warmup_steps}")

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def check_time_budget(n_epoch_init: int, minutes_init: float | None,
                      minutes: float | None) -> None:
    """The time budgets (--minutes_init; --mode=compare's --minutes): positive, and a
    warm-up's only where there is one."""
    for name, value in (("minutes_init", minutes_init), ("minutes", minutes)):
        if value is not None and not value > 0:
            raise UserError(f"--{name} must be positive, got {value}")
    if minutes_init is not None and n_epoch_init == 0:
        raise UserError("--minutes_init is the warm-up's budget: give --n_epoch_init too "
                        "(the most warm-up epochs, if the minutes last)")
