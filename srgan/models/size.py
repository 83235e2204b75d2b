"""What size a generator may be: the check every generator builder makes first."""


def check_size(features: int, blocks: int) -> None:
    """ValueError unless `features` and `blocks` describe a generator."""
    if features < 1 or blocks < 0:
        raise ValueError(f"features must be >= 1 and blocks >= 0, got {features}, {blocks}")
