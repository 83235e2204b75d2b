"""What `--mode=upscale` reads: the photo --input names, or the photos of the folder it
names; free of TensorFlow, so that the command line checks --input before it loads."""

from pathlib import Path

from srgan.data.images import IMAGE_EXTENSIONS, list_images, not_regular, read_size
from srgan.errors import UserError


def photo_inputs(source: Path) -> tuple[list[Path], list[str]]:
    """(the photos of the folder `source`, not its subfolders, or `source` itself, a file
    whose header is a photo's; a line for each other file of the folder named like a
    photo, which is skipped); UserError where there are none."""
    source = Path(source)
    if source.is_dir():
        skipped: list[str] = []
        paths = list_images(source, skipped=skipped)
        if not paths:
            raise UserError(f"no photos in {source} (looked for {', '.join(IMAGE_EXTENSIONS)})")
        return paths, skipped
    if not source.exists():
        raise UserError(f"--input {source} does not exist: give a photo or a folder of photos")
    if not source.is_file():
        raise UserError(f"--input {source} is {not_regular(source)}. Give a photo or a folder "
                        "of photos")
    read_size(source)
    return [source], []
