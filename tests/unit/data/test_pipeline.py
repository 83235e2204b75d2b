"""The training input, the photo set, and the demo data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan.data.degrade import downsample
from srgan.data.demo import DEMO_PHOTOS, MAX_PATCHES_PER_PHOTO, TEST_PHOTO, build_demo_set
from srgan.data.images import save_png
from srgan.data.pipeline import PhotoSet, load_photo_set, sample_batch, steps_per_epoch, training_dataset


def _constant_photos(count: int, size: int = 48) -> list[np.ndarray]:
    """Photos of one distinct colour each: colour (i, 255 - i, 3i mod 256) for photo i."""
    return [
        np.broadcast_to(np.array([i, 255 - i, (3 * i) % 256], np.uint8), (size, size + i % 3, 3)).copy()
        for i in range(count)
    ]


def _photo_ids(hr: np.ndarray) -> list[int]:
    pixels = np.round((hr[:, 0, 0, :] + 1.0) * 127.5).astype(int)
    return [int(p[0]) for p in pixels]


def _epoch(photos: PhotoSet, **kwargs) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(lr), np.asarray(hr)) for lr, hr in training_dataset(photos, **kwargs)]


def _noise_photo(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_photo_set_packs_photos_of_different_sizes() -> None:
    photos = [_noise_photo(50, 60), _noise_photo(48, 48)[:, ::-1], _noise_photo(70, 49)]
    packed = PhotoSet.from_arrays(photos)
    assert len(packed) == 3
    assert packed.buffer.dtype == np.uint8 and packed.buffer.ndim == 1
    assert packed.buffer.size == sum(p.size for p in photos)
    for i, photo in enumerate(photos):
        np.testing.assert_array_equal(packed.get(i), photo)
    with pytest.raises(ValueError):
        PhotoSet.from_arrays([np.zeros((48, 48), np.uint8)])


def test_steps_per_epoch_keeps_the_partial_batch() -> None:
    assert steps_per_epoch(10, 4) == 3
    assert steps_per_epoch(8, 4) == 2
    assert steps_per_epoch(1, 16) == 1
    assert steps_per_epoch(0, 16) == 0


def test_batches_have_exact_shapes_range_and_degradation() -> None:
    photos = PhotoSet.from_arrays([_noise_photo(64, 80)] * 10)
    batches = _epoch(photos, batch_size=4, epoch=0, seed=1)
    assert [hr.shape for _, hr in batches] == [(4, 48, 48, 3), (4, 48, 48, 3), (2, 48, 48, 3)]
    assert [lr.shape for lr, _ in batches] == [(4, 12, 12, 3), (4, 12, 12, 3), (2, 12, 12, 3)]
    for lr, hr in batches:
        assert lr.dtype == np.float32 and hr.dtype == np.float32
        assert lr.min() >= -1 and lr.max() <= 1 and hr.min() >= -1 and hr.max() <= 1
        hr_pixels = (hr + 1) * 127.5
        np.testing.assert_allclose(hr_pixels, np.round(hr_pixels), atol=1e-3)
        expected_lr = downsample(np.round(hr_pixels).astype(np.uint8)).numpy() / 127.5 - 1
        np.testing.assert_allclose(lr, expected_lr, atol=1e-6)
    assert len(batches) == steps_per_epoch(10, 4)
    other_sizes = _epoch(photos, batch_size=3, epoch=0, seed=1, hr_size=32, scale=2)
    assert other_sizes[0][0].shape == (3, 16, 16, 3) and other_sizes[0][1].shape == (3, 32, 32, 3)


def test_every_photo_once_per_epoch_in_a_seeded_order() -> None:
    photos = PhotoSet.from_arrays(_constant_photos(23))
    orders = {}
    for epoch in range(3):
        hr = np.concatenate([hr for _, hr in _epoch(photos, batch_size=5, epoch=epoch, seed=3)])
        orders[epoch] = _photo_ids(hr)
        assert sorted(orders[epoch]) == list(range(23))
    assert orders[0] != orders[1] != orders[2]


def test_same_seed_and_epoch_replay_exactly_others_differ() -> None:
    photos = [_noise_photo(90, 70)[i : i + 60] for i in range(12)]
    first = _epoch(PhotoSet.from_arrays(photos), batch_size=5, epoch=2, seed=9)
    again = _epoch(PhotoSet.from_arrays(photos), batch_size=5, epoch=2, seed=9)
    for (lr_a, hr_a), (lr_b, hr_b) in zip(first, again, strict=True):
        np.testing.assert_array_equal(hr_a, hr_b)
        np.testing.assert_array_equal(lr_a, lr_b)
    shared = PhotoSet.from_arrays(photos)
    for other in ({"epoch": 3, "seed": 9}, {"epoch": 2, "seed": 10}, {"epoch": 9, "seed": 2}):
        changed = _epoch(shared, batch_size=5, **other)
        assert not np.array_equal(changed[0][1], first[0][1])


@pytest.mark.parametrize("skip", [1, 2, 3, 4])
def test_skip_batches_resumes_the_same_epoch_exactly(skip: int) -> None:
    photos = PhotoSet.from_arrays([_noise_photo(80, 100)[i : i + 50, i:] for i in range(14)])
    full = _epoch(photos, batch_size=4, epoch=5, seed=11)  # 4 batches, the last of 2
    resumed = _epoch(photos, batch_size=4, epoch=5, seed=11, skip_batches=skip)
    assert len(resumed) == len(full) - skip
    for (lr_a, hr_a), (lr_b, hr_b) in zip(full[skip:], resumed, strict=True):
        np.testing.assert_array_equal(hr_a, hr_b)
        np.testing.assert_array_equal(lr_a, lr_b)
    assert _epoch(photos, batch_size=4, epoch=5, seed=11, skip_batches=9) == []


def _assert_same_batches(a: list, b: list) -> None:
    assert len(a) == len(b)
    for (lr_a, hr_a), (lr_b, hr_b) in zip(a, b, strict=True):
        np.testing.assert_array_equal(hr_a, hr_b)
        np.testing.assert_array_equal(lr_a, lr_b)


@pytest.mark.parametrize("skip", [0, 3])
def test_a_span_of_epochs_is_its_epochs_one_after_the_other(skip: int) -> None:
    photos = PhotoSet.from_arrays([_noise_photo(80, 100)[i : i + 50, i:] for i in range(14)])
    one_by_one = [batch for epoch in (5, 6, 7) for batch in _epoch(
        photos, batch_size=4, epoch=epoch, seed=11, skip_batches=skip if epoch == 5 else 0)]
    spanned = _epoch(photos, batch_size=4, epoch=5, seed=11, skip_batches=skip, epochs=3)
    assert len(spanned) == 3 * 5 - skip  # 19 crops of 48 px: 5 batches an epoch, the last of 3
    _assert_same_batches(spanned, one_by_one)


def _find_crop(photo: np.ndarray, crop: np.ndarray) -> tuple[int, int, bool]:
    size = crop.shape[0]
    for flipped, candidate in ((False, crop), (True, crop[:, ::-1])):
        for top in range(photo.shape[0] - size + 1):
            for left in range(photo.shape[1] - size + 1):
                if np.array_equal(photo[top : top + size, left : left + size], candidate):
                    return top, left, flipped
    raise AssertionError("the crop is not a window of the photo")


def test_large_photos_give_varied_crops_and_flips() -> None:
    photo = _noise_photo(58, 61)
    photos = PhotoSet.from_arrays([photo] * 16)
    placements = []
    for epoch in range(2):
        for _, hr in _epoch(photos, batch_size=16, epoch=epoch, seed=4):
            pixels = np.round((hr + 1) * 127.5).astype(np.uint8)
            placements += [_find_crop(photo, crop) for crop in pixels]
    assert len({(top, left) for top, left, _ in placements}) > 20
    assert {flipped for _, _, flipped in placements} == {False, True}
    assert max(top for top, _, _ in placements) <= 10 and max(left for _, left, _ in placements) <= 13


def test_photos_of_exactly_hr_size_are_taken_whole_and_flipped() -> None:
    photo = _noise_photo(48, 48)
    photos = PhotoSet.from_arrays([photo] * 20)
    hr = np.concatenate([hr for _, hr in _epoch(photos, batch_size=8, epoch=0, seed=0)])
    pixels = np.round((hr + 1) * 127.5).astype(np.uint8)
    whole = [np.array_equal(crop, photo) for crop in pixels]
    mirrored = [np.array_equal(crop, photo[:, ::-1]) for crop in pixels]
    assert all(a or b for a, b in zip(whole, mirrored)) and any(whole) and any(mirrored)


def test_training_dataset_rejects_photos_under_hr_size() -> None:
    with pytest.raises(ValueError, match="under hr_size"):
        training_dataset(PhotoSet.from_arrays([_noise_photo(40, 60)]), batch_size=1, epoch=0, seed=0)
    with pytest.raises(ValueError, match="empty"):
        training_dataset(PhotoSet.from_arrays([]), batch_size=1, epoch=0, seed=0)


def test_sample_batch_is_fixed_centre_crops_spread_over_the_set() -> None:
    photos = PhotoSet.from_arrays(_constant_photos(10, size=60))
    batch = sample_batch(photos, 5)
    assert batch.dtype == np.uint8 and batch.shape == (5, 48, 48, 3)
    assert [int(crop[0, 0, 0]) for crop in batch] == [0, 2, 4, 6, 8]
    noisy = _noise_photo(60, 70)
    centre = sample_batch(PhotoSet.from_arrays([noisy]), 1)[0]
    np.testing.assert_array_equal(centre, noisy[6:54, 11:59])
    np.testing.assert_array_equal(sample_batch(photos, 5), batch)


def test_load_photo_set_from_a_folder(tmp_path: Path) -> None:
    save_png(tmp_path / "a.png", _noise_photo(50, 52))
    save_png(tmp_path / "b.png", _noise_photo(30, 52))
    photos, skipped = load_photo_set(tmp_path, hr_size=48)
    assert len(photos) == 1
    np.testing.assert_array_equal(photos.get(0), _noise_photo(50, 52))
    assert skipped == ["b.png: 52x30 px is under 48 px"]


def test_demo_set_is_deterministic_patches_with_one_photo_held_out(tmp_path: Path) -> None:
    n_train, n_test = build_demo_set(tmp_path / "one")
    train = sorted((tmp_path / "one" / "train").iterdir())
    test = sorted((tmp_path / "one" / "test").iterdir())
    assert (n_train, n_test) == (len(train), len(test)) == (156, 40)
    assert {p.name.rsplit("_", 1)[0] for p in train} == set(DEMO_PHOTOS) - {TEST_PHOTO}
    assert {p.name.rsplit("_", 1)[0] for p in test} == {TEST_PHOTO}
    assert test[0].name == f"{TEST_PHOTO}_0000.png"
    for path in train[::37] + test[::11]:
        with Image.open(path) as img:
            assert (img.format, img.mode, img.size) == ("PNG", "RGB", (48, 48))

    assert build_demo_set(tmp_path / "two") == (156, 40)
    for path in train[::50] + test[::20]:
        twin = tmp_path / "two" / path.parent.name / path.name
        assert twin.read_bytes() == path.read_bytes()


def test_demo_set_never_overwrites_and_caps_patches_per_photo(tmp_path: Path) -> None:
    mine = tmp_path / "train" / f"{DEMO_PHOTOS[0]}_0000.png"
    save_png(mine, np.zeros((5, 5, 3), np.uint8))
    before = mine.read_bytes()
    n_train, n_test = build_demo_set(tmp_path, hr_size=24)
    assert mine.read_bytes() == before
    names = [p.name.rsplit("_", 1)[0] for p in (tmp_path / "train").iterdir()]
    names += [p.name.rsplit("_", 1)[0] for p in (tmp_path / "test").iterdir()]
    assert len(names) == n_train + n_test
    assert max(names.count(name) for name in DEMO_PHOTOS) <= MAX_PATCHES_PER_PHOTO
