"""Times the seed's training steps under each Keras backend, from the same weights and batch.

    python bench/speed/bench_backends.py [--batch_size 16] [--steps 3] [--features 64] [--blocks 16]
                                   [--precision float32|mixed_bfloat16] [--backends tensorflow,jax]
                                   [--peak_tflops T]

Each backend runs in a fresh process (KERAS_BACKEND set, the project's own steps: srgan/training/tf_steps.py
under TensorFlow, srgan/training/jax_steps.py under JAX) and times the MSE warm-up step and the GAN
step (critic update + generator update, no VGG term), the median of --steps calls after one
that compiles. Where TensorFlow is importable, the same run times the float32 and bfloat16
yardsticks (bench/common.py) and every figure is also a ratio to the conv of its precision.
JAX's compiled steps count their FLOPs (XLA's cost analysis); with --peak_tflops (the chip's
dense peak in that precision, e.g. 989 for an H200's bfloat16) it prints the GAN step's
fraction of it. On a machine without TensorFlow (the lent accelerator) pass --backends jax.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SIDE = """
import json, sys, time
sys.path.insert(0, {root!r})
import keras, numpy as np
from srgan.config import TrainConfig
from srgan.models.registry import build_networks
from srgan.run.state import Networks
from srgan.runtime import precision
from srgan.runtime.backends import device_name
from srgan.training import recipe
from srgan.training.draws import penalty_draws

args = json.loads(sys.argv[1])
config = TrainConfig(features=args["features"], blocks=args["blocks"], vgg_weights="none")
with precision.policy(args["precision"]):
    keras.utils.set_random_seed(0)
    generator, critic = build_networks("seed", args["features"], args["blocks"], 48)
    _, content = recipe.model_losses(config)
generator_optimizer, critic_optimizer, _ = recipe.optimizers(config)
steps = recipe.step_class("seed")(Networks(generator, critic, generator_optimizer, critic_optimizer),
                                None, content)
rng = np.random.default_rng(0)
batch = args["batch_size"]
hr = (rng.uniform(-1, 1, (batch, 48, 48, 3)).cumsum(axis=2) / 12).clip(-1, 1).astype("float32")
lr = keras.ops.image.resize(hr, (12, 12))
epsilon = penalty_draws(0, 0, batch)

def median(call):
    call()  # compiles
    times = []
    for _ in range(args["steps"]):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))

def warmup():
    return float(steps.warmup_step(lr, hr)["content"])

def gan():
    steps.critic_step(lr, hr, epsilon)
    return float(steps.generator_step(lr, hr, False)["generator"])

result = {{"device": device_name(), "warmup_s": median(warmup), "gan_s": median(gan)}}
if keras.backend.backend() == "jax":
    state = steps._take()
    costs = [steps._critic.lower(state, lr, hr, epsilon, 1e-4).compile().cost_analysis(),
             steps._generator.lower(state, lr, hr, False, 1e-4).compile().cost_analysis()]
    costs = [cost[0] if isinstance(cost, list) else cost for cost in costs]
    result["gan_flops"] = float(sum(cost.get("flops", 0.0) for cost in costs))
print("RESULT " + json.dumps(result))
"""


def _side(backend: str, args: argparse.Namespace) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SIDE.format(root=str(ROOT)), json.dumps(vars(args))],
        capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": backend})
    if done.returncode != 0:
        sys.exit(f"{backend} side failed:\n{done.stderr[-3000:]}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3, help="timed calls per measurement")
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=16)
    parser.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16"))
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--peak_tflops", type=float, default=None)
    args = parser.parse_args()
    backends = args.backends.split(",")
    conv = None
    if importlib.util.find_spec("tensorflow") is not None:
        sys.path.insert(0, str(ROOT))
        from bench.common import yardsticks
        conv = yardsticks()[f"conv {args.precision}"]
    results = {}
    for backend in backends:
        results[backend] = _side(backend, args)
        print(f"{backend}: {json.dumps(results[backend])}")
    print(f"\nseed model {args.features}x{args.blocks}, batch {args.batch_size}, {args.precision}, "
          f"device {results[backends[0]]['device']}")
    for backend, result in results.items():
        line = f"{backend:>10}: warm-up step {result['warmup_s'] * 1e3:.0f} ms, GAN step {result['gan_s']:.2f} s"
        if "gan_flops" in result:
            rate = result["gan_flops"] / result["gan_s"] / 1e9
            line += f", GAN step {result['gan_flops'] / 1e9:.1f} GFLOP ({rate:.0f} GFLOP/s"
            if conv is not None:
                line += f", {rate / conv:.2f}x the {args.precision} conv yardstick"
            if args.peak_tflops:
                line += f", {rate / 1e3 / args.peak_tflops:.1%} of {args.peak_tflops:g} TFLOP/s"
            line += ")"
        print(line)
    if {"tensorflow", "jax"} <= results.keys():
        tf_, jax_ = results["tensorflow"], results["jax"]
        print(f"JAX / TensorFlow time: warm-up {jax_['warmup_s'] / tf_['warmup_s']:.2f}x, "
              f"GAN {jax_['gan_s'] / tf_['gan_s']:.2f}x")


if __name__ == "__main__":
    main()
