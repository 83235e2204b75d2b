"""The cost of tf.distribute itself: the seed's GAN step on 1 and on 2 logical CPU devices.

    python bench/speed/bench_strategy.py [--batch_size 16] [--steps 3] [--features 64 --blocks 16]

Each device count runs in a process of its own (SRGAN_CPU_DEVICES is read before
TensorFlow starts), with the same global batch. Both split the same 2 cores, so the
ratio of step times shows what MirroredStrategy adds (per-replica dispatch, the
all-reduce of gradients and of BatchNorm statistics), not a speed-up: that needs
devices of their own, GPUs. Prints one line per device count and the ratio.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import step_parser, timed  # noqa: E402

CHILD = "--child"


def child(args) -> None:
    from srgan.runtime.distribute import resolve, split_cpu_devices
    split_cpu_devices()
    import keras
    import numpy as np
    import tensorflow as tf

    from srgan.config import TrainConfig
    from srgan.models.registry import build_networks
    from srgan.training import recipe
    from srgan.run.state import Networks
    from srgan.training.draws import penalty_draws

    strategy, why = resolve("auto")
    config = TrainConfig(features=args.features, blocks=args.blocks, vgg_weights="none", seed=0)
    with strategy.scope():
        keras.utils.set_random_seed(0)
        generator, critic = build_networks("seed", args.features, args.blocks, 48)
        vgg, content = recipe.model_losses(config)
        generator_optimizer, critic_optimizer, _ = recipe.optimizers(config)
        generator_optimizer.build(generator.trainable_variables)
        critic_optimizer.build(critic.trainable_variables)
    steps = recipe.step_class("seed")(Networks(generator, critic, generator_optimizer, critic_optimizer),
                                    vgg, content, strategy=strategy)
    hr = np.random.default_rng(0).uniform(-1, 1, (args.batch_size, 48, 48, 3)).astype("float32")
    data = tf.data.Dataset.from_tensors((tf.image.resize(hr, (12, 12)), hr))
    if steps.replicas > 1:
        data = strategy.experimental_distribute_dataset(data)
    lr, hr = next(iter(data))
    use_mse = tf.constant(False)
    epsilon = penalty_draws(0, 0, steps.global_batch(hr))
    seconds = timed(lambda: (steps.critic_step(lr, hr, epsilon), steps.generator_step(lr, hr, use_mse))[1]["generator"],
                    args.steps)
    print(json.dumps({"strategy": why, "replicas": steps.replicas, "seconds": seconds}))


def main() -> None:
    parser = step_parser(__doc__)
    parser.add_argument(CHILD, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    results = {}
    for devices in (1, 2):
        out = subprocess.run([sys.executable, __file__, CHILD, *sys.argv[1:]], check=True,
                             capture_output=True, text=True,
                             env={**os.environ, "SRGAN_CPU_DEVICES": str(devices),
                                  "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout
        result = json.loads(out.strip().splitlines()[-1])
        results[devices] = result["seconds"]
        print(f"{devices} device(s): {result['strategy']}: {result['seconds'] * 1000:.0f} ms per GAN "
              f"step (critic + generator) of {args.batch_size} photos, median of {args.steps}")
    print(f"step time on 2 replicas / 1 device: {results[2] / results[1]:.2f}")


if __name__ == "__main__":
    main()
