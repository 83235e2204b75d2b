"""The ranges of --tile and --margin, free of TensorFlow so that the command line checks
them before it loads (srgan/preflight.py); upscale.py cuts the tiles."""

from srgan.errors import UserError

# Smaller tiles spend most of their work on the margins around them.
MIN_TILE = 16


def check_tile(tile: int) -> None:
    if tile < 0 or 0 < tile < MIN_TILE:
        raise UserError(f"--tile must be 0 (whole photos) or at least {MIN_TILE} LR px, got {tile}")


def check_margin(margin: int | None) -> None:
    """None is the model's own margin."""
    if margin is not None and margin < 0:
        raise UserError(f"--margin must not be negative, got {margin}")
