"""The command line: `python main.py --mode=MODE [flags]`."""

import argparse
import logging
import os
import sys
from pathlib import Path

from srgan.config import TrainConfig
from srgan.errors import UserError, describe_os_error, first_line, tensorflow_file_errors
from srgan.flags import INFERENCE_PRECISION, parse_args, train_fields
from srgan.preflight import check

log = logging.getLogger(__name__)


def train_config(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(**train_fields(args))


def _checkpoint(args: argparse.Namespace) -> tuple[Path, Path | None]:
    """(--checkpoint_dir or the default folder, --checkpoint or None) as paths."""
    return (Path(args.checkpoint_dir or TrainConfig().checkpoint_dir),
            args.checkpoint and Path(args.checkpoint))


def _run_named(args: argparse.Namespace) -> bool:
    """Whether the command names the generator (--checkpoint or --checkpoint_dir): named,
    it is used even where the shipped one validated better on the same photos."""
    return args.checkpoint is not None or args.checkpoint_dir is not None


def _inference_precision(args: argparse.Namespace) -> str:
    """The dtype policy --precision stands for here, said in one line."""
    from srgan.precision import resolve
    policy, why = resolve(args.precision or INFERENCE_PRECISION)
    log.info(f"precision {policy} ({why})")
    return policy


def _trained_generator(args: argparse.Namespace, precision: str = "float32"):
    """The generator, its settings and its Source for --checkpoint[_dir], named in the log,
    after checking that a --model given matches what the checkpoint holds."""
    from srgan.evaluation.provenance import load_named_generator
    from srgan.inference.restore import check_saved_model
    check_saved_model(*_checkpoint(args), args.model)
    return load_named_generator(*_checkpoint(args), precision, advise=True,
                                named=_run_named(args))


def run_train(args: argparse.Namespace) -> None:
    from srgan.training.loop import train
    train(train_config(args), restart=args.restart, data_dir_given=args.data_dir is not None)


def run_prepare(args: argparse.Namespace) -> None:
    from srgan.data.prepare import prepare
    summary = prepare(args.source, args.data_dir or TrainConfig().data_dir, size=args.size,
                      unlabeled=args.unlabeled, test_fraction=args.test_fraction,
                      patch=args.patch, test_patch=args.test_patch, min_detail=args.min_detail,
                      overwrite=args.overwrite, hr=args.hr, mirror=args.mirror)
    print(summary.report())


def run_testing(args: argparse.Namespace) -> None:
    from srgan.evaluation.report import summary_markdown
    from srgan.evaluation.testing import run_testing as measure
    from srgan.inference.restore import check_saved_model
    check_saved_model(*_checkpoint(args), args.model)
    results_dir = args.results_dir or "samples/testing"
    summary = measure(*_checkpoint(args), Path(args.data_dir or TrainConfig().data_dir),
                      Path(results_dir), args.compare, args.tile, _inference_precision(args),
                      args.margin, advise=True, named=_run_named(args))
    print(summary_markdown(summary))
    print(f"wrote metrics.csv, summary.json, summary.md, comparison.png and the SR photos "
          f"into {results_dir}")


def run_upscale(args: argparse.Namespace) -> None:
    from srgan.inference.upscale import tile_margin, upscale_files
    from srgan.preflight import output_options
    options = output_options(args)
    generator, config, _ = _trained_generator(args, _inference_precision(args))
    output = Path(args.output or "samples/upscaled")
    done = upscale_files(generator, Path(args.input), output, args.tile,
                         tile_margin(config.model, config.blocks, args.margin), options)
    summary = f"wrote {len(done.written)} photo(s) {options.outscale:g}x larger into {output}"
    if done.replaced:
        summary += f", {len(done.replaced)} of them replacing this tool's earlier output"
    if done.existing:
        summary += f"; left {len(done.existing)} whose output was there (--skip_existing)"
    print(summary)


def run_export(args: argparse.Namespace) -> None:
    from srgan.inference.export import export_generator
    from srgan.inference.upscale import DEFAULT_TILE, tile_margin
    # float32 whatever --precision: the SavedModel's uint8 signature runs anywhere.
    generator, config, source = _trained_generator(args)
    keras_path, saved_path = export_generator(generator, Path(args.output or "export"), DEFAULT_TILE,
                                              tile_margin(config.model, config.blocks))
    print(f"exported {source.path} as {keras_path} and {saved_path}/")


def run_compare(args: argparse.Namespace) -> None:
    from srgan.compare import run_compare as compare
    results_dir = Path(args.results_dir or "samples/compare")
    table = compare(train_fields(args), args.minutes, results_dir, args.tile,
                    args.minutes_init, tuple(args.models), restart=args.restart,
                    data_dir_given=args.data_dir is not None)
    if table is None:  # stopped by Ctrl+C or SIGTERM after a checkpoint, as training is
        return
    print(table)
    print(f"wrote compare.md, compare.csv and compare.png into {results_dir}")


# Each mode's runner imports its module when called, so that `--help` and bad commands
# answer without loading TensorFlow; main() runs them after preflight's checks.
RUNNERS = {"train": run_train, "esrgan": run_train, "prepare": run_prepare,
           "testing": run_testing, "upscale": run_upscale, "export": run_export,
           "compare": run_compare}


def run(args: argparse.Namespace) -> None:
    import keras

    # The networks and the data are channels-last; a keras.json that says channels_first
    # (for another project) would otherwise fail deep inside Keras.
    keras.config.set_image_data_format("channels_last")
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
    args = parse_args(argv)
    try:
        backend = check(args)  # before TensorFlow loads: a bad command answers at once
        if backend == "tensorflow":
            import_tensorflow_quietly()
            from srgan.distribute import split_cpu_devices
            split_cpu_devices()  # before TensorFlow's first op initialises its devices
        elif backend == "jax":
            from srgan.backends import jax_backend
            jax_backend.split_cpu_devices()  # before JAX's first array starts its CPU backend
        run(args)
    except UserError as error:
        log.error(f"error: {error}")
        return 1
    except OSError as error:
        log.error(f"error: {describe_os_error(error)}")
        return 1
    except tensorflow_file_errors() as error:
        log.error(f"error: {first_line(error)}")
        return 1
    except KeyboardInterrupt:
        # Training handles Ctrl+C itself; this is another mode's.
        log.error("interrupted")
        return 130
    return 0
