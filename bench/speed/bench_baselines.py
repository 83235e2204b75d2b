"""Times SRGAN, W-SRGAN and the seed's model side by side: training step and inference.

    python bench/speed/bench_baselines.py [--batch_size 16] [--steps 3] [--features 64] [--blocks 16]

For each model: one full training step (critic or discriminator update + generator
update, 12 -> 48, batch --batch_size) and the generator alone in inference mode on
one 12x12 LR image and on a batch. The content term is each model's own with random
VGG19 weights (same cost as ImageNet's): block4_pool at 56 px for the seed's model,
VGG54 (block5_conv4) at 48 px for the baselines. Prints images/s, GFLOP per image
(of the ops a call runs, convolution gradients included: bench/common.live_flops),
GFLOP/s and ms per GFLOP, so the three can be compared per image and per unit of
work in one run.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (build_train_steps, live_flops, matmul_gflops, step_flops,  # noqa: E402
                    step_parser, timed)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from srgan.runtime.backends import device_name  # noqa: E402
from srgan.models.registry import NAMES as MODELS  # noqa: E402
from srgan.training.draws import penalty_draws  # noqa: E402


def inference_flops(generator: keras.Model, batch: int) -> int:
    call = tf.function(lambda lr: generator(lr, training=False))
    return live_flops(call.get_concrete_function(tf.TensorSpec([batch, 12, 12, 3])))


def main() -> None:
    parser = step_parser(__doc__)
    args = parser.parse_args()
    batch = args.batch_size
    print(f"device: {device_name()}; TensorFlow {tf.__version__}; batch {batch}, 12 -> 48, "
          f"generators {args.features} features x {args.blocks} blocks")
    matmul = matmul_gflops()
    print(f"float32 2048x2048 matmul: {matmul:.1f} GFLOP/s\n")
    print(f"{'model':7} {'what':22} {'img/s':>9} {'GFLOP/img':>10} {'GFLOP/s':>8} {'ms/GFLOP':>9} "
          f"{'x matmul':>8}")
    lr = tf.random.uniform([batch, 12, 12, 3], -1, 1)
    hr = tf.random.uniform([batch, 48, 48, 3], -1, 1)
    use_mse = tf.constant(False)
    for model in MODELS:
        steps = build_train_steps(model, args.features, args.blocks)
        flops = step_flops(steps, batch)
        generator = steps.generator
        predict = tf.function(lambda x: generator(x, training=False))
        runs = [("training step", batch,
                 lambda: (steps.critic_step(lr, hr, penalty_draws(0, 0, steps.global_batch(hr))), steps.generator_step(lr, hr, use_mse)),
                 sum(flops[part][0] for part in ("critic", "generator"))),
                (f"inference, batch {batch}", batch, lambda: predict(lr), inference_flops(generator, batch)),
                ("inference, 1 image", 1, lambda: predict(lr[:1]), inference_flops(generator, 1))]
        for what, images, call, flops in runs:
            seconds = timed(call, args.steps)
            per_image = flops / images / 1e9
            rate = flops / seconds / 1e9
            print(f"{model:7} {what:22} {images / seconds:9.2f} {per_image:10.3f} {rate:8.1f} "
                  f"{1000 * seconds / images / per_image:9.2f} {rate / matmul:8.2f}")


if __name__ == "__main__":
    main()
