"""The tf.data training input: photos held once in memory, stateless random crops.

Every random choice (the order, each crop, each flip) is a stateless function of
(seed, epoch, position in the epoch), so an epoch can be replayed exactly and a run
resumed in the middle of one.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from srgan.data import images
from srgan.data.degrade import downsample, to_model
from srgan.grids import centre_crop


class _PhotoTensors(NamedTuple):
    buffer: tf.Tensor
    offsets: tf.Tensor
    heights: tf.Tensor
    widths: tf.Tensor


class PhotoSet:
    """Photos of any sizes in one flat uint8 buffer, with per-photo offsets and sizes.

    One buffer instead of a list keeps tf.data free of ragged tensors and lets the
    whole set become a single tensor, uploaded once.
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
        self._tensors: _PhotoTensors | None = None

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

    def tensors(self) -> _PhotoTensors:
        """The set as tensors, made on first use and kept, so each epoch reuses them."""
        if self._tensors is None:
            self._tensors = _PhotoTensors(
                tf.constant(self.buffer),
                tf.constant(self.offsets),
                tf.constant(self.heights),
                tf.constant(self.widths),
            )
        return self._tensors


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
    replica (`training_dataset` cuts it to a multiple of `replicas`)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    rest = num_photos % batch_size
    return num_photos // batch_size + (rest >= replicas)


def _random_crop(
    photos: _PhotoTensors, index: tf.Tensor, item_seed: tf.Tensor, hr_size: int
) -> tf.Tensor:
    """A stateless random hr_size x hr_size crop of photo `index`, flipped at random."""
    height, width = photos.heights[index], photos.widths[index]
    # float64 so that floor(u * count) stays below count for any photo size.
    draws = tf.random.stateless_uniform([3], seed=item_seed, dtype=tf.float64)
    top = tf.cast(tf.floor(draws[0] * tf.cast(height - hr_size + 1, tf.float64)), tf.int64)
    left = tf.cast(tf.floor(draws[1] * tf.cast(width - hr_size + 1, tf.float64)), tf.int64)
    # Only the hr_size rows of the crop leave the buffer, not the whole photo.
    start = photos.offsets[index] + top * width * 3
    rows = tf.reshape(photos.buffer[start : start + hr_size * width * 3], [hr_size, -1, 3])
    crop = rows[:, left : left + hr_size, :]
    crop = tf.cond(draws[2] < 0.5, lambda: tf.reverse(crop, axis=[1]), lambda: crop)
    return tf.ensure_shape(crop, [hr_size, hr_size, 3])


def training_dataset(
    photos: PhotoSet,
    batch_size: int,
    epoch: int,
    seed: int,
    hr_size: int = 48,
    scale: int = 4,
    skip_batches: int = 0,
    replicas: int = 1,
    background: bool = True,
    epochs: int = 1,
) -> tf.data.Dataset:
    """Epochs `epoch` .. `epoch + epochs - 1` of `(lr, hr)` float32 batches in [-1, 1], one
    after the other; the last batch of each epoch may be partial.

    With `replicas` > 1 (a tf.distribute strategy) the last batch is cut to a multiple
    of `replicas`, so that every replica gets an equal share: up to replicas - 1 crops
    of an epoch go unused.

    lr is [B, hr_size/scale, hr_size/scale, 3], hr is [B, hr_size, hr_size, 3]. Each
    photo gives `crop_areas` random crops an epoch, in an order shuffled over all of them.
    `skip_batches=k` starts at batch k of the first epoch; any span of epochs yields the
    same batches as those epochs one by one. One dataset for many epochs saves building
    and tracing a new one at each epoch: a tenth of a second, a step's worth on a short
    epoch.

    `background=False` makes each batch when it is asked for, on the asking thread, with
    no prefetch: where the step runs on the same few CPU cores, background threads
    preempt the step's own (whose parallel regions then wait for the slowest), and cost
    more than the few milliseconds a batch takes to cut (bench/bench_loop.py).
    The batches are the same either way.
    """
    if len(photos) == 0:
        raise ValueError("training_dataset: the photo set is empty")
    if batch_size < 1 or skip_batches < 0 or epochs < 1:
        raise ValueError(f"training_dataset: batch_size {batch_size}, skip_batches {skip_batches}, "
                         f"epochs {epochs}")
    if hr_size % scale:
        raise ValueError(f"training_dataset: hr_size {hr_size} is not a multiple of scale {scale}")
    smallest = int(min(photos.heights.min(), photos.widths.min()))
    if smallest < hr_size:
        raise ValueError(f"training_dataset: a photo has a side of {smallest} px, under hr_size {hr_size}")

    tensors = photos.tensors()
    photo_of_item = tf.constant(np.repeat(np.arange(len(photos)), crop_areas(photos, hr_size)))
    count = int(photo_of_item.shape[0])
    # Order is kept either way: `deterministic` only has a meaning for parallel calls.
    parallel = {"num_parallel_calls": tf.data.AUTOTUNE, "deterministic": True} if background else {}

    def one_epoch(this_epoch: tf.Tensor) -> tf.data.Dataset:
        epoch_seed = tf.stack([tf.constant(seed, tf.int64), this_epoch])
        # float64 draws make ties (and so a bias towards low indices) practically impossible.
        order = tf.argsort(
            tf.random.stateless_uniform([count], seed=epoch_seed, dtype=tf.float64), stable=True
        )
        # A second, independent stream for the crops: its key paired with the position.
        crop_key = tf.random.stateless_uniform(
            [], seed=epoch_seed, minval=None, maxval=None, dtype=tf.int64
        )

        def crop_at(position: tf.Tensor) -> tf.Tensor:
            item_seed = tf.stack([crop_key, position])
            return _random_crop(tensors, photo_of_item[order[position]], item_seed, hr_size)

        skipped = tf.where(this_epoch == epoch, tf.constant(skip_batches * batch_size, tf.int64), 0)
        crops = tf.data.Dataset.range(tf.minimum(skipped, count), count)
        crops = crops.map(crop_at, **parallel)
        return crops.batch(batch_size, drop_remainder=False, **parallel)

    def degrade(hr: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return to_model(downsample(hr, scale)), to_model(hr)

    dataset = tf.data.Dataset.range(epoch, epoch + epochs).flat_map(one_epoch)
    if replicas > 1:
        dataset = dataset.map(lambda hr: hr[: tf.shape(hr)[0] // replicas * replicas])
        dataset = dataset.filter(lambda hr: tf.shape(hr)[0] > 0)
    dataset = dataset.map(degrade, **parallel)
    if background:
        return dataset.prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = 1
    return dataset.with_options(options)


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
