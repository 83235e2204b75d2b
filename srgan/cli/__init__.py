"""The command line: `python main.py --mode=MODE [flags]`. Each mode's help, checks and
runner are one row of srgan/cli/modes.py; its flags are srgan/cli/flags.py's."""

import argparse
import logging

from srgan.cli import flags, preflight
from srgan.cli.modes import MODES, flags_of
from srgan.config import TrainConfig
from srgan.errors import UserError, describe_os_error, first_line, tensorflow_file_errors
from srgan.runtime import environment, startup

log = logging.getLogger(__name__)


def build_parser(mode: str = "train") -> argparse.ArgumentParser:
    """The parser of `mode`: --mode and the flags that mode takes."""
    parser = argparse.ArgumentParser(
        prog="main.py", formatter_class=flags.HelpFormatter,
        description=f"4x image super-resolution GAN (12x12 -> 48x48 by default). --mode={mode}: "
                    f"{MODES[mode].help}. Each mode has its own flags: python main.py --mode=MODE --help")
    # The default first: after the list it would read as the last mode's.
    parser.add_argument("--mode", default="train", choices=MODES,
                        help="what to do (default: %(default)s). "
                             + "; ".join(f"{name}: {mode.help}" for name, mode in MODES.items()))
    flags.add_flags(parser, flags_of(mode))
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The flags of `argv` for its --mode; argparse's error (exit 2) for a flag of
    another mode, naming the modes it belongs to."""
    first = argparse.ArgumentParser(add_help=False, prog="main.py")
    first.add_argument("--mode", default="train", choices=MODES)
    mode = first.parse_known_args(argv)[0].mode
    parser = build_parser(mode)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        table = flags.flag_modes()
        for item in unknown:
            name = item.split("=", 1)[0]
            if name in table:
                parser.error(f"{name} is not a flag of --mode={mode}; it belongs to "
                             + ", ".join(f"--mode={owner}" for owner in table[name]))
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def check(args: argparse.Namespace) -> str:
    """UserError (or OSError, where a path cannot be looked at) for the first thing wrong
    with the command that needs no TensorFlow to see; the Keras backend it runs on."""
    for flag in preflight.FOLDER_FLAGS:
        value = getattr(args, flag, None)
        if value is not None:
            preflight.check_folder(flag, value)
    backend = environment.keras_backend()
    environment.cpu_devices()
    mode = MODES[args.mode]
    mode.check(args)
    if backend == "jax" and mode.trains:
        from srgan.runtime import jax_backend
        jax_backend.check_training_flags(TrainConfig(**flags.train_fields(args)))
    return backend


def run(args: argparse.Namespace) -> None:
    import keras

    # The networks and the data are channels-last; a keras.json that says channels_first
    # (for another project) would otherwise fail deep inside Keras.
    keras.config.set_image_data_format("channels_last")
    MODES[args.mode].run(args)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        # Before TensorFlow loads: a bad command answers at once.
        startup.start(check(args))
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
