"""The offline photo set: Debian's wallpaper and background packages surveyed for
photographs to train on (`survey`, which writes the manifest docs/data/photos.csv), and
the set rebuilt from that manifest on a fresh machine (`build`).

    python scripts/photo_set.py survey [--manifest docs/data/photos.csv]
    python scripts/photo_set.py build [OUT] [--manifest docs/data/photos.csv]
    python main.py --mode=prepare --source photos/debian --data_dir data_photos

Needs apt-get and dpkg (Debian or Ubuntu); packages are unpacked into a temporary folder,
never installed, and nothing is written outside it but the manifest or OUT.

`survey` downloads each package in PACKAGES and lists every picture in the folders it keeps its wallpapers in, one row
each: package, version, path, sha256, width, height, licence (the package's copyright
file, DEP-5's last matching stanza) and kept: `yes`, or why not. A picture is kept when it
is a photograph (PHOTOGRAPHS: chosen by eye from a contact sheet, since no rule tells a
render from a photo), at least MIN_SIDE px on its short side, has no transparent pixels
(Stellarium's panoramas have their sky cut out), is none of the standard benchmark images,
and is no near-duplicate (a difference hash within DUPLICATE_BITS bits) of a larger kept one.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # the packages' own large wallpapers, not untrusted uploads

# package: the folders under usr/share that hold its wallpapers.
PACKAGES = {
    "lomiri-wallpapers": ("backgrounds",),
    "lomiri-wallpapers-16.04": ("backgrounds",),
    "lomiri-wallpapers-20.04": ("backgrounds",),
    "mate-backgrounds": ("backgrounds",),
    "plasma-workspace-wallpapers": ("wallpapers",),
    "lxqt-themes": ("lxqt/wallpapers",),
    "gnome-backgrounds": ("backgrounds",),
    "ukui-wallpapers": ("backgrounds",),
    "sway-backgrounds": ("backgrounds",),
    "desktop-base": ("desktop-base", "wallpapers"),
    "stellarium-data": ("stellarium/landscapes",),
}
# The photographs among them, by package and a glob of the path under usr/share. The rest
# were judged by eye to be drawn, rendered, composited or logos; the reason is written.
PHOTOGRAPHS = {
    "lomiri-wallpapers-16.04": ("backgrounds/[!u]*_by_*.jpg", "backgrounds/Picture_*.jpg"),
    "lomiri-wallpapers-20.04": ("backgrounds/Kleiber_by_*.jpg",),
    "mate-backgrounds": ("backgrounds/mate/nature/*.jpg",),
    "plasma-workspace-wallpapers": tuple(
        f"wallpapers/{name}/contents/images/*" for name in (
            "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow",
            "FallenLeaf", "Grey", "OneStandsOut", "Path", "summer_1am")),
    "lxqt-themes": tuple(f"lxqt/wallpapers/{name}" for name in (
        "after-the-rain.jpg", "appleflower.png", "beam.png", "butterfly.png",
        "Butterfly-Kenneth-Wimer.jpg", "cloud.png", "drop.png", "flowers.png", "fog.jpg",
        "this-is-not-windows.jpg", "Valendas.png")),
    # Panoramas photographed for the planetarium, their sky cut out (see the module's note).
    "stellarium-data": tuple(f"stellarium/landscapes/{name}" for name in (
        "garching/*", "grossmugl/grossmugl_leeberg_crop*", "hurricane/*", "mars/*", "moon/*")),
}
# Why the other pictures are not photographs to train on, where a glob says more than
# NOT_PHOTOGRAPH.
REASONS = {
    "stellarium-data": {
        "stellarium/landscapes/guereins/*": "a panorama's ground seen through a fisheye, not a scene",
        "stellarium/landscapes/grossmugl/*illum*": "a planetarium landscape's light-pollution layer",
        "stellarium/landscapes/ocean/*": "a planetarium landscape's texture",
        "stellarium/landscapes/trees/*": "a planetarium landscape's texture or mask",
    },
    "lomiri-wallpapers-20.04": {"backgrounds/Infinite-Sea_*": "a digital composite"},
}
NOT_PHOTOGRAPH = "not a photograph: drawn, rendered or a logo (judged by eye)"
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
MIN_SIDE = 512
# build: each photo downscaled so that its long side is at most this (more detail per
# crop, and a set that fits in memory), as for the shipped generator's set.
LONG_SIDE = 1024
# Of a 256-bit difference hash: one wallpaper at two resolutions differs in 0-2 bits here,
# while two photos alike at 8x8 (a dark lake and a sunset) differ in 64 and more.
HASH_SIDE = 16
DUPLICATE_BITS = 24
# The standard benchmark images, which test sets are built from and must stay unseen,
# told by name: Set5's and Set14's (any suffix such as _GT or _HR), Kodak's kodimNN,
# BSD's 5- and 6-digit numbers, Urban100's img_NNN and DIV2K's 4-digit numbers. A
# wallpaper that merely shares a name is left out too: a name is all the survey can check.
BENCHMARK_STEMS = ("baby", "bird", "butterfly", "head", "woman", "baboon", "barbara", "bridge",
                   "coastguard", "comic", "face", "flowers", "foreman", "lenna", "lena", "man",
                   "monarch", "pepper", "peppers", "ppt3", "zebra")
BENCHMARK_NUMBERED = re.compile(r"^(kodim\d\d|\d{4}|\d{5,6}|img_\d{3})$")
COLUMNS = ("package", "version", "path", "sha256", "width", "height", "licence", "kept")


def difference_hash(image: Image.Image) -> int:
    """HASH_SIDE**2 bits: whether each gray cell of a HASH_SIDE x HASH_SIDE grid is
    brighter than its right neighbour."""
    gray = np.asarray(image.convert("L").resize((HASH_SIDE + 1, HASH_SIDE), Image.LANCZOS),
                      dtype=np.int16)
    bits = (gray[:, 1:] > gray[:, :-1]).flatten()
    return int("".join("1" if bit else "0" for bit in bits), 2)


def licences(copyright_file: Path) -> list[tuple[list[str], str]]:
    """(globs, licence) for each Files stanza of a DEP-5 copyright file, in order."""
    stanzas = []
    for block in copyright_file.read_text(errors="replace").split("\n\n"):
        files, licence, field = [], None, None
        for line in block.splitlines():
            if line.startswith("Files:"):
                files, field = line.removeprefix("Files:").split(), "files"
            elif line.startswith("License:"):
                licence, field = licence or line.removeprefix("License:").strip(), None
            elif line.startswith((" ", "\t")) and field == "files":
                files += line.split()
            else:
                field = None
        if files and licence:
            stanzas.append((files, licence))
    return stanzas


def licence_of(path: PurePosixPath, stanzas: list[tuple[list[str], str]]) -> str:
    """The licence of DEP-5's last stanza with a glob that matches `path`. The globs name
    source paths, which differ from the installed ones above the picture's own folder
    (or its name alone), so a glob matches the end of the path, or its file name where
    the glob names one file."""
    found = "unknown"
    for globs, licence in stanzas:
        for glob in globs:
            depth = len(PurePosixPath(glob).parts)
            name = PurePosixPath(glob).name
            if fnmatch.fnmatchcase("/".join(path.parts[-depth:]), glob) or (
                    not any(char in name for char in "*?[") and name == path.name):
                found = licence
    return found


def is_benchmark_name(stem: str) -> bool:
    stem = re.sub(r"_(gt|hr|lr|x\d)$", "", stem.lower())
    return stem in BENCHMARK_STEMS or BENCHMARK_NUMBERED.match(stem) is not None


def is_photograph(package: str, path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, glob) for glob in PHOTOGRAPHS.get(package, ()))


def unpack(wanted: str, work: Path, package: str) -> tuple[str, Path]:
    """(version, the unpacked usr/share) of `package`, downloaded into `work` as apt-get
    names it in `wanted` (the package, or PACKAGE=VERSION)."""
    fetched = subprocess.run(["apt-get", "download", wanted], cwd=work, capture_output=True,
                             text=True)
    if fetched.returncode:
        sys.exit(f"photo_set.py: apt-get download {wanted} failed: {fetched.stderr.strip()}")
    deb = next(work.glob(f"{package}_*.deb"))
    version = subprocess.run(["dpkg-deb", "--field", str(deb), "Version"], check=True,
                             capture_output=True, text=True).stdout.strip()
    root = work / package
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return version, root / "usr" / "share"


def survey(work: Path) -> list[dict[str, str]]:
    rows, candidates = [], []
    for package, folders in PACKAGES.items():
        version, share = unpack(package, work, package)
        stanzas = licences(share / "doc" / package / "copyright")
        for folder in folders:
            for file in sorted((share / folder).rglob("*")):
                if not file.is_file() or file.suffix.lower() not in EXTENSIONS:
                    continue
                relative = file.relative_to(share).as_posix()
                row = {"package": package, "version": version, "path": relative,
                       "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
                       "licence": licence_of(PurePosixPath(relative), stanzas)}
                with Image.open(file) as image:
                    row["width"], row["height"] = image.size
                    transparent = (image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info) \
                        and image.convert("RGBA").getextrema()[3][0] < 255
                    digest = difference_hash(image)
                if not is_photograph(package, relative):
                    row["kept"] = next((reason for glob, reason in REASONS.get(package, {}).items()
                                        if fnmatch.fnmatchcase(relative, glob)), NOT_PHOTOGRAPH)
                elif min(row["width"], row["height"]) < MIN_SIDE:
                    row["kept"] = f"under {MIN_SIDE} px on its short side"
                elif transparent:
                    row["kept"] = "transparent pixels (a planetarium panorama, its sky cut out)"
                elif is_benchmark_name(file.stem):
                    row["kept"] = "the name of a standard benchmark image"
                else:
                    candidates.append((row, digest))
                rows.append(row)
    # Largest first, so that of near-duplicates (one wallpaper at several resolutions, or
    # in two packages) the largest is kept.
    kept: list[tuple[dict[str, str], int]] = []
    for row, digest in sorted(candidates, key=lambda item: -item[0]["width"] * item[0]["height"]):
        twin = next((other for other, bits in kept if bin(bits ^ digest).count("1") <= DUPLICATE_BITS),
                    None)
        if twin is None:
            row["kept"] = "yes"
            kept.append((row, digest))
        else:
            row["kept"] = f"near-duplicate of {twin['package']}:{twin['path']}"
    return rows


def build(manifest: Path, out: Path) -> int:
    """Write each kept photo of `manifest` into `out` as a PNG, its long side at most
    LONG_SIDE px, after checking that its package still holds it byte for byte."""
    with open(manifest, newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["kept"] == "yes"]
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        shares = {}
        for package, version in sorted({(row["package"], row["version"]) for row in rows}):
            shares[package] = unpack(f"{package}={version}", Path(work), package)[1]
        for row in rows:
            file = shares[row["package"]] / row["path"]
            if not file.is_file() or hashlib.sha256(file.read_bytes()).hexdigest() != row["sha256"]:
                sys.exit(f"photo_set.py: {row['package']} {row['version']} no longer holds "
                         f"{row['path']} as the manifest records it")
            with Image.open(file) as image:
                image = image.convert("RGB")
            image.thumbnail((LONG_SIDE, LONG_SIDE), Image.LANCZOS)
            image.save(out / f"{photo_name(PurePosixPath(row['path']))}.png")
    print(f"wrote {len(rows)} photos into {out}")
    return 0


def photo_name(path: PurePosixPath) -> str:
    """The file name (no extension) a photo gets: the names the shipped generator's set
    used, so that prepare's split by name holds the same photos out."""
    if path.parts[0] == "wallpapers":  # plasma: wallpapers/NAME/contents/images/WxH.jpg
        return f"plasma_{path.parts[1]}"
    if path.parts[0] == "backgrounds":
        return "_".join(path.with_suffix("").parts[1:])
    return f"{path.parts[0]}_{path.stem}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("survey", "build"))
    parser.add_argument("out", nargs="?", type=Path, default=Path("photos/debian"),
                        help="build: the folder the photos go to (default: photos/debian)")
    parser.add_argument("--manifest", type=Path, default=Path("docs/data/photos.csv"))
    args = parser.parse_args(argv)
    if args.command == "build":
        return build(args.manifest, args.out)
    with tempfile.TemporaryDirectory() as work:
        rows = survey(Path(work))
    args.manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(args.manifest, "w", newline="") as file:
        writer = csv.DictWriter(file, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    kept = sum(row["kept"] == "yes" for row in rows)
    print(f"{len(rows)} pictures in {len(PACKAGES)} packages, {kept} photographs kept: "
          f"{args.manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
