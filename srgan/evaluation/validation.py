"""Validation while training: PSNR-Y and SSIM-Y of the generator and of bicubic on up
to N photos of DATA_DIR/test, measured exactly as `--mode=testing` measures them (the
scores are logged and read back in curve.py)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from srgan.data.images import ImageError
from srgan.evaluation.testing import BORDER, MIN_HR, bicubic, hr_and_lr, test_pairs
from srgan.inference.upscale import DEFAULT_TILE, make_predictor, upscale_array
from srgan.metrics import psnr, ssim


class Validator:
    """Holds the HR and LR of up to `count` test photos, spread evenly over the sorted
    folder, and the bicubic scores of them, so each validation runs the model alone."""

    def __init__(self, generator: keras.Model, data_dir: Path, count: int, margin: int,
                 tile: int = DEFAULT_TILE):
        self.predict = make_predictor(generator)
        pairs = test_pairs(data_dir)
        picks = np.unique(np.linspace(0, len(pairs) - 1, num=min(count, len(pairs)), dtype=int))
        self.photos: list[tuple[np.ndarray, np.ndarray]] = []
        for index in picks:
            try:
                hr, lr, _ = hr_and_lr(*pairs[index])
            except ImageError:
                continue
            if min(hr.shape[:2]) >= MIN_HR:
                self.photos.append((hr, lr))
        self.margin = margin
        self.tile = tile
        self.bicubic = self._means([bicubic(lr) for _, lr in self.photos])

    def __len__(self) -> int:
        return len(self.photos)

    def _means(self, outputs: list[np.ndarray]) -> dict[str, float]:
        return {"psnr_y": float(np.mean([psnr(hr, sr, BORDER) for (hr, _), sr in zip(self.photos, outputs)])),
                "ssim_y": float(np.mean([ssim(hr, sr, BORDER) for (hr, _), sr in zip(self.photos, outputs)]))}

    def score(self) -> dict[str, float]:
        """{"psnr_y", "ssim_y"} of the generator as it is now, in inference mode."""
        return self._means([upscale_array(self.predict, lr, self.tile, self.margin)
                            for _, lr in self.photos])
