"""scripts/photo_set.py: the rules that decide the offline photo set, and its manifest."""

import csv
from pathlib import PurePosixPath

import numpy as np
import pytest
import skimage.data
from PIL import Image

from tests.helpers import ROOT, load_script

photo_set = load_script("photo_set")

COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2020 Someone
License: GPL-2+

Files: 16.04/seeding_by_Clements_Engelhardt.jpg
Copyright: 2016 Clements Engelhardt
License: CC0-1.0

Files: nature/*
  extra/*.png
License: CC-BY-4.0
 The licence's text, indented, is not a field.
"""


def test_the_licence_is_the_last_stanza_that_matches_the_installed_path(tmp_path):
    (tmp_path / "copyright").write_text(COPYRIGHT)
    stanzas = photo_set.licences(tmp_path / "copyright")
    assert stanzas == [(["*"], "GPL-2+"), (["16.04/seeding_by_Clements_Engelhardt.jpg"], "CC0-1.0"),
                       (["nature/*", "extra/*.png"], "CC-BY-4.0")]
    of = lambda path: photo_set.licence_of(PurePosixPath(path), stanzas)  # noqa: E731
    # The source's 16.04/ folder is gone once installed: the file name names the stanza.
    assert of("backgrounds/seeding_by_Clements_Engelhardt.jpg") == "CC0-1.0"
    assert of("backgrounds/mate/nature/Aqua.jpg") == "CC-BY-4.0"
    assert of("backgrounds/extra/a.png") == "CC-BY-4.0"
    assert of("backgrounds/extra/a.jpg") == "GPL-2+"


@pytest.mark.parametrize("stem, expected", [
    ("kodim07", True), ("0801", True), ("102061", True), ("img_042", True), ("baboon", True),
    ("butterfly_GT", True), ("Flowers", True), ("Bridge_by_Sander_Klootwijk", False),
    ("butterfly-garden", False), ("img_0421x", False), ("sunset", False),
])
def test_benchmark_images_are_told_by_their_names(stem, expected):
    assert photo_set.is_benchmark_name(stem) is expected


def test_the_difference_hash_tells_a_resized_copy_from_another_photo():
    coffee = Image.fromarray(skimage.data.coffee())
    bits = lambda a, b: bin(photo_set.difference_hash(a) ^ photo_set.difference_hash(b)).count("1")  # noqa: E731
    resized = coffee.resize((300, 200), Image.BICUBIC)
    assert bits(coffee, resized) <= photo_set.DUPLICATE_BITS
    assert bits(coffee, Image.fromarray(skimage.data.chelsea())) > 3 * photo_set.DUPLICATE_BITS
    # The same pixels mirrored: the same colours and textures, another picture.
    mirrored = Image.fromarray(np.ascontiguousarray(skimage.data.coffee()[:, ::-1]))
    assert bits(coffee, mirrored) > photo_set.DUPLICATE_BITS


def test_photo_names_are_the_shipped_sets():
    name = lambda path: photo_set.photo_name(PurePosixPath(path))  # noqa: E731
    assert name("wallpapers/Path/contents/images/2560x1600.jpg") == "plasma_Path"
    assert name("backgrounds/mate/nature/Aqua.jpg") == "mate_nature_Aqua"
    assert name("backgrounds/Bridge_by_Sander_Klootwijk.jpg") == "Bridge_by_Sander_Klootwijk"
    assert name("lxqt/wallpapers/fog.jpg") == "lxqt_fog"


def test_the_committed_manifest_keeps_photographs_only_and_says_why_not():
    with open(ROOT / "docs" / "data" / "photos.csv", newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames) == photo_set.COLUMNS
        rows = list(reader)
    kept = [row for row in rows if row["kept"] == "yes"]
    assert kept and all(row["kept"] for row in rows)
    assert all(min(int(row["width"]), int(row["height"])) >= photo_set.MIN_SIDE for row in kept)
    assert all(row["licence"] != "unknown" for row in kept)
    assert len({photo_set.photo_name(PurePosixPath(row["path"])) for row in kept}) == len(kept)
    assert all(len(row["sha256"]) == 64 for row in rows)
    assert not any(photo_set.is_benchmark_name(PurePosixPath(row["path"]).stem) for row in kept)
