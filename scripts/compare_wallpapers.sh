#!/usr/bin/env bash
# The seed's claim measured on real photos (docs/RESULTS.md, "The seed's claim, measured"):
# SRGAN, W-SRGAN and the seed's model, each given MINUTES of MSE warm-up and then MINUTES
# of GAN training on the wallpaper photos, scored on their 473 held-out 48 px tiles
# beside bicubic; then the seed's model alone again from another random seed, for the
# spread between two runs. Each compare resumes where it stopped (run this again).
#
#   bash scripts/compare_wallpapers.sh [MINUTES]     # default 10: about 80 minutes in all
#
# Copies each run's compare.csv, compare.md and compare.png into docs/results/.
# --vgg_weights none: the ImageNet VGG19 weights could not be fetched where this ran, so
# SRGAN's content term is pixel MSE and the seed's model has no perceptual term.
set -euo pipefail
MINUTES="${1:-10}"
PYTHON="${PYTHON:-python}"
source scripts/data_sets.sh
wallpaper_data
BUDGET=(--n_epoch_init 100 --minutes_init "$MINUTES" --n_epoch 100 --minutes "$MINUTES")
run() {  # run SEED CHECKPOINT_DIR NAME [compare flags...]
  local seed="$1" checkpoint_dir="$2" name="$3"
  shift 3
  "$PYTHON" main.py --mode=compare --data_dir data_wallpapers --vgg_weights none --seed "$seed" \
    "${BUDGET[@]}" --checkpoint_dir "$checkpoint_dir" --results_dir "samples/$name" "$@"
  mkdir -p "docs/results/$name"
  cp "samples/$name"/compare.{csv,md,png} "docs/results/$name/"
}
run 1 checkpoint_compare compare_seed1
run 2 checkpoint_compare_seed2 compare_seed2 --models seed
