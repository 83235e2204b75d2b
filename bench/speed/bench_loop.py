"""The training loop against its bare step: `python main.py` as a user runs it, and the
same compiled step called alone, in each precision, for the warm-up and the GAN phase.

    python bench/speed/bench_loop.py [--epochs 8] [--batches 12] [--gan_batches 3] [--repeats 2]

Faithful sizes (the seed's generator, 64 features, 16 blocks, batch 16, 48 px crops;
VGG term off, no validation, no checkpoint inside the timed epochs). Through the loop:
a `main.py` process per precision and phase, timed between the progress bars of epoch 2
and of the last epoch as they appear on its stderr, so start-up, tracing and the final
save are left out. Bare: the same step, built as the loop builds it, called on constant
tensors and read back once a step. The two alternate, so that load from elsewhere hits
both alike; each figure is the median of --repeats. The ratio of the two rates is the
figure that matters; the CPU is named and the float32 and bfloat16 yardsticks are timed
in the same run, so that the bare rates can be set against other runs.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import PRECISIONS, build_train_steps, step_parser, timed, yardsticks  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data as skdata  # noqa: E402

from srgan.config import TrainConfig  # noqa: E402
from srgan.runtime.backends import device_name  # noqa: E402
from srgan.training.draws import penalty_draws  # noqa: E402

CROP = 48
PHOTO = 4 * CROP  # 16 crop areas a photo


def write_photos(folder: Path, count: int) -> None:
    """`count` PHOTO px squares cut from scikit-image's photos: count * 16 crops an epoch."""
    sources = [skdata.astronaut(), skdata.chelsea(), skdata.coffee(), skdata.rocket()]
    (folder / "train").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        photo = sources[i % len(sources)]
        top, left = (i // len(sources) * 37) % (photo.shape[0] - PHOTO), (i * 53) % (photo.shape[1] - PHOTO)
        Image.fromarray(photo[top:top + PHOTO, left:left + PHOTO]).save(folder / "train" / f"{i:03d}.png")


def config_for(precision: str, warm_up: bool, epochs: int) -> TrainConfig:
    return TrainConfig(n_epoch_init=epochs if warm_up else 0, n_epoch=0 if warm_up else epochs,
                       save_every=10_000, vgg_weights="none", val_images=0, bn_batches=0,
                       warmup_optimizer="adam", warmup_lr=2e-4, precision=precision, seed=1)


def loop_seconds_per_step(config: TrainConfig, data_dir: Path, batches: int) -> float:
    """Seconds a step through `python main.py`, between the bars of epoch 2 and the last."""
    with tempfile.TemporaryDirectory(prefix="srgan-bench-run-") as run:
        command = [sys.executable, str(ROOT / "main.py"), "--data_dir", str(data_dir),
                   "--checkpoint_dir", run, "--seed", "1", "--n_epoch_init", str(config.n_epoch_init),
                   "--n_epoch", str(config.n_epoch), "--save_every", str(config.save_every),
                   "--vgg_weights", "none", "--val_images", "0", "--bn_batches", "0",
                   "--warmup_optimizer", "adam", "--warmup_lr", "2e-4",
                   "--precision", config.precision]
        total = config.n_epoch_init + config.n_epoch
        seen: dict[int, float] = {}
        process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   env={**os.environ, "COLUMNS": "120"})
        text = b""
        while chunk := os.read(process.stderr.fileno(), 4096):
            now = time.monotonic()
            text += chunk
            for epoch in re.findall(rb"epoch (\d+)/%d" % total, chunk):
                seen.setdefault(int(epoch), now)
        if process.wait() != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{text.decode(errors='replace')[-2000:]}")
    return (seen[total] - seen[2]) / ((total - 2) * batches)


def bare_step(config: TrainConfig):
    """The step the loop runs, built as the loop builds it, on constant tensors."""
    steps = build_train_steps(config.model, config.features, config.blocks, config.precision,
                              config=config)
    lr = tf.random.uniform([config.batch_size, CROP // 4, CROP // 4, 3], -1, 1)
    hr = tf.random.uniform([config.batch_size, CROP, CROP, 3], -1, 1)
    if config.n_epoch_init:
        return lambda: steps.warmup_step(lr, hr)
    use_mse = tf.constant(False)
    return lambda: {**steps.critic_step(lr, hr, penalty_draws(0, 0, steps.global_batch(hr))), **steps.generator_step(lr, hr, use_mse)}


def main() -> None:
    parser = step_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=8, help="epochs a loop run; 2..last are timed")
    parser.add_argument("--batches", type=int, default=12, help="warm-up batches an epoch")
    parser.add_argument("--gan_batches", type=int, default=3, help="GAN batches an epoch")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--phases", default="warmup,gan")
    args = parser.parse_args()
    print(f"device: {device_name()}; TensorFlow {tf.__version__}; batch 16, {CROP} px crops, "
          f"the seed's generator 64 x 16, VGG term off")
    yardsticks()
    print(f"\n{'precision':15} {'phase':7} {'bare s/step':>11} {'loop s/step':>11} {'loop/bare rate':>14} "
          f"{'bare img/s':>10} {'loop img/s':>10}")
    with tempfile.TemporaryDirectory(prefix="srgan-bench-data-") as scratch:
        for phase in args.phases.split(","):
            batches = args.batches if phase == "warmup" else args.gan_batches
            data_dir = Path(scratch) / phase
            write_photos(data_dir, batches)
            for precision in PRECISIONS:
                config = config_for(precision, phase == "warmup", args.epochs)
                call = bare_step(config)
                bare, loop = [], []
                for _ in range(args.repeats):
                    bare.append(timed(call, args.steps))
                    loop.append(loop_seconds_per_step(config, data_dir, batches))
                bare_s, loop_s = float(np.median(bare)), float(np.median(loop))
                print(f"{precision:15} {phase:7} {bare_s:11.3f} {loop_s:11.3f} {bare_s / loop_s:14.1%} "
                      f"{16 / bare_s:10.2f} {16 / loop_s:10.2f}", flush=True)


if __name__ == "__main__":
    main()
