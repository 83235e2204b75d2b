"""The command line: `python main.py --mode=MODE [flags]`."""

import argparse
import os
import sys
from pathlib import Path

from srgan.config import PRECISIONS, WARMUP_OPTIMIZERS, WARMUP_SCHEDULES, TrainConfig
from srgan.errors import UserError, describe_os_error, first_line, tensorflow_file_errors

MODES = {"train": "train a model (the default)", "esrgan": "the seed's name for train",
         "prepare": "fill DATA_DIR/train and test from STL10 or a photo folder (see --source)",
         "testing": "measure the trained generator against bicubic on DATA_DIR/test",
         "upscale": "write each photo of --input 4x larger into --output",
         "export": "write the generator as generator.keras and a SavedModel into --output",
         "compare": "train SRGAN, W-SRGAN and the seed's model alike and write the comparison "
                    "table (compare.md, compare.csv, compare.png) into --results_dir"}


# The shipped generator scores within 0.03 dB PSNR-Y of float32 in bfloat16 (README).
INFERENCE_PRECISION = "auto"


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except where there is none to show (None, off switches)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False, []):
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        prog="main.py", description="4x image super-resolution GAN (12x12 -> 48x48 by default).",
        formatter_class=_HelpFormatter)
    parser.add_argument("--mode", default="train", choices=MODES,
                        help="; ".join(f"{name}: {text}" for name, text in MODES.items()))

    model = parser.add_argument_group("model")
    model.add_argument("--model", default=None, choices=("seed", "srgan", "wsrgan"),
                       help="seed: the seed's generator and WGAN-GP critic; srgan: SRResNet and "
                            "SRGAN's discriminator (Ledig et al. 2017); wsrgan: SRResNet and a "
                            "WGAN-GP critic. Training: default seed. Testing, upscale, export: "
                            "default what the checkpoint holds; if given, it must match")
    model.add_argument("--features", type=int, default=defaults.features,
                       help="feature maps of the generator (the seed's figure: 64)")
    model.add_argument("--blocks", type=int, default=defaults.blocks,
                       help="residual blocks of the generator")

    train = parser.add_argument_group("training")
    train.add_argument("--batch_size", type=int, default=defaults.batch_size,
                       help="photos per batch (the last batch of an epoch may be smaller)")
    train.add_argument("--lr_init", type=float, default=None,
                       help="learning rate of both networks (default: the seed's RMSProp 8e-5; "
                            "the baselines' Adam 1e-4)")
    train.add_argument("--lr_decay", type=float, default=defaults.lr_decay,
                       help="learning-rate factor applied every --decay_every epochs")
    train.add_argument("--decay_every", type=int, default=None,
                       help="epochs between learning-rate decays (default: n_epoch / 2)")
    train.add_argument("--n_epoch", type=int, default=defaults.n_epoch, help="GAN epochs")
    train.add_argument("--n_epoch_init", type=int, default=defaults.n_epoch_init,
                       help="generator warm-up epochs on MSE alone, before the GAN epochs")
    train.add_argument("--save_every", type=int, default=defaults.save_every,
                       help="epochs between checkpoints and sample grids")
    train.add_argument("--seed", type=int, default=None,
                       help="random seed (default: drawn once and saved with the run)")
    train.add_argument("--content_loss", default=defaults.content_loss,
                       choices=("mse", "ssim", "ms_ssim"),
                       help="content loss after the first 4%% of epochs (MSE before)")
    train.add_argument("--vgg_weights", default=defaults.vgg_weights,
                       help="VGG19 for the perceptual loss: imagenet, a weights file, or none")
    train.add_argument("--warmup_optimizer", default=defaults.warmup_optimizer,
                       choices=WARMUP_OPTIMIZERS,
                       help="optimizer of the MSE warm-up; same: the GAN phase's (the seed)")
    train.add_argument("--warmup_lr", type=float, default=None,
                       help="learning rate of the MSE warm-up (default: --lr_init)")
    train.add_argument("--warmup_schedule", default=defaults.warmup_schedule,
                       choices=WARMUP_SCHEDULES,
                       help="warm-up rate: constant, or cosine from --warmup_lr to 0 over the "
                            "--n_epoch_init epochs")
    train.add_argument("--warmup_crop", type=int, default=None, metavar="HR_PX",
                       help="HR crop size of the warm-up, a multiple of 4 (default: 48, the "
                            "critic's; the generator takes any size)")
    train.add_argument("--val_images", type=int, default=defaults.val_images, metavar="N",
                       help="validate on up to N photos of DATA_DIR/test at every checkpoint; "
                            "0 = off")
    train.add_argument("--bn_batches", type=int, default=defaults.bn_batches, metavar="N",
                       help="before each checkpoint, set the generator's BatchNorm moving "
                            "statistics to their mean over N training batches; 0 = off")
    train.add_argument("--init", default=None, choices=("pretrained",),
                       help="start a new run's generator from the shipped pretrained one "
                            "(a fine-tune) instead of random weights")
    train.add_argument("--jit", action="store_true",
                       help="compile the training steps with XLA (jit_compile=True)")
    train.add_argument("--minutes", type=float, default=None,
                       help="compare: wall-clock training budget per model, instead of "
                            "--n_epoch alone")
    train.add_argument("--restart", action="store_true",
                       help="start afresh; the previous run is moved aside, not deleted")

    prep = parser.add_argument_group("prepare")
    prep.add_argument("--source", default=None,
                      help="stl10 (download the official STL10 archive, about 2.6 GB), the path of "
                           "stl10_binary.tar.gz or of an extracted stl10_binary/ folder, or a "
                           "folder of your photos (searched recursively)")
    prep.add_argument("--unlabeled", type=int, default=0, metavar="N",
                      help="STL10: also put the first N of the 100,000 unlabeled photos in train/")
    prep.add_argument("--size", type=int, default=48,
                      help="STL10: side of the HR photos written (96 keeps them whole); "
                           "photo folders: photos under SIZE px are skipped")
    prep.add_argument("--test_fraction", type=float, default=0.1,
                      help="photo folders: share of the photos put in test/, fixed per photo "
                           "by a hash of its path")
    prep.add_argument("--patch", type=int, default=None,
                      help="photo folders: cut each photo into PATCH x PATCH tiles instead of "
                           "copying it whole")
    prep.add_argument("--test_patch", type=int, default=None,
                      help="photo folders: cut the test photos alone into tiles of this size, "
                           "keeping the training photos whole")
    prep.add_argument("--min_detail", type=float, default=0.0,
                      help="photo folders, with --patch or --test_patch: skip tiles whose mean "
                           "luma difference between neighbouring pixels (across + down) is under "
                           "this many levels: flat sky or blur, which any upscaler gets right")
    prep.add_argument("--overwrite", action="store_true",
                      help="replace files of the same names already in DATA_DIR/train and test")

    use = parser.add_argument_group("testing, upscale and export")
    use.add_argument("--checkpoint", default=None, metavar="PATH",
                     help="the checkpoint to use, e.g. checkpoint/ckpt-1000, or a run's folder "
                          "(if not given: the latest in --checkpoint_dir)")
    use.add_argument("--compare", nargs="+", default=[], metavar="NAME=CKPT",
                     help="testing: more generators as more rows, each a checkpoint or a run's folder")
    use.add_argument("--results_dir", default=None,
                     help="testing: where metrics.csv, summary.json/.md, comparison.png and "
                          "the SR photos go (if not given: samples/testing); compare: also "
                          "compare.md/.csv/.png (if not given: samples/compare)")
    use.add_argument("--input", default=None, metavar="PHOTO_OR_FOLDER",
                     help="upscale: a photo, or a folder of photos")
    use.add_argument("--output", default=None, metavar="DIR",
                     help="upscale: where the 4x photos go (if not given: samples/upscaled); "
                          "export: where the model goes (if not given: export)")
    use.add_argument("--tile", type=int, default=128, metavar="LR_PX",
                     help="testing and upscale: run photos larger than this in tiles of this "
                          "many LR px, so memory stays bounded; 0 = whole photos")

    parser.add_argument("--precision", default=None, choices=PRECISIONS,
                        help="float32, or mixed precision with float32 weights; auto: "
                             "mixed_bfloat16 where the hardware runs it fast (AMX/AVX512-BF16 "
                             "CPUs, GPUs of compute capability 8.0+), else float32. Default: "
                             f"{defaults.precision} for training and compare, "
                             f"{INFERENCE_PRECISION} for testing and upscale")
    use.add_argument("--margin", type=int, default=None, metavar="LR_PX",
                     help="testing and upscale: LR px of context around each tile (default: "
                          "the seed generator's measured effective margin; the baselines' full "
                          "receptive field)")
    paths = parser.add_argument_group("folders")
    paths.add_argument("--data_dir", default=None,
                       help=f"data folder with train/ and test/ (default: {defaults.data_dir}, "
                            "filled with a demo set when empty)")
    paths.add_argument("--checkpoint_dir", default=defaults.checkpoint_dir,
                       help="the run's checkpoints, settings.json, TensorBoard logs and sample grids")
    return parser


def train_fields(args: argparse.Namespace) -> dict:
    """The TrainConfig fields given on the command line (the rest keep their defaults)."""
    return {name: getattr(args, name) for name in TrainConfig.__dataclass_fields__
            if getattr(args, name, None) is not None}


def train_config(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(**train_fields(args))


def _checkpoint(args: argparse.Namespace) -> tuple[Path, Path | None]:
    """(--checkpoint_dir, --checkpoint or None) as paths."""
    return Path(args.checkpoint_dir), args.checkpoint and Path(args.checkpoint)


def _inference_precision(args: argparse.Namespace) -> str:
    """The dtype policy --precision stands for here, said in one line."""
    from srgan.precision import resolve
    policy, why = resolve(args.precision or INFERENCE_PRECISION)
    print(f"precision {policy} ({why})", file=sys.stderr)
    return policy


def _trained_generator(args: argparse.Namespace, precision: str = "float32"):
    """load_generator's (generator, settings, checkpoint) for --checkpoint[_dir], after
    checking that a --model given matches what the checkpoint holds."""
    from srgan.inference.restore import check_saved_model, load_generator
    check_saved_model(*_checkpoint(args), args.model)
    return load_generator(*_checkpoint(args), precision)


def run_train(args: argparse.Namespace) -> None:
    from srgan.training.loop import train
    train(train_config(args), restart=args.restart, data_dir_given=args.data_dir is not None)


def run_prepare(args: argparse.Namespace) -> None:
    from srgan.data.prepare import SOURCE_CHOICES, prepare
    if args.source is None:
        raise UserError(f"--mode=prepare needs --source: {SOURCE_CHOICES}")
    summary = prepare(args.source, args.data_dir or TrainConfig().data_dir, size=args.size,
                      unlabeled=args.unlabeled, test_fraction=args.test_fraction,
                      patch=args.patch, test_patch=args.test_patch, min_detail=args.min_detail,
                      overwrite=args.overwrite)
    print(summary.report())


def run_testing(args: argparse.Namespace) -> None:
    from srgan.evaluation.report import summary_markdown
    from srgan.evaluation.testing import run_testing as measure
    from srgan.inference.restore import check_saved_model
    check_saved_model(*_checkpoint(args), args.model)
    results_dir = args.results_dir or "samples/testing"
    summary = measure(*_checkpoint(args), Path(args.data_dir or TrainConfig().data_dir),
                      Path(results_dir), args.compare, args.tile, _inference_precision(args),
                      args.margin)
    print(summary_markdown(summary))
    print(f"wrote metrics.csv, summary.json, summary.md, comparison.png and the SR photos "
          f"into {results_dir}")


def run_upscale(args: argparse.Namespace) -> None:
    from srgan.inference.upscale import check_tile, tile_margin, upscale_files
    if args.input is None:
        raise UserError("--mode=upscale needs --input PHOTO_OR_FOLDER")
    check_tile(args.tile)
    generator, config, _ = _trained_generator(args, _inference_precision(args))
    output = Path(args.output or "samples/upscaled")
    written = upscale_files(generator, Path(args.input), output, args.tile,
                            tile_margin(config.model, config.blocks, args.margin))
    print(f"wrote {len(written)} photo(s) 4x larger into {output}")


def run_export(args: argparse.Namespace) -> None:
    from srgan.inference.export import export_generator
    # float32 whatever --precision: the SavedModel's uint8 signature runs anywhere.
    generator, _, checkpoint = _trained_generator(args)
    keras_path, saved_path = export_generator(generator, Path(args.output or "export"))
    print(f"exported {checkpoint} as {keras_path} and {saved_path}/")


def run_compare(args: argparse.Namespace) -> None:
    from srgan.evaluation.compare import run_compare as compare
    if args.model is not None:
        raise UserError("--mode=compare trains all three models; leave out --model")
    results_dir = Path(args.results_dir or "samples/compare")
    print(compare(train_fields(args), args.minutes, results_dir, args.tile, restart=args.restart,
                  data_dir_given=args.data_dir is not None))
    print(f"wrote compare.md, compare.csv and compare.png into {results_dir}")


# Each mode's runner imports its module when called, so that `--help` and flag
# errors answer without loading TensorFlow.
RUNNERS = {"train": run_train, "esrgan": run_train, "prepare": run_prepare,
           "testing": run_testing, "upscale": run_upscale, "export": run_export,
           "compare": run_compare}


def run(args: argparse.Namespace) -> None:
    RUNNERS[args.mode](args)


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow with its C++ start-up chatter (oneDNN, CUDA probing) muted.

    That chatter is printed by C++ before TF_CPP_MIN_LOG_LEVEL is read, so stderr's
    file descriptor is pointed at /dev/null for the import alone; Python errors
    raised by the import still reach the user.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import_tensorflow_quietly()
    try:
        run(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {describe_os_error(error)}", file=sys.stderr)
        return 1
    except tensorflow_file_errors() as error:
        print(f"error: {first_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Training handles Ctrl+C itself; this is another mode's.
        print("interrupted", file=sys.stderr)
        return 130
    return 0
