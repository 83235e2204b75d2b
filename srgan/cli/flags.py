"""The command line's flags, each declared once with the modes that use it.

`python main.py --mode=MODE --help` lists MODE's flags alone; a flag given to a mode
that does not use it is an error naming the modes it belongs to, never silently
ignored. `python main.py` alone trains, as the seed's did.
"""

import argparse
import math
from collections.abc import Callable

from srgan.config import INITS, WARMUP_OPTIMIZERS, WARMUP_SCHEDULES, TrainConfig
from srgan.data.prepare_options import HR_CHOICES
from srgan.inference.outputs import EXTENSIONS
from srgan.losses import CONTENT_LOSSES
from srgan.models import registry
from srgan.runtime import PRECISIONS, STRATEGIES

TRAINING = ("train", "compare")
USE = ("testing", "upscale", "export")

# The shipped generator scores within 0.03 dB PSNR-Y of float32 in bfloat16 (docs/PERFORMANCE.md).
INFERENCE_PRECISION = "auto"

Add = Callable[..., None]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except where there is none to show (None, off switches)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or action.default == []:
            return action.help
        return super()._get_help_string(action)


def finite_float(text: str) -> float:
    """argparse's type for every number flag: a float, and finite. float() takes 'inf' and
    'nan', which no flag means (an infinite rate ran to NaN while saying "finished")."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _declare(add: Add) -> None:
    """Every flag: add(group, modes that use it, *names, **argparse keywords)."""
    # Long: one add() per flag, the one place each is declared; split up, a flag's group
    # and modes would be read in two places.
    defaults = TrainConfig()
    models = "; ".join(f"{spec.name}: {spec.help}" for spec in registry.MODELS.values())
    add("model", ("train", *USE), "--model", default=None, choices=registry.NAMES,
        help=f"{models}. Training: default {defaults.model}. Testing, upscale, export: default "
             "what the checkpoint holds; if given, it must match")
    add("model", TRAINING, "--features", type=int, default=defaults.features,
        help="feature maps of the generator (the seed's figure: 64)")
    add("model", TRAINING, "--blocks", type=int, default=defaults.blocks,
        help="residual blocks of the generator")

    add("training", TRAINING, "--batch_size", type=int, default=defaults.batch_size,
        help="photos per batch: the global batch, split over all replicas (the last batch of "
             "an epoch may be smaller)")
    add("training", TRAINING, "--lr_init", type=finite_float, default=None,
        help="learning rate of both networks (default: the seed's RMSProp 8e-5; the baselines' "
             "Adam 1e-4)")
    add("training", TRAINING, "--lr_decay", type=finite_float, default=defaults.lr_decay,
        help="learning-rate factor applied every --decay_every epochs")
    add("training", TRAINING, "--decay_every", type=int, default=None,
        help="epochs between learning-rate decays (default: n_epoch / 2)")
    add("training", TRAINING, "--n_epoch", type=int, default=defaults.n_epoch, help="GAN epochs")
    add("training", TRAINING, "--n_epoch_init", type=int, default=defaults.n_epoch_init,
        help="generator warm-up epochs on MSE alone, before the GAN epochs")
    add("training", TRAINING, "--save_every", type=int, default=defaults.save_every,
        help="epochs between checkpoints and sample grids")
    add("training", TRAINING, "--seed", type=int, default=None,
        help="random seed (default: drawn once and saved with the run)")
    add("training", TRAINING, "--content_loss", default=defaults.content_loss,
        choices=CONTENT_LOSSES, help="content loss after the first 4%% of epochs (MSE before)")
    add("training", TRAINING, "--vgg_weights", default=defaults.vgg_weights,
        help="VGG19 for the perceptual loss: imagenet, a weights file, or none")
    add("training", TRAINING, "--warmup_optimizer", default=defaults.warmup_optimizer,
        choices=WARMUP_OPTIMIZERS,
        help="optimizer of the MSE warm-up; same: the GAN phase's (the seed); rmsprop: "
             "TF1's rule, as the seed ran it; keras_rmsprop: Keras' variant")
    add("training", TRAINING, "--warmup_lr", type=finite_float, default=None,
        help="learning rate of the MSE warm-up (default: --lr_init)")
    add("training", TRAINING, "--warmup_schedule", default=defaults.warmup_schedule,
        choices=WARMUP_SCHEDULES,
        help="warm-up rate: constant, or cosine from --warmup_lr to 0 over the --n_epoch_init "
             "epochs (training with --minutes_init: over the steps fitted to it, step by step)")
    add("training", TRAINING, "--warmup_crop", type=int, default=None, metavar="HR_PX",
        help="HR crop size of the warm-up, a multiple of 4 (default: 48, the critic's; the "
             "generator takes any size)")
    add("training", TRAINING, "--val_images", type=int, default=defaults.val_images, metavar="N",
        help="validate on up to N photos of DATA_DIR/test at every checkpoint; 0 = off")
    add("training", TRAINING, "--bn_batches", type=int, default=defaults.bn_batches, metavar="N",
        help="before each checkpoint, set the generator's BatchNorm moving statistics to their "
             "mean over N training batches; 0 = off")
    add("training", ("train",), "--init", default=None, choices=INITS,
        help="how a new run's weights start: reference (default), as the seed's reference code: "
             "kernels N(0, 0.02), BatchNorm gammas N(1, 0.02); glorot, Keras' defaults; "
             "pretrained, the generator from the shipped one (a fine-tune). A resumed run "
             "keeps the one that started it")
    add("training", TRAINING, "--strategy", default=defaults.strategy, choices=STRATEGIES,
        help="one device; mirrored: every GPU of this machine (or SRGAN_CPU_DEVICES logical "
             "CPUs); multiworker: the machines TF_CONFIG names; auto: multiworker where "
             "TF_CONFIG names a cluster, else mirrored where more than one device is visible, "
             "else one (docs/PERFORMANCE.md, \"Many GPUs and machines\")")
    add("training", TRAINING, "--jit", action="store_true",
        help="compile the training steps with XLA (jit_compile=True)")
    add("training", ("compare",), "--minutes", type=finite_float, default=None,
        help="wall-clock budget of each model's GAN phase, ended by --n_epoch or by this, "
             "whichever comes first")
    add("training", TRAINING, "--minutes_init", type=finite_float, default=None,
        help="wall-clock budget of the warm-up (each model's, in compare), ended by "
             "--n_epoch_init or by this, whichever comes first. Training fits the warm-up's "
             "length in steps to it once it has timed its steps, and keeps it in settings.json")
    add("training", ("compare",), "--models", nargs="+", default=list(registry.NAMES),
        choices=registry.NAMES, metavar="MODEL",
        help=f"the models to train and score (default: all of {', '.join(registry.NAMES)}); "
             "e.g. one model again with another --seed and --checkpoint_dir")
    add("training", TRAINING, "--restart", action="store_true",
        help="start afresh; the previous run is moved aside, not deleted")

    add("prepare", ("prepare",), "--source", default=None,
        help="stl10 (download the official STL10 archive, about 2.6 GB), the path of "
             "stl10_binary.tar.gz or of an extracted stl10_binary/ folder; div2k (download "
             "DIV2K's two HR zips, about 4 GB), or a folder holding DIV2K_train_HR.zip and "
             "DIV2K_valid_HR.zip or their extracted folders; or a folder of your photos "
             "(searched recursively)")
    add("prepare", ("prepare",), "--mirror", default=None, metavar="URL",
        help="--source div2k: the URL of a folder that holds DIV2K_train_HR.zip and "
             "DIV2K_valid_HR.zip, in place of the official ETH Zurich site")
    add("prepare", ("prepare",), "--unlabeled", type=int, default=0, metavar="N",
        help="STL10: also put the first N of the 100,000 unlabeled photos in train/")
    add("prepare", ("prepare",), "--size", type=int, default=48,
        help="STL10: side of the HR photos written (96 keeps them whole); photo folders: photos "
             "under SIZE px are skipped")
    add("prepare", ("prepare",), "--hr", default=None, choices=HR_CHOICES,
        help="how the HR photos are made: downsize (STL10's default: each photo, or each "
             "--patch tile of a folder, downsized to --size px with antialiased bicubic, as the "
             "seed's README describes) or crop (a folder's default: photos or tiles kept at full "
             "size, training takes random 48 px crops of them each step, as the seed's code did "
             "with STL10's 96 px photos)")
    add("prepare", ("prepare",), "--test_fraction", type=finite_float, default=None,
        help="photo folders: share of the photos put in test/, fixed per photo by a hash of its "
             "path (default: 0.1; STL10 and DIV2K keep their own splits)")
    add("prepare", ("prepare",), "--patch", type=int, default=None,
        help="photo folders and DIV2K: cut each photo into PATCH x PATCH tiles instead of "
             "copying it whole")
    add("prepare", ("prepare",), "--test_patch", type=int, default=None,
        help="photo folders and DIV2K: cut the test photos alone into tiles of this size, "
             "keeping the training photos whole")
    add("prepare", ("prepare",), "--min_detail", type=finite_float, default=0.0,
        help="photo folders and DIV2K, with --patch or --test_patch: skip tiles whose mean luma "
             "difference between neighbouring pixels (across + down) is under this many "
             "levels: flat sky or blur, which any upscaler gets right")
    add("prepare", ("prepare",), "--overwrite", action="store_true",
        help="replace files of the same names already in DATA_DIR/train and test")

    add("use", USE, "--checkpoint", default=None, metavar="PATH",
        help="the checkpoint to use, e.g. checkpoint/ckpt-1000, or a run's folder (if not "
             "given: the newest intact one in --checkpoint_dir; pretrained: the shipped one)")
    add("use", ("testing",), "--compare", nargs="+", default=[], metavar="NAME=CKPT",
        help="more generators as more rows, each a checkpoint or a run's folder")
    add("use", ("testing", "compare"), "--results_dir", default=None,
        help="testing: where metrics.csv, summary.json/.md, comparison.png and the SR photos "
             "go (if not given: samples/testing); compare: also compare.md/.csv/.png (if not "
             "given: samples/compare)")
    add("use", ("upscale",), "--input", default=None, metavar="PHOTO_OR_FOLDER",
        help="a photo, or a folder of photos (its subfolders too with --recursive)")
    add("use", ("upscale",), "--outscale", type=finite_float, default=4.0, metavar="SCALE",
        help="the output's scale: the model's 4x, then a Lanczos resize to this (e.g. 2 or 3.5)")
    add("use", ("upscale",), "--suffix", default="",
        help="appended to each output's name: photo_x4.png for --suffix _x4")
    add("use", ("upscale",), "--ext", default="png", choices=EXTENSIONS,
        help="the outputs' format: png keeps everything (16-bit gray, alpha); jpg and webp take "
             "--quality")
    add("use", ("upscale",), "--quality", type=int, default=95, metavar="Q",
        help="jpg and webp quality, 1 to 100")
    add("use", ("upscale",), "--recursive", action="store_true",
        help="a folder's subfolders too, their tree mirrored under --output")
    add("use", ("upscale",), "--skip_existing", action="store_true",
        help="leave photos whose output is already in --output")
    add("use", ("upscale", "export"), "--output", default=None, metavar="DIR",
        help="upscale: where the 4x photos go (if not given: samples/upscaled); export: where "
             "the model goes (if not given: export)")
    add("use", ("testing", "upscale", "compare"), "--tile", type=int, default=128,
        metavar="LR_PX",
        help="run photos larger than this in tiles of this many LR px, so memory stays "
             "bounded; 0 = whole photos")
    add("use", ("testing", "upscale"), "--margin", type=int, default=None, metavar="LR_PX",
        help="LR px of context around each tile (default: the seed generator's measured "
             "effective margin; the baselines' full receptive field)")
    default_precision = (defaults.precision if defaults.precision == INFERENCE_PRECISION else
                         f"{defaults.precision} for training and compare, {INFERENCE_PRECISION} "
                         "for testing and upscale")
    add("compute", ("train", "testing", "upscale", "compare"), "--precision", default=None,
        choices=PRECISIONS,
        help="float32, or mixed precision with float32 weights; auto: mixed_bfloat16 where the "
             "hardware runs it fast (AMX/AVX512-BF16 CPUs, GPUs of compute capability 8.0+), "
             f"else float32. Default: {default_precision}")

    add("folders", ("train", "prepare", "testing", "compare"), "--data_dir", default=None,
        help=f"data folder with train/ and test/ (default: {defaults.data_dir}, filled with a "
             "demo set when empty)")
    # None where not given: testing, upscale and export then take the default folder's run
    # only where it did not validate below the shipped generator (srgan/evaluation/provenance.py).
    add("folders", ("train", *USE, "compare"), "--checkpoint_dir", default=None,
        help=f"the run's checkpoints, settings.json, TensorBoard logs and sample grids "
             f"(default: {defaults.checkpoint_dir})")


GROUPS = {"use": "the generator used, and where results go",
          "compute": "how the networks compute"}


def train_fields(args: argparse.Namespace) -> dict:
    """The TrainConfig fields given on the command line (the rest keep their defaults)."""
    return {name: getattr(args, name) for name in TrainConfig.__dataclass_fields__
            if getattr(args, name, None) is not None}


def flag_modes() -> dict[str, tuple[str, ...]]:
    """Each flag's name: the modes that take it."""
    table: dict[str, tuple[str, ...]] = {}

    def add(group: str, modes: tuple[str, ...], *names: str, **kwargs) -> None:
        table.update({name: modes for name in names})

    _declare(add)
    return table


def add_flags(parser: argparse.ArgumentParser, flags_of: str) -> None:
    """The flags of the mode `flags_of` added to `parser`, in their groups."""
    groups: dict = {}

    def add(group: str, modes: tuple[str, ...], *names: str, **kwargs) -> None:
        if flags_of in modes:
            if group not in groups:
                groups[group] = parser.add_argument_group(GROUPS.get(group, group))
            groups[group].add_argument(*names, **kwargs)

    _declare(add)
