# Sourced by the measurement scripts: each function fetches and prepares one offline set
# where its data folder is missing (held-out photos cut into 48 px tiles of some detail).
# Needs $PYTHON.

wallpaper_data() {  # data_wallpapers/: the set the shipped generator learned from
  if [ ! -d data_wallpapers/test ]; then
    bash scripts/get_wallpapers.sh photos/wallpapers
    "$PYTHON" main.py --mode=prepare --source photos/wallpapers --data_dir data_wallpapers \
      --test_patch 48 --min_detail 6
  fi
}

photo_data() {  # data_photos/: the photographs-only set of docs/data/photos.csv
  if [ ! -d data_photos/test ]; then
    "$PYTHON" scripts/photo_set.py build photos/debian
    "$PYTHON" main.py --mode=prepare --source photos/debian --data_dir data_photos \
      --test_patch 48 --min_detail 6
  fi
}
