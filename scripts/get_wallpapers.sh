#!/usr/bin/env bash
# Fetches the public photos the shipped generator was trained and scored on:
# Debian's wallpaper packages, unpacked without installing, each picture downscaled
# so its long side is at most 1024 px (more detail per crop, and a set that fits in
# memory), written as PNG into OUT (default photos/wallpapers). Every figure in the
# docs was measured on this set, renders included; scripts/photo_set.py builds the
# photographs-only set from the manifest docs/data/photos.csv.
#
#   bash scripts/get_wallpapers.sh [OUT]
#   python main.py --mode=prepare --source photos/wallpapers --data_dir data_wallpapers
#
# Needs apt-get (Debian or Ubuntu; the package versions used are in
# srgan/pretrained/seed_x4.json) and a Python with Pillow: $PYTHON, else `python`, the
# project's where its environment is active (PYTHON=.venv/bin/python bash ... otherwise).
# Writes nothing outside OUT and a temporary folder.
set -euo pipefail
OUT="${1:-photos/wallpapers}"
PYTHON="${PYTHON:-python}"
if ! "$PYTHON" -c "import PIL" 2>/dev/null; then
  echo "get_wallpapers.sh: '$PYTHON' cannot import Pillow; run it with the Python that runs" \
       "the project: PYTHON=/path/to/that/python bash scripts/get_wallpapers.sh" >&2
  exit 1
fi
PACKAGES=(lomiri-wallpapers-16.04 mate-backgrounds plasma-workspace-wallpapers)
WORK="$(mktemp -d)"
chmod 755 "$WORK"  # apt-get downloads as the _apt user where it can
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
(cd "$WORK" && apt-get download "${PACKAGES[@]}" >/dev/null)
for deb in "$WORK"/*.deb; do
  dpkg-deb --field "$deb" Package Version | paste -sd' ' | sed 's/Package: //; s/ Version: / /'
  dpkg -x "$deb" "$WORK/root"
done
"$PYTHON" - "$WORK/root/usr/share" "$OUT" <<'PY'
import sys
from pathlib import Path
from PIL import Image

share, out = Path(sys.argv[1]), Path(sys.argv[2])
photos = sorted(share.glob("backgrounds/*.jpg"))                      # lomiri: photographs
photos += sorted(share.glob("backgrounds/mate/nature/*.jpg"))          # mate: nature photos
for wallpaper in sorted(share.glob("wallpapers/*/contents/images")):   # plasma: largest of each
    sizes = sorted(wallpaper.glob("*.*"), key=lambda p: Image.open(p).size[0] * Image.open(p).size[1])
    photos += sizes[-1:]
for path in photos:
    image = Image.open(path).convert("RGB")
    image.thumbnail((1024, 1024), Image.LANCZOS)
    parts = path.relative_to(share).parts
    name = f"plasma_{parts[1]}" if parts[0] == "wallpapers" else "_".join(parts[1:])[:-4]
    image.save(out / f"{name}.png")
print(f"wrote {len(photos)} photos into {out}")
PY
