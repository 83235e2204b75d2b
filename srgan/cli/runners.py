"""What each mode does, a function each: it imports its module when called, so that
`--help` and a bad command answer without loading TensorFlow (srgan/cli/modes.py lists
them)."""

import argparse
import logging
from pathlib import Path

from srgan.cli.flags import INFERENCE_PRECISION, train_fields
from srgan.cli.preflight import output_options
from srgan.config import TrainConfig

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
    from srgan.runtime.precision import resolve
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


def _default_data(args: argparse.Namespace, config: TrainConfig) -> None:
    """A fresh clone trains on the demo set: built in the default --data_dir where it
    holds no photo. A --data_dir given must hold the photos."""
    if args.data_dir is None:
        from srgan.data.demo import fill_if_empty
        fill_if_empty(Path(config.data_dir), config.hr_size)


def run_train(args: argparse.Namespace) -> None:
    from srgan.training.loop import train
    config = train_config(args)
    _default_data(args, config)
    train(config, restart=args.restart)


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
    from srgan.training.compare import run_compare as compare
    results_dir = Path(args.results_dir or "samples/compare")
    _default_data(args, train_config(args))
    table = compare(train_fields(args), args.minutes, results_dir, args.tile,
                    args.minutes_init, tuple(args.models), restart=args.restart)
    if table is None:  # stopped by Ctrl+C or SIGTERM after a checkpoint, as training is
        return
    print(table)
    print(f"wrote compare.md, compare.csv and compare.png into {results_dir}")
