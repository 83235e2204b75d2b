"""The checks a command passes before TensorFlow is imported, which takes 10 to 20 s on a
small CPU: flag ranges, paths that must exist, a folder flag that names a file, an
--input that is no photo by its header, and the environment variables
(srgan/runtime/environment.py). A bad command so answers in about a second.

Each check lives beside the code it guards, in a module free of TensorFlow, and that
code runs it again for its other callers; this module gathers them into one check per
mode (srgan/cli/modes.py says which is whose), and holds the command line's own.
"""

import argparse
import errno
import os
from pathlib import Path

from srgan.cli.flags import train_fields
from srgan.config import TrainConfig, check_time_budget
from srgan.data.prepare_options import check_mirror, check_options, source_path
from srgan.errors import UserError
from srgan.evaluation.methods import parse_compare
from srgan.inference.inputs import check_margin, check_tile, photo_inputs
from srgan.inference.outputs import OutputOptions
from srgan.losses import check_vgg_weights
from srgan.runtime import environment

# The flags that name a folder the mode writes into or reads from.
FOLDER_FLAGS = ("checkpoint_dir", "data_dir", "results_dir", "output")
# What --checkpoint calls the shipped generator (srgan/inference/pretrained.py: NAME,
# which imports Keras).
SHIPPED = "pretrained"


def check_folder(flag: str, value: str) -> None:
    """UserError where the folder --`flag` names, or one above it, is a file: nothing
    can be read from or written into it."""
    path = Path(value)
    for folder in (path, *path.parents):
        if folder.is_dir():
            return
        if folder.exists():
            where = "" if folder == path else f": {folder}"
            raise UserError(f"--{flag} {path}{where} is a file, not a folder")


def check_checkpoint(given: str, value: str) -> None:
    """UserError where `value`, as the flag `given` names it, is nothing there: neither a
    run's folder nor a checkpoint (ckpt-N, whose file is ckpt-N.npz, or ckpt-N.index
    and ckpt-N.data-* where an earlier version saved it), nor `pretrained`."""
    path = Path(value)
    if value != SHIPPED and not (path.exists() or Path(f"{path}.npz").exists()
                                 or Path(f"{path}.index").exists()):
        raise UserError(f"{given} does not exist: give a checkpoint such as "
                        f"checkpoint/ckpt-1000, a run's folder, or {SHIPPED} (the shipped one)")


def _data_dir(args: argparse.Namespace) -> None:
    if args.data_dir is not None and not Path(args.data_dir).is_dir():
        raise UserError(f"--data_dir {args.data_dir} does not exist: give a folder with train/ "
                        "and test/, or leave it out for data2017/ (--mode=prepare fills one)")


def check_train(args: argparse.Namespace) -> None:
    config = TrainConfig(**train_fields(args))
    config.validate()
    check_vgg_weights(config.vgg_weights)
    _data_dir(args)
    if config.strategy in ("auto", "multiworker"):  # the strategies that read TF_CONFIG
        environment.tf_config()
        environment.worker_wait()


def check_compare(args: argparse.Namespace) -> None:
    check_train(args)
    check_time_budget(args.n_epoch_init, args.minutes_init, args.minutes)
    check_tile(args.tile)


def check_writable(flag: str, value: str) -> None:
    """UserError where the folder --`flag` names could not be written: it, or the nearest
    folder above it that exists, refuses new files. Found before the work, not after it."""
    path = Path(value)
    folder = next(folder for folder in (path, *path.parents) if folder.exists())  # "." or "/" at last
    if not os.access(folder, os.W_OK | os.X_OK):
        where = "" if folder == path else f" (the folder {folder}, where it would be made)"
        raise UserError(f"--{flag} {path} is not writable{where}: {os.strerror(errno.EACCES)}")


def _inference(args: argparse.Namespace) -> None:
    """What testing, upscale and export share: --checkpoint, --checkpoint_dir, the output
    folder, and the tiles where taken."""
    if args.checkpoint is not None:
        check_checkpoint(f"--checkpoint {args.checkpoint}", args.checkpoint)
    if hasattr(args, "tile"):
        check_tile(args.tile)
        check_margin(args.margin)
    if args.checkpoint is None and args.checkpoint_dir is not None and not Path(args.checkpoint_dir).exists():
        # A misspelt folder would otherwise fall back on the shipped generator in silence.
        raise UserError(f"--checkpoint_dir {args.checkpoint_dir} does not exist: give a run's "
                        f"folder, or leave the flag out ({TrainConfig().checkpoint_dir}/, or the "
                        f"shipped generator where it holds no run), or pass --checkpoint {SHIPPED}")
    for flag in ("output", "results_dir"):
        if getattr(args, flag, None) is not None:
            check_writable(flag, getattr(args, flag))


def check_testing(args: argparse.Namespace) -> None:
    _inference(args)
    for name, path in parse_compare(args.compare):
        check_checkpoint(f"--compare {name}={path}", str(path))
    _data_dir(args)


def output_options(args: argparse.Namespace) -> OutputOptions:
    """Upscale's output flags, checked."""
    options = OutputOptions(args.outscale, args.suffix, args.ext, args.quality, args.recursive,
                            args.skip_existing)
    options.check()
    return options


def check_upscale(args: argparse.Namespace) -> None:
    _inference(args)
    if args.input is None:
        raise UserError("--mode=upscale needs --input PHOTO_OR_FOLDER")
    output_options(args)
    photo_inputs(Path(args.input), args.recursive)


def check_prepare(args: argparse.Namespace) -> None:
    source_path(args.source)
    check_mirror(args.source, args.mirror)
    check_options(args.size, args.unlabeled, args.test_fraction, args.patch, args.test_patch,
                  args.min_detail, args.hr)


def check_export(args: argparse.Namespace) -> None:
    backend = environment.keras_backend()
    if backend != "tensorflow":
        raise UserError(f"--mode=export writes a TensorFlow SavedModel, which needs Keras on "
                        f"TensorFlow; this process runs on {backend}. Run it with KERAS_BACKEND "
                        "unset or set to tensorflow (the checkpoints are the same for both).")
    _inference(args)
