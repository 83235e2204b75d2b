"""A training run's settings: the seed's hyper-parameters as defaults.

The settings are saved as JSON beside the checkpoint, so that resuming, testing and
exporting rebuild the same networks without repeating the flags.
"""

import dataclasses
import json
import types
import typing
from pathlib import Path

from srgan.errors import UserError
from srgan.files import write_text

SETTINGS_FILE = "settings.json"
# What fixes the shapes of the saved weights: resuming with other values cannot work.
ARCHITECTURE = ("model", "features", "blocks", "hr_size")
MODELS = ("seed", "srgan", "wsrgan")
# The seed's RMSProp rate; the baselines' Adam rate of the SRGAN paper.
LEARNING_RATES = {"seed": 8e-5, "srgan": 1e-4, "wsrgan": 1e-4}
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
WARMUP_OPTIMIZERS = ("same", "rmsprop", "adam")
WARMUP_SCHEDULES = ("constant", "cosine")
# The random seed seeds NumPy too (keras.utils.set_random_seed), which takes 32 bits.
SEED_LIMIT = 2**32


@dataclasses.dataclass
class TrainConfig:
    model: str = "seed"
    features: int = 64
    blocks: int = 16
    hr_size: int = 48
    batch_size: int = 16
    lr_init: float | None = None  # None: LEARNING_RATES[model]
    lr_decay: float = 0.5
    decay_every: int | None = None  # None: n_epoch // 2, as the seed
    n_epoch: int = 10000
    n_epoch_init: int = 0
    save_every: int = 10
    seed: int | None = None  # None: drawn once, then saved with the run
    content_loss: str = "ssim"
    vgg_weights: str = "imagenet"
    # Not in the seed: ways to make the MSE warm-up learn faster (README, "Recipe").
    # The defaults keep the seed's behaviour: the GAN phase's optimizer and rate,
    # constant, on hr_size crops.
    warmup_optimizer: str = "same"
    warmup_lr: float | None = None  # None: lr_init
    warmup_schedule: str = "constant"
    warmup_crop: int | None = None  # HR px of warm-up crops; None: hr_size
    init: str | None = None  # "pretrained": a fresh run starts from the shipped generator
    # float32: bfloat16 training did not match float32's held-out quality within 0.1 dB
    # in bench/bench_precision.py (README, "Precision and speed").
    precision: str = "float32"
    jit: bool = False
    val_images: int = 64
    bn_batches: int = 32
    data_dir: str = "data2017"
    checkpoint_dir: str = "checkpoint"

    def __post_init__(self) -> None:
        if self.lr_init is None:
            self.lr_init = LEARNING_RATES.get(self.model, LEARNING_RATES["seed"])
        if self.warmup_lr is None:
            self.warmup_lr = self.lr_init
        if self.warmup_crop is None:
            self.warmup_crop = self.hr_size

    @property
    def decay_period(self) -> int:
        return self.decay_every or max(1, self.n_epoch // 2)

    def validate(self) -> None:
        if self.model not in MODELS:
            raise UserError(f"--model must be one of {', '.join(MODELS)}, got {self.model!r}")
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
        if not (self.lr_init > 0 and 0 < self.lr_decay <= 1):
            raise UserError("--lr_init must be positive and --lr_decay in (0, 1]")
        if not self.warmup_lr > 0:
            raise UserError(f"--warmup_lr must be positive, got {self.warmup_lr}")
        if self.warmup_crop < 4 or self.warmup_crop % 4:
            raise UserError(f"--warmup_crop must be a positive multiple of 4, got {self.warmup_crop}")
        choices = {"precision": PRECISIONS, "warmup_optimizer": WARMUP_OPTIMIZERS,
                   "warmup_schedule": WARMUP_SCHEDULES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise UserError(f"--{name} must be one of {', '.join(allowed)}, "
                                f"got {getattr(self, name)!r}")
        if self.init not in (None, "pretrained"):
            raise UserError(f"--init must be pretrained, got {self.init!r}")
        if self.val_images < 0 or self.bn_batches < 0:
            raise UserError("--val_images and --bn_batches must not be negative")
        if self.seed is not None and not 0 <= self.seed < SEED_LIMIT:
            raise UserError(f"--seed must be from 0 to {SEED_LIMIT - 1}, got {self.seed}")

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def save_settings(config: TrainConfig, folder: Path) -> None:
    """Writes settings.json atomically, so a kill never leaves half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / SETTINGS_FILE, json.dumps(config.to_json(), indent=2) + "\n")


def _accepts(kind: object, value: object) -> bool:
    """Whether JSON `value` fits the field type `kind` (int, float, str, bool, X | None)."""
    if isinstance(kind, types.UnionType):
        return any(_accepts(option, value) for option in typing.get_args(kind))
    if kind is type(None):
        return value is None
    if isinstance(value, bool):  # JSON true/false is no number
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def load_settings(folder: Path) -> dict | None:
    """The settings saved in `folder`, checked field by field; None where there are none.

    Every known field must have its type and a value the flags would accept; unknown
    fields (from another version) are kept but not used.
    """
    path = folder / SETTINGS_FILE
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is damaged ({error}); move it away or pass --restart") from error
    if not isinstance(saved, dict):
        raise UserError(f"{path} is not a run's settings (a JSON {type(saved).__name__}, not an "
                        "object); move it away or pass --restart")
    fields = {field.name: field.type for field in dataclasses.fields(TrainConfig)}
    for name, value in saved.items():
        if name in fields and not _accepts(fields[name], value):
            raise UserError(f"{path}: {name} is {json.dumps(value)}, not of type "
                            f"{_type_name(fields[name])}; fix it, or move the run away")
    try:
        TrainConfig(**{name: value for name, value in saved.items() if name in fields}).validate()
    except UserError as error:
        raise UserError(f"{path} holds a value no run can have: {error}") from error
    return saved


def _type_name(kind: object) -> str:
    return " or ".join("null" if option is type(None) else option.__name__
                       for option in (typing.get_args(kind) or (kind,)))


def architecture_mismatch(saved: dict, config: TrainConfig) -> list[str]:
    """Lines naming each architecture setting that differs from the saved run."""
    defaults = TrainConfig()
    return [f"--{name} {getattr(config, name)} (the checkpoint has {saved.get(name, getattr(defaults, name))})"
            for name in ARCHITECTURE
            if saved.get(name, getattr(defaults, name)) != getattr(config, name)]
