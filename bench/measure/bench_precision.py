"""Quality parity of the precisions: the same MSE warm-up in float32 and in
mixed_bfloat16, scored on held-out photos; and a short GAN run in each, its loss terms.

    python bench/measure/bench_precision.py --data_dir data_wallpapers [--steps 1000] [--gan_steps 10]
        [--precisions float32,mixed_bfloat16]

The seed's generator at its defaults, the same initial weights and the same batches
(48 px crops of DATA_DIR/train, batch 16, Adam 2e-4) in each precision; precise
BatchNorm statistics from 32 training batches; PSNR-Y and SSIM-Y as --mode=testing
measures them, on up to --val_images photos of DATA_DIR/test. The GAN run starts from
the same initial weights with the seed's losses (RMSProp 8e-5, VGG term off) and prints
the range of each loss term. Every choice is seeded, so a precision run alone gives the
same numbers as in a run of both.
"""

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import PRECISIONS  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from srgan.config import TrainConfig  # noqa: E402
from srgan.data.pipeline import load_photo_set, training_dataset  # noqa: E402
from srgan.runtime.backends import device_name  # noqa: E402
from srgan.evaluation.validation import Validator  # noqa: E402
from srgan.losses.content import content_loss  # noqa: E402
from srgan.runtime.precision import policy as dtype_policy  # noqa: E402
from srgan.run.state import Networks  # noqa: E402
from srgan.models.registry import build_networks  # noqa: E402
from srgan.training.tf_steps import TrainSteps  # noqa: E402
from srgan.training.batchnorm import recompute_batchnorm_statistics  # noqa: E402
from srgan.training.recipe import optimizers  # noqa: E402
from srgan.training.draws import penalty_draws  # noqa: E402


def batches(photos, batch_size: int, seed: int):
    """Endless 48 px batches, the same in every precision."""
    epoch = 0
    while True:
        yield from training_dataset(photos, batch_size, epoch, seed, 48)
        epoch += 1


def build_steps(policy: str) -> TrainSteps:
    keras.utils.set_random_seed(0)
    with dtype_policy(policy):
        generator, critic = build_networks("seed", 64, 16, 48)
    config = TrainConfig(warmup_optimizer="adam", warmup_lr=2e-4)
    generator_optimizer, critic_optimizer, warmup_optimizer = optimizers(config)
    return TrainSteps(Networks(generator, critic, generator_optimizer, critic_optimizer, warmup_optimizer),
                      None, content_loss("ssim"))


def warm_up(policy: str, photos, data_dir: Path, args) -> None:
    steps = build_steps(policy)
    generator = steps.generator
    data = batches(photos, 16, seed=1)
    start = time.perf_counter()
    losses = [float(steps.warmup_step(*next(data))["content"]) for _ in range(args.steps)]
    minutes = (time.perf_counter() - start) / 60
    recompute_batchnorm_statistics(generator, (lr for lr, _ in
                                               itertools.islice(training_dataset(photos, 16, -1, 1, 48), 32)))
    validator = Validator(generator, data_dir, args.val_images, margin=16)
    scores = validator.score()
    print(f"{policy:15} {args.steps} warm-up steps in {minutes:.1f} min; MSE first/last 50: "
          f"{np.mean(losses[:50]):.5f} / {np.mean(losses[-50:]):.5f}; held-out "
          f"({len(validator)} photos) PSNR-Y {scores['psnr_y']:.3f} dB, SSIM-Y "
          f"{scores['ssim_y']:.4f} (bicubic {validator.bicubic['psnr_y']:.3f} / "
          f"{validator.bicubic['ssim_y']:.4f})", flush=True)


def gan_run(policy: str, photos, args) -> None:
    steps = build_steps(policy)
    data = batches(photos, 16, seed=2)
    terms: dict[str, list[float]] = {}
    use_mse = tf.constant(False)
    for _ in range(args.gan_steps):
        lr, hr = next(data)
        for name, value in {**steps.critic_step(lr, hr, penalty_draws(0, 0, steps.global_batch(hr))), **steps.generator_step(lr, hr, use_mse)}.items():
            terms.setdefault(name, []).append(float(value))
    print(f"{policy:15} {args.gan_steps} GAN steps: " + ", ".join(
        f"{name} {min(values):.4g}..{max(values):.4g}" for name, values in terms.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--gan_steps", type=int, default=10)
    parser.add_argument("--val_images", type=int, default=512)
    parser.add_argument("--precisions", default=",".join(PRECISIONS),
                        help="comma-separated precisions of the warm-up comparison")
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    photos, _ = load_photo_set(data_dir / "train")
    print(f"device: {device_name()}; TensorFlow {tf.__version__}; {len(photos)} training photos")
    for policy in PRECISIONS:
        gan_run(policy, photos, args)
    for policy in args.precisions.split(","):
        warm_up(policy, photos, data_dir, args)


if __name__ == "__main__":
    main()
