#!/usr/bin/env bash
# The shipped generator fine-tuned for the same CPU minutes on each offline photo set
# (docs/DATA.md, "What the photographs-only set does"): the 46 training photos of the
# wallpaper set the shipped generator learned from, and the 37 of the photographs-only set
# (docs/data/photos.csv); both scored beside the shipped generator and bicubic on the
# photographs-only set's held-out tiles, which neither saw, and on the demo patches.
#
#   bash scripts/compare_photo_sets.sh [MINUTES]     # default 30: about 70 minutes in all
#
# Copies each score's summary.md and summary.json into docs/results/photo_sets/.
set -euo pipefail
MINUTES="${1:-30}"
PYTHON="${PYTHON:-python}"
source scripts/data_sets.sh
wallpaper_data
photo_data
for set in wallpapers photos; do
  "$PYTHON" main.py --data_dir "data_$set" --checkpoint_dir "runs/ft_$set" --init pretrained \
    --seed 1 --n_epoch_init 1000 --n_epoch 0 --minutes_init "$MINUTES" --vgg_weights none \
    --precision mixed_bfloat16 --warmup_optimizer adam --warmup_lr 2e-4 \
    --warmup_schedule cosine --warmup_crop 48
done
for data in data_photos data2017; do
  "$PYTHON" main.py --mode=testing --checkpoint pretrained --precision float32 \
    --compare wallpapers=runs/ft_wallpapers photos=runs/ft_photos \
    --data_dir "$data" --results_dir "samples/photo_sets_$data"
  mkdir -p "docs/results/photo_sets/$data"
  cp "samples/photo_sets_$data"/summary.{md,json} "docs/results/photo_sets/$data/"
done
