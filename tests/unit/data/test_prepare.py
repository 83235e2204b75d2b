"""--mode=prepare: STL10's binary layout, photo collections, and safe reruns."""

from __future__ import annotations

import argparse
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from srgan import cli
from srgan.data import prepare as prepare_module
from srgan.data.images import list_images, load_rgb
from srgan.data.prepare import photo_names, prepare, split_for
from srgan.data.stl10 import read_stl10_images
from srgan.errors import UserError

COUNTS = {"train": 3, "test": 4, "unlabeled": 5}


def pattern() -> np.ndarray:
    """96x96 RGB that no flip, transpose or channel swap leaves unchanged."""
    image = np.zeros((96, 96, 3), dtype=np.uint8)
    image[:, :, 1] = np.arange(96, dtype=np.uint8)[:, None] * 2  # green grows downwards
    image[:, :, 2] = np.arange(96, dtype=np.uint8)[None, :]  # blue grows rightwards
    image[:16, :32] = (255, 0, 0)  # a wide red block, top left
    return image


def crops(count: int, seed: int) -> np.ndarray:
    """`count` 96x96 crops of a real photo at random places."""
    photo = skdata.astronaut()
    rng = np.random.default_rng(seed)
    tops, lefts = rng.integers(0, 512 - 96, (2, count))
    return np.stack([photo[t : t + 96, l : l + 96] for t, l in zip(tops, lefts)])


def write_bin(path: Path, images: np.ndarray) -> None:
    """The STL10 layout, written from its description: per photo, R then G then B, each column-major."""
    with open(path, "wb") as file:
        for image in images:
            for channel in range(3):
                file.write(image[:, :, channel].tobytes(order="F"))


def fake_stl10(root: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """root/stl10_binary with COUNTS photos per split (train photo 0 is the pattern)."""
    folder = root / "stl10_binary"
    folder.mkdir(parents=True)
    images = {split: crops(count, seed) for seed, (split, count) in enumerate(COUNTS.items())}
    images["train"][0] = pattern()
    for split, stack in images.items():
        write_bin(folder / f"{split}_X.bin", stack)
    (folder / "class_names.txt").write_text("airplane\n")
    return folder, images


@pytest.fixture
def stl(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    return fake_stl10(tmp_path / "source")


def bicubic(image: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((size, size), Image.BICUBIC))


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- STL10 ---


def test_binary_layout_reads_upright_unmirrored_rgb(tmp_path: Path) -> None:
    image = pattern()
    write_bin(tmp_path / "x.bin", np.stack([crops(1, 9)[0], image]))
    out = read_stl10_images(tmp_path / "x.bin", 1, 1)
    assert out.shape == (1, 96, 96, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[0], image)
    assert tuple(out[0, 0, 0]) == (255, 0, 0) and tuple(out[0, 0, 40]) != (255, 0, 0)
    assert out[0, 95, 50, 1] == 190 and out[0, 50, 95, 2] == 95


def test_stl10_folder_at_96_is_exact_and_at_48_is_pil_bicubic(tmp_path: Path, stl) -> None:
    folder, images = stl
    summary = prepare(str(folder), tmp_path / "d96", size=96)
    assert summary.written == {"train": 3, "test": 4} and summary.kept == {"train": 0, "test": 0}
    for split in ("train", "test"):
        names = [p.name for p in list_images(tmp_path / "d96" / split)]
        assert names == [f"stl10_{split}_{i:05d}.png" for i in range(COUNTS[split])]
        for i, image in enumerate(images[split]):
            np.testing.assert_array_equal(load_rgb(tmp_path / "d96" / split / names[i]), image)
    prepare(str(folder), tmp_path / "d48")
    for split in ("train", "test"):
        for i, image in enumerate(images[split]):
            out = load_rgb(tmp_path / "d48" / split / f"stl10_{split}_{i:05d}.png")
            assert out.shape == (48, 48, 3)
            np.testing.assert_array_equal(out, bicubic(image, 48))
    top_left = load_rgb(tmp_path / "d48" / "train" / "stl10_train_00000.png")[2, 2]
    assert tuple(top_left) == (255, 0, 0)


def test_hr_crop_keeps_stl10_whole_as_the_seeds_code_and_downsize_is_its_readme(tmp_path: Path,
                                                                              stl) -> None:
    # The seed's README downsizes STL10's 96 px photos to 48 px; its code kept them at 96
    # and took random 48 px crops at each step, which training does with 96 px photos.
    folder, images = stl
    prepare(str(folder), tmp_path / "crop", hr="crop")
    prepare(str(folder), tmp_path / "down", hr="downsize")
    for i, image in enumerate(images["test"]):
        name = f"stl10_test_{i:05d}.png"
        np.testing.assert_array_equal(load_rgb(tmp_path / "crop" / "test" / name), image)
        np.testing.assert_array_equal(load_rgb(tmp_path / "down" / "test" / name), bicubic(image, 48))
    with pytest.raises(UserError, match="--size 64 applies to --hr downsize"):
        prepare(str(folder), tmp_path / "e", size=64, hr="crop")


def test_hr_downsize_makes_stl10_style_tiles_of_a_photo_folder(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_photos(photos, ["big.png"], shape=(100, 200))
    summary = prepare(str(photos), tmp_path / "d", patch=96, test_fraction=0.0, hr="downsize")
    assert summary.written == {"train": 2, "test": 0}
    photo = load_rgb(photos / "big.png")
    np.testing.assert_array_equal(load_rgb(tmp_path / "d" / "train" / "big_r00_c01.png"),
                                  bicubic(photo[2:98, 100:196], 48))
    with pytest.raises(UserError, match="--hr downsize for a photo folder needs --patch"):
        prepare(str(photos), tmp_path / "e", hr="downsize")
    with pytest.raises(UserError, match="--hr must be one of downsize, crop"):
        prepare(str(photos), tmp_path / "e", hr="resize")


def test_unlabeled_adds_the_first_n_to_train(tmp_path: Path, stl) -> None:
    folder, images = stl
    summary = prepare(str(folder), tmp_path / "d", unlabeled=2, size=96)
    assert summary.written == {"train": 5, "test": 4}
    for i in range(2):
        out = load_rgb(tmp_path / "d" / "train" / f"stl10_unlabeled_{i:06d}.png")
        np.testing.assert_array_equal(out, images["unlabeled"][i])
    assert not (tmp_path / "d" / "train" / "stl10_unlabeled_000002.png").exists()
    with pytest.raises(UserError, match="more than the 5"):
        prepare(str(folder), tmp_path / "e", unlabeled=6)
    assert not (tmp_path / "e" / "train").exists()  # checked before anything is written


def test_archive_and_parent_folder_sources(tmp_path: Path, stl) -> None:
    folder, images = stl
    archive = tmp_path / "stl10_binary.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="stl10_binary")
    summary = prepare(str(archive), tmp_path / "a")
    assert summary.written == {"train": 3, "test": 4}
    assert (tmp_path / "a" / "downloads" / "stl10_binary" / "train_X.bin").is_file()
    assert sorted(p.name for p in (tmp_path / "a" / "downloads").iterdir()) == ["stl10_binary"]
    prepare(str(folder.parent), tmp_path / "b")  # the folder that holds stl10_binary/
    assert snapshot(tmp_path / "a" / "train").keys() == snapshot(tmp_path / "b" / "train").keys()
    for name in snapshot(tmp_path / "a" / "test"):
        np.testing.assert_array_equal(load_rgb(tmp_path / "a" / "test" / name),
                                      load_rgb(tmp_path / "b" / "test" / name))


def test_archive_escaping_its_folder_is_refused(tmp_path: Path) -> None:
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"x" * 10)
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(payload, arcname="../escaped.bin")
    with pytest.raises(UserError, match="refusing"):
        prepare(str(archive), tmp_path / "d" / "data")
    assert not (tmp_path / "d" / "escaped.bin").exists()
    assert list((tmp_path / "d" / "data" / "downloads").iterdir()) == []


def test_truncated_binary_file_is_a_user_error(tmp_path: Path, stl) -> None:
    folder, _ = stl
    with open(folder / "test_X.bin", "ab") as file:
        file.write(b"\0" * 100)
    with pytest.raises(UserError, match="truncated"):
        prepare(str(folder), tmp_path / "d")


def test_option_and_source_errors(tmp_path: Path, stl) -> None:
    folder, _ = stl
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("hello")
    cases = [
        ({"source": str(tmp_path / "missing")}, "no such file"),
        ({"source": str(tmp_path / "empty")}, "holds no photos"),
        ({"source": str(tmp_path / "notes.txt")}, "not an archive"),
        ({"source": str(folder), "size": 50}, "multiple of 4"),
        ({"source": str(folder), "size": 128}, "larger than"),
        ({"source": str(folder), "patch": 48}, "photo folders and DIV2K only"),
        ({"source": str(tmp_path / "empty"), "unlabeled": 3}, "STL10 only"),
    ]
    for kwargs, message in cases:
        with pytest.raises(UserError, match=message):
            prepare(data_dir=tmp_path / "d", **kwargs)


# --- photo collections ---


def make_photos(folder: Path, names: list[str], seed: int = 0, shape=(60, 70)) -> None:
    rng = np.random.default_rng(seed)
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (*shape, 3), dtype=np.uint8)).save(path)


def split_of(data_dir: Path) -> dict[str, str]:
    return {p.name: split for split in ("train", "test") for p in list_images(data_dir / split)}


def test_photo_split_is_stable_when_photos_are_added(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_photos(photos, [f"day{i % 3}/img{i:03d}.png" for i in range(40)])
    make_photos(photos, ["holiday/beach.jpg", "top.bmp"], seed=1)
    summary = prepare(str(photos), tmp_path / "d", test_fraction=0.3)
    before = split_of(tmp_path / "d")
    assert len(before) == 42 and sum(summary.written.values()) == 42
    assert {"holiday__beach.png", "top.png", "day1__img001.png"} <= before.keys()
    assert 0 < list(before.values()).count("test") < 42
    np.testing.assert_array_equal(
        load_rgb(tmp_path / "d" / before["top.png"] / "top.png"), load_rgb(photos / "top.bmp"))
    make_photos(photos, [f"new/extra{i}.webp" for i in range(10)], seed=2)
    summary = prepare(str(photos), tmp_path / "d", test_fraction=0.3)
    after = split_of(tmp_path / "d")
    assert summary.kept["train"] + summary.kept["test"] == 42
    assert sum(summary.written.values()) == 10 and len(after) == 52
    assert {name: after[name] for name in before} == before


def test_split_fraction_is_respected_and_stable() -> None:
    paths = [f"folder{i % 7}/photo_{i}.jpg" for i in range(4000)]
    share = sum(split_for(path, 0.1) == "test" for path in paths) / len(paths)
    assert 0.085 < share < 0.115
    assert split_for("a/b.jpg", 0.1) == split_for("a/b.jpg", 0.1)
    assert all(split_for(path, 0.0) == "train" for path in paths[:100])
    # A larger fraction only moves photos into test, never out of it.
    assert all(split_for(p, 0.3) == "test" for p in paths if split_for(p, 0.1) == "test")


def test_colliding_names_get_distinct_suffixes() -> None:
    names = photo_names(["a/b.jpg", "a/b.png", "a__b.bmp", "A/B.tif", "c/d.png"])
    assert names["c/d.png"] == "c__d"
    colliding = [names[p] for p in ("a/b.jpg", "a/b.png", "a__b.bmp", "A/B.tif")]
    assert len({name.lower() for name in colliding}) == 4
    assert all(name.lower().startswith("a__b_") for name in colliding)


def test_patch_cuts_a_centred_grid_of_tiles(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_photos(photos, ["big.png"], shape=(100, 150))
    summary = prepare(str(photos), tmp_path / "d", patch=48, test_fraction=0.0)
    names = sorted(p.name for p in list_images(tmp_path / "d" / "train"))
    assert names == [f"big_r{r:02d}_c{c:02d}.png" for r in range(2) for c in range(3)]
    assert summary.written == {"train": 6, "test": 0}
    photo = load_rgb(photos / "big.png")
    # 100 = 2 * 48 + 4 and 150 = 3 * 48 + 6: the grid starts 2 rows down, 3 columns in.
    np.testing.assert_array_equal(load_rgb(tmp_path / "d" / "train" / "big_r01_c02.png"),
                                  photo[50:98, 99:147])


def test_unreadable_and_small_photos_are_skipped_and_listed(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_photos(photos, ["good.png"])
    make_photos(photos, ["tiny.png"], shape=(30, 90))
    (photos / "broken.jpg").write_bytes(b"not a jpeg at all")
    (photos / "readme.txt").write_text("ignored: not a photo extension")
    summary = prepare(str(photos), tmp_path / "d", test_fraction=0.0)
    assert summary.written == {"train": 1, "test": 0}
    assert summary.skipped == ["broken.jpg: not an image", "tiny.png: 90x30 px is under 48 px"]
    report = summary.report()
    assert "broken.jpg" in report and "tiny.png" in report and "2 skipped" in report


# --- safety: reruns, existing files, interruptions ---


def test_rerun_changes_nothing(tmp_path: Path, stl) -> None:
    folder, _ = stl
    prepare(str(folder), tmp_path / "d", unlabeled=5)
    before = snapshot(tmp_path / "d")
    summary = prepare(str(folder), tmp_path / "d", unlabeled=5)
    assert summary.written == {"train": 0, "test": 0} and summary.kept == {"train": 8, "test": 4}
    assert snapshot(tmp_path / "d") == before


def test_existing_files_are_kept_unless_overwrite(tmp_path: Path, stl) -> None:
    folder, images = stl
    train = tmp_path / "d" / "train"
    mine = np.full((48, 48, 3), 7, dtype=np.uint8)
    train.mkdir(parents=True)
    Image.fromarray(mine).save(train / "stl10_train_00001.png")
    Image.fromarray(mine).save(train / "holiday.png")
    summary = prepare(str(folder), tmp_path / "d")
    assert summary.kept["train"] == 1 and summary.written["train"] == 2
    assert summary.others["train"] == 1 and "1 other photo" in summary.report()
    np.testing.assert_array_equal(load_rgb(train / "stl10_train_00001.png"), mine)
    summary = prepare(str(folder), tmp_path / "d", overwrite=True)
    assert summary.written["train"] == 3
    np.testing.assert_array_equal(load_rgb(train / "stl10_train_00001.png"),
                                  bicubic(images["train"][1], 48))
    np.testing.assert_array_equal(load_rgb(train / "holiday.png"), mine)


def test_rerun_with_another_size_asks_for_overwrite(tmp_path: Path, stl) -> None:
    folder, _ = stl
    prepare(str(folder), tmp_path / "d")
    with pytest.raises(UserError, match="--overwrite"):
        prepare(str(folder), tmp_path / "d", size=96)
    assert prepare(str(folder), tmp_path / "d", size=96, overwrite=True).written["test"] == 4


def test_interrupted_prepare_is_finished_by_a_rerun(tmp_path: Path, stl, monkeypatch) -> None:
    folder, images = stl
    calls = []
    real_save = prepare_module.save_png

    def save_then_stop(path: Path, image: np.ndarray) -> None:
        if len(calls) == 4:
            raise KeyboardInterrupt
        calls.append(path)
        real_save(path, image)

    monkeypatch.setattr(prepare_module, "save_png", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        prepare(str(folder), tmp_path / "d")
    monkeypatch.undo()
    test = tmp_path / "d" / "test"
    # A write killed outright leaves its temporary file behind.
    (test / f".stl10_test_00003.png.{'ab' * 16}.tmp").write_bytes(b"half a png")
    summary = prepare(str(folder), tmp_path / "d")
    assert summary.written == {"train": 0, "test": 3} and summary.kept == {"train": 3, "test": 1}
    for split in ("train", "test"):
        files = sorted(p.name for p in (tmp_path / "d" / split).iterdir())
        assert files == [f"stl10_{split}_{i:05d}.png" for i in range(COUNTS[split])]
        for i, image in enumerate(images[split]):
            np.testing.assert_array_equal(load_rgb(tmp_path / "d" / split / files[i]),
                                          bicubic(image, 48))


# --- the command line ---


def parse(*flags: str) -> argparse.Namespace:
    return cli.parse_args(["--mode=prepare", *flags])


def test_cli_without_source_names_the_choices() -> None:
    with pytest.raises(UserError, match="stl10.*stl10_binary.tar.gz.*photos"):
        cli.run(parse())


def test_cli_prepares_and_prints_a_summary(tmp_path: Path, stl, capsys) -> None:
    folder, _ = stl
    cli.run(parse("--source", str(folder), "--data_dir", str(tmp_path / "d"), "--size", "96",
                  "--unlabeled", "1"))
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("prepared STL10 from")
    assert "train: 4 written" in out[-1] and "test: 4 written" in out[-1]
    assert load_rgb(tmp_path / "d" / "train" / "stl10_train_00000.png").shape == (96, 96, 3)
