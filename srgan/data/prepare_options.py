"""`--mode=prepare`'s options and their checks, free of TensorFlow so that a bad command
answers before it loads; prepare.py does the work."""

from __future__ import annotations

from pathlib import Path

from srgan.errors import UserError

# How the HR photos are made (--hr): each photo (or tile) downsized to --size px, as the
# seed's README describes STL10's; or kept at full size for training to take random
# crops of, as the seed's code did with STL10's 96 px photos.
HR_CHOICES = ("downsize", "crop")

SOURCE_CHOICES = ("stl10 (downloads the STL10 archive, about 2.6 GB), the path of "
                  "stl10_binary.tar.gz or of an extracted stl10_binary/ folder, div2k "
                  "(downloads DIV2K's two HR zips, about 4 GB), a folder holding those zips "
                  "or their extracted folders, or a folder of your photos")
# The sources downloaded by name rather than read from a path.
STL10, DIV2K = "stl10", "div2k"
DOWNLOADED = (STL10, DIV2K)
MIRROR_SCHEMES = ("http://", "https://")


def source_path(source: str | None) -> Path | None:
    """The file or folder --source names, checked to exist; None for a download by name."""
    if source is None:
        raise UserError(f"--mode=prepare needs --source: {SOURCE_CHOICES}")
    if source in DOWNLOADED:
        return None
    path = Path(source).expanduser()
    if not path.exists():
        raise UserError(f"--source {source}: no such file or folder. Give {SOURCE_CHOICES}.")
    return path


def check_mirror(source: str | None, mirror: str | None) -> None:
    """UserError unless --mirror is absent, or an http(s) URL given with --source div2k."""
    if mirror is None:
        return
    if source != DIV2K:
        raise UserError("--mirror applies to --source div2k: the URL of the folder that holds "
                        "DIV2K's two zips")
    if not mirror.startswith(MIRROR_SCHEMES):
        raise UserError(f"--mirror must be an http:// or https:// URL, got {mirror!r}")


def check_options(size: int, unlabeled: int, test_fraction: float | None, patch: int | None,
                  test_patch: int | None, min_detail: float, hr: str | None = None) -> None:
    """UserError for the first option out of its range."""
    if hr not in (None, *HR_CHOICES):
        raise UserError(f"--hr must be one of {', '.join(HR_CHOICES)}, got {hr!r}")
    if size < 4 or size % 4:
        raise UserError(f"--size must be a positive multiple of 4 (the generator upsamples 4x), "
                        f"got {size}")
    if unlabeled < 0:
        raise UserError(f"--unlabeled must not be negative, got {unlabeled}")
    if test_fraction is not None and not 0 <= test_fraction < 1:
        raise UserError(f"--test_fraction must be at least 0 and under 1, got {test_fraction}")
    for flag, tile in (("--patch", patch), ("--test_patch", test_patch)):
        if tile is not None and tile < size:
            raise UserError(f"{flag} must be at least --size ({size}), got {tile}: smaller tiles "
                            "could not be trained on")
    if min_detail < 0 or (min_detail and patch is None and test_patch is None):
        raise UserError("--min_detail applies to tiles (--patch or --test_patch) and must not "
                        f"be negative, got {min_detail}")
