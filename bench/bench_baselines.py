"""Times SRGAN, W-SRGAN and the seed's model side by side: training step and inference.

    python bench/bench_baselines.py [--batch_size 16] [--steps 3] [--features 64] [--blocks 16]

For each model: one full training step (critic or discriminator update + generator
update, 12 -> 48, batch --batch_size) and the generator alone in inference mode on
one 12x12 LR image and on a batch. The content term is each model's own with random
VGG19 weights (same cost as ImageNet's): block4_pool at 56 px for the seed's model,
VGG54 (block5_conv4) at 48 px for the baselines. Prints images/s, GFLOP per image
(TensorFlow's profiler plus the convolution gradients it skips), GFLOP/s and ms per
GFLOP, so the three can be compared per image and per unit of work in one run.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import conv_gradient_flops, device_name, matmul_gflops, profiled_flops, timed  # noqa: E402

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from srgan.config import TrainConfig  # noqa: E402
from srgan.losses.content import content_loss  # noqa: E402
from srgan.losses.perceptual import VGG54_LAYER, VGG_LAYER, VGG_SIZE, vgg54_loss  # noqa: E402
from srgan.models import MODELS, build_networks  # noqa: E402
from srgan.training.loop import optimizers, step_class  # noqa: E402
from srgan.training.steps import TrainSteps  # noqa: E402


def _vgg(layer: str, size: int) -> keras.Model:
    vgg19 = keras.applications.VGG19(include_top=False, weights=None, input_shape=(size, size, 3))
    vgg = keras.Model(vgg19.input, vgg19.get_layer(layer).output)
    vgg.trainable = False
    return vgg


def build_steps(model: str, features: int, blocks: int) -> TrainSteps:
    keras.utils.set_random_seed(0)
    generator, critic = build_networks(model, features, blocks, 48)
    generator_optimizer, critic_optimizer = optimizers(TrainConfig(model=model))
    generator_optimizer.build(generator.trainable_variables)
    critic_optimizer.build(critic.trainable_variables)
    if model == "seed":
        vgg, content = _vgg(VGG_LAYER, VGG_SIZE), content_loss("ssim")
    else:
        vgg54 = _vgg(VGG54_LAYER, 48)
        vgg, content = None, lambda hr, sr: vgg54_loss(vgg54, hr, sr)
    return step_class(model)(generator, critic, generator_optimizer, critic_optimizer, vgg,
                        tf.random.Generator.from_seed(0), content)


def train_flops(steps: TrainSteps, batch: int) -> int:
    lr, hr = tf.TensorSpec([batch, 12, 12, 3]), tf.TensorSpec([batch, 48, 48, 3])
    traced = [tf.function(steps._critic_step).get_concrete_function(lr, hr),
              tf.function(steps._generator_step).get_concrete_function(lr, hr, tf.TensorSpec([], tf.bool))]
    return sum(profiled_flops(c) + conv_gradient_flops(c) for c in traced)


def inference_flops(generator: keras.Model, batch: int) -> int:
    call = tf.function(lambda lr: generator(lr, training=False))
    return profiled_flops(call.get_concrete_function(tf.TensorSpec([batch, 12, 12, 3])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3, help="timed calls per measurement")
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=16)
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
        steps = build_steps(model, args.features, args.blocks)
        generator = steps.generator
        predict = tf.function(lambda x: generator(x, training=False))
        runs = [("training step", batch,
                 lambda: (steps.critic_step(lr, hr), steps.generator_step(lr, hr, use_mse)),
                 train_flops(steps, batch)),
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
