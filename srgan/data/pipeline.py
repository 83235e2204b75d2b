"""The training input: photos held once in memory, random crops cut in NumPy, degraded
in keras.ops, the same under every Keras backend.

Every random choice (the order, each crop, each flip) is a function of (seed, epoch,
position in the epoch), so an epoch can be replayed exactly and a run resumed in the
middle of one, under either backend. The batches are cut between the steps, on the
training thread: on the CPU, background input threads preempt the step's own and cost
up to a third of the warm-up's rate (bench/speed/bench_loop.py), and a crop costs microseconds.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from srgan.data import images
from srgan.data.degrade import SCALE, downsample, to_model
from srgan.data.images import centre_crop
from srgan.runtime import backends


class PhotoSet:
    """Photos of any sizes in one flat uint8 buffer, with per-photo offsets and sizes.

    One buffer instead of a list of arrays: one allocation, and a photo is a view into it.
    """

    def __init__(
        self, buffer: np.ndarray, offsets: np.ndarray, heights: np.ndarray, widths: np.ndarray
    ) -> None:
        if not (len(offsets) == len(heights) == len(widths)):
            raise ValueError("PhotoSet: offsets, heights and widths differ in length")
        if buffer.dtype != np.uint8 or buffer.ndim != 1:
            raise ValueError(f"PhotoSet: buffer must be flat uint8, got {buffer.dtype} {buffer.shape}")
        self.buffer = buffer
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.heights = np.asarray(heights, dtype=np.int64)
        self.widths = np.asarray(widths, dtype=np.int64)

    @classmethod
    def from_arrays(cls, photos: list[np.ndarray]) -> PhotoSet:
        """Pack uint8 HxWx3 photos into one buffer."""
        for i, photo in enumerate(photos):
            if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
                raise ValueError(f"PhotoSet: photo {i} is {photo.dtype} {photo.shape}, not uint8 HxWx3")
        sizes = np.array([photo.size for photo in photos], dtype=np.int64)
        offsets = np.cumsum(sizes) - sizes
        buffer = np.empty(int(sizes.sum()), dtype=np.uint8)
        for photo, offset, size in zip(photos, offsets, sizes):
            buffer[offset : offset + size] = photo.reshape(-1)
        heights = np.array([photo.shape[0] for photo in photos], dtype=np.int64)
        widths = np.array([photo.shape[1] for photo in photos], dtype=np.int64)
        return cls(buffer, offsets, heights, widths)

    def __len__(self) -> int:
        return len(self.offsets)

    def get(self, i: int) -> np.ndarray:
        """Photo `i` as uint8 HxWx3 (a view into the buffer)."""
        height, width = int(self.heights[i]), int(self.widths[i])
        start = int(self.offsets[i])
        return self.buffer[start : start + height * width * 3].reshape(height, width, 3)


def load_photo_set(folder: Path, hr_size: int = 48) -> tuple[PhotoSet, list[str]]:
    """The photos in `folder` at least `hr_size` on each side, and the skipped-file lines."""
    photos, skipped = images.load_folder(folder, min_size=hr_size)
    return PhotoSet.from_arrays(photos), skipped


def crop_areas(photos: PhotoSet, crop: int) -> np.ndarray:
    """How many `crop` x `crop` areas each photo holds side by side (at least 1): the
    random crops it gives per epoch, so an epoch covers a folder of big photos about
    once instead of taking one crop of each."""
    return np.maximum(1, (photos.heights // crop) * (photos.widths // crop))


def steps_per_epoch(num_photos: int, batch_size: int, replicas: int = 1) -> int:
    """Batches per epoch; the last, partial batch counts where it keeps a crop for each
    replica (`hr_batches` cuts it to a multiple of `replicas`)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    rest = num_photos % batch_size
    return num_photos // batch_size + (rest >= replicas)


def _epoch_draws(seed: int, epoch: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(the order of the epoch's `count` crops, three uniform draws for each position: its
    top, its left, its flip), a function of (seed, epoch) alone."""
    # Philox is keyed by the pair itself (epoch -1 included, as 2**64 - 1): no two pairs
    # share a stream, whatever the seed.
    key = np.array([seed, epoch], dtype=np.int64).view(np.uint64)
    rng = np.random.Generator(np.random.Philox(key=key))
    # float64 draws make ties (and so a bias towards low indices) practically impossible.
    order = np.argsort(rng.random(count), kind="stable")
    return order, rng.random((count, 3))


def _cut(photos: PhotoSet, index: int, draws: np.ndarray, hr_size: int) -> np.ndarray:
    """The hr_size x hr_size crop of photo `index` that `draws` place, flipped where the
    third draw is under one half."""
    photo = photos.get(index)
    height, width = photo.shape[:2]
    top = int(draws[0] * (height - hr_size + 1))
    left = int(draws[1] * (width - hr_size + 1))
    crop = photo[top : top + hr_size, left : left + hr_size]
    return crop[:, ::-1] if draws[2] < 0.5 else crop


def hr_batches(
    photos: PhotoSet,
    batch_size: int,
    epoch: int,
    seed: int,
    hr_size: int = 48,
    skip_batches: int = 0,
    replicas: int = 1,
    epochs: int = 1,
) -> Iterator[np.ndarray]:
    """Epochs `epoch` .. `epoch + epochs - 1` of uint8 HR crop batches [B, hr_size,
    hr_size, 3], one after the other; the last batch of each epoch may be partial.

    Each photo gives `crop_areas` random crops an epoch, in an order shuffled over all of
    them. With `replicas` > 1 (several devices) the last batch is cut to a multiple of
    `replicas`, so that every replica gets an equal share: up to replicas - 1 crops of an
    epoch go unused. `skip_batches=k` starts at batch k of the first epoch; any span of
    epochs yields the same batches as those epochs one by one.
    """
    if len(photos) == 0:
        raise ValueError("hr_batches: the photo set is empty")
    if batch_size < 1 or skip_batches < 0 or epochs < 1:
        raise ValueError(f"hr_batches: batch_size {batch_size}, skip_batches {skip_batches}, "
                         f"epochs {epochs}")
    smallest = int(min(photos.heights.min(), photos.widths.min()))
    if smallest < hr_size:
        raise ValueError(f"hr_batches: a photo has a side of {smallest} px, under hr_size {hr_size}")
    photo_of_item = np.repeat(np.arange(len(photos)), crop_areas(photos, hr_size))
    count = len(photo_of_item)

    def batches() -> Iterator[np.ndarray]:  # the checks above run at the call, not the first batch
        for this_epoch in range(epoch, epoch + epochs):
            order, draws = _epoch_draws(seed, this_epoch, count)
            first = skip_batches * batch_size if this_epoch == epoch else 0
            for start in range(first, count, batch_size):
                positions = range(start, min(start + batch_size, count))
                kept = len(positions) // replicas * replicas
                if kept:
                    yield np.stack([_cut(photos, int(photo_of_item[order[position]]),
                                         draws[position], hr_size) for position in positions[:kept]])
    return batches()


def degrade_batch(hr: Any, scale: int = SCALE) -> tuple[Any, Any]:
    """uint8 HR crops -> (LR, HR) float32 in [-1, 1], as the networks take them."""
    return to_model(downsample(hr, scale)), to_model(hr)


@functools.cache
def _compiled_degrade(scale: int, backend: str):
    """One compiled degradation per scale and backend, kept: every span of epochs and
    every BatchNorm recomputation reuses its traces instead of tracing anew."""
    return backends.compiled(functools.partial(degrade_batch, scale=scale))


def training_dataset(
    photos: PhotoSet,
    batch_size: int,
    epoch: int,
    seed: int,
    hr_size: int = 48,
    scale: int = SCALE,
    skip_batches: int = 0,
    replicas: int = 1,
    epochs: int = 1,
) -> Iterator[tuple[Any, Any]]:
    """`hr_batches` as `(lr, hr)` batches of the Keras backend's tensors, degraded by one
    compiled step (retraced only for an epoch's partial last batch)."""
    if hr_size % scale:
        raise ValueError(f"training_dataset: hr_size {hr_size} is not a multiple of scale {scale}")
    degrade = _compiled_degrade(scale, keras.backend.backend())
    crops = hr_batches(photos, batch_size, epoch, seed, hr_size, skip_batches, replicas, epochs)
    return (degrade(hr) for hr in crops)


def sample_batch(photos: PhotoSet, count: int, hr_size: int = 48) -> np.ndarray:
    """Centre crops of `count` photos spread evenly over the set, uint8 [count, hr, hr, 3].

    Always the same photos for the same set, so sample grids compare across epochs.
    With more `count` than photos, photos repeat.
    """
    if len(photos) == 0 or count < 1:
        raise ValueError(f"sample_batch: {count} samples from {len(photos)} photos")
    picks = (np.arange(count) * len(photos)) // count
    crops = []
    for i in picks:
        photo = photos.get(int(i))
        height, width = photo.shape[:2]
        if height < hr_size or width < hr_size:
            raise ValueError(f"sample_batch: photo {i} is {width}x{height}, under {hr_size} px")
        crops.append(centre_crop(photo, hr_size))
    return np.stack(crops)
