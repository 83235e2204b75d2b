"""The seed generator's MSE warm-up under KERAS_BACKEND=jax, for an accelerator with no
TensorFlow (the shipped generator's last stretch was trained so: srgan/pretrained/seed_x4.json).

    KERAS_BACKEND=jax python scripts/warmup_jax.py --photos data_wallpapers/train \\
        --test data_wallpapers/test --weights srgan/pretrained/seed_x4.weights.h5 \\
        --seconds 500 --out runs/jax

The same step as `main.py`'s warm-up (srgan/steps.py): random 48 px crops of whole
photos, flipped at random, their LR by the project's antialiased bicubic (jax.image's
cubic kernel with antialiasing, equal to srgan/data/degrade.py's to the level), mean
squared error in [-1, 1], Adam, mixed_bfloat16. Crops are cut on the accelerator, so no
input pipeline limits the step rate. The run is cut to a wall-clock budget: after 200
steps it measures its rate and sets the learning rate's schedule (linear warm-up, then
cosine to 0) to end with the budget. It writes OUT/generator.weights.h5 (overwritten at
every `--save_every` seconds and at the end; it loads in TensorFlow with
`build_generator().load_weights`) and OUT/curve.csv: held-out PSNR-Y by minute.
"""

import argparse
import csv
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from srgan.data import images  # noqa: E402
from srgan.data.degrade import downsample, from_model, to_model  # noqa: E402
from srgan.metrics import psnr  # noqa: E402
from srgan.models.generator import build_generator  # noqa: E402

# Steps timed before the schedule is set: past the compilation, long enough to average.
CALIBRATION_STEPS = 200


def _padded(photos: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The photos in one zero-padded uint8 array, with each one's height and width."""
    heights = np.array([p.shape[0] for p in photos])
    widths = np.array([p.shape[1] for p in photos])
    stack = np.zeros((len(photos), heights.max(), widths.max(), 3), np.uint8)
    for i, photo in enumerate(photos):
        stack[i, : photo.shape[0], : photo.shape[1]] = photo
    return stack, heights, widths


def make_crops(stack: jax.Array, heights: jax.Array, widths: jax.Array, key: jax.Array,
               batch: int, crop: int) -> jax.Array:
    """`batch` random crops, each photo drawn in proportion to the crop areas it holds (as
    srgan/data/pipeline.py's epoch), each crop flipped left-right with probability 1/2."""
    areas = jnp.maximum(1, (heights // crop) * (widths // crop)).astype(jnp.float32)
    k_photo, k_top, k_left, k_flip = jax.random.split(key, 4)
    photo = jax.random.choice(k_photo, len(areas), (batch,), p=areas / areas.sum())
    top = jnp.floor(jax.random.uniform(k_top, (batch,)) * (heights[photo] - crop + 1)).astype(int)
    left = jnp.floor(jax.random.uniform(k_left, (batch,)) * (widths[photo] - crop + 1)).astype(int)

    def one(p, t, l):
        return jax.lax.dynamic_slice(stack, (p, t, l, 0), (1, crop, crop, 3))[0]

    crops = jax.vmap(one)(photo, top, left)
    flip = jax.random.bernoulli(k_flip, 0.5, (batch,))
    return jnp.where(flip[:, None, None, None], crops[:, :, ::-1], crops)


def schedule(step: int, total: int, peak: float, warmup: int) -> float:
    """Linear warm-up to `peak` over `warmup` steps, then cosine to 0 at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * peak * (1.0 + math.cos(math.pi * progress))


def held_out_psnr(generator: keras.Model, state: tuple, tiles: np.ndarray, lr: jax.Array) -> float:
    """Mean PSNR-Y (4 px border) over the held-out tiles, from their LR in model values,
    in inference mode."""
    trainable, non_trainable = state
    sr, _ = generator.stateless_call(trainable, non_trainable, lr, training=False)
    sr = np.asarray(from_model(sr))
    return float(np.mean([psnr(hr, out) for hr, out in zip(tiles, sr, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, required=True, help="folder of training photos")
    parser.add_argument("--test", type=Path, help="folder of held-out HR tiles, scored by minute")
    parser.add_argument("--weights", type=Path, help="a .weights.h5 to start from (default: "
                        "a new generator, initialised as the reference)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=float, required=True,
                        help="wall-clock budget, counted from the start of this script")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--crop", type=int, default=48)
    parser.add_argument("--lr_peak", type=float, default=2e-4, help="Adam's peak learning rate")
    parser.add_argument("--lr_warmup", type=int, default=500, help="steps of linear warm-up")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--save_every", type=float, default=120.0, help="seconds")
    parser.add_argument("--reserve", type=float, default=30.0,
                        help="seconds kept at the end for the last score and save")
    args = parser.parse_args()
    started = time.monotonic()
    elapsed = lambda: time.monotonic() - started  # noqa: E731
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"devices: {jax.devices()}", flush=True)

    keras.config.set_dtype_policy("mixed_bfloat16")
    keras.utils.set_random_seed(args.seed)
    generator = build_generator()
    if args.weights:
        generator.load_weights(args.weights)
    photos, _ = images.load_folder(args.photos, min_size=args.crop)
    stack, heights, widths = (jnp.asarray(a) for a in _padded(photos))
    tiles = np.stack(images.load_folder(args.test, min_size=args.crop)[0]) if args.test else None
    tiles_lr = None if tiles is None else to_model(downsample(jnp.asarray(tiles)))  # made once
    print(f"{len(photos)} photos, {0 if tiles is None else len(tiles)} held-out tiles", flush=True)

    # Here, not at the top: the tests import this script for its crops and schedule
    # where optax (not a requirement; the accelerator machine has it) is not installed.
    import optax

    optimizer = optax.inject_hyperparams(optax.adam)(learning_rate=0.0, b1=0.9, b2=0.999, eps=1e-7)
    trainable = [v.value for v in generator.trainable_variables]
    non_trainable = [v.value for v in generator.non_trainable_variables]
    opt_state = optimizer.init(trainable)

    def loss_fn(trainable, non_trainable, lr, hr):
        sr, non_trainable = generator.stateless_call(trainable, non_trainable, lr, training=True)
        return jnp.mean(jnp.square(hr - sr)), non_trainable

    # The photos are arguments, not closed over: a closed-over array would be compiled into
    # the program as a constant.
    @jax.jit
    def train_step(trainable, non_trainable, opt_state, key, learning_rate, stack, heights, widths):
        hr = make_crops(stack, heights, widths, key, args.batch_size, args.crop)
        lr = to_model(downsample(hr))
        (loss, non_trainable), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            trainable, non_trainable, lr, to_model(hr))
        opt_state.hyperparams["learning_rate"] = learning_rate
        updates, opt_state = optimizer.update(grads, opt_state, trainable)
        return optax.apply_updates(trainable, updates), non_trainable, opt_state, loss

    def save() -> None:
        for variable, value in zip(generator.trainable_variables, trainable, strict=True):
            variable.assign(value)
        for variable, value in zip(generator.non_trainable_variables, non_trainable, strict=True):
            variable.assign(value)
        partial = args.out / "generator.partial.weights.h5"
        generator.save_weights(partial)
        partial.replace(args.out / "generator.weights.h5")

    curve = open(args.out / "curve.csv", "w", newline="")
    rows = csv.writer(curve)
    rows.writerow(["seconds", "step", "learning_rate", "train_mse", "held_out_psnr_y"])

    def mark(step: int, learning_rate: float, loss: float) -> None:
        score = "" if tiles is None else held_out_psnr(generator, (trainable, non_trainable),
                                                        tiles, tiles_lr)
        rows.writerow([f"{elapsed():.1f}", step, f"{learning_rate:.3g}", f"{loss:.5f}", score])
        curve.flush()
        print(f"{elapsed():7.1f} s  step {step:7d}  rate {learning_rate:.3g}  mse {loss:.5f}  "
              f"held-out PSNR-Y {score}", flush=True)

    mark(0, 0.0, float("nan"))
    key = jax.random.PRNGKey(args.seed)
    total = None
    step, last_save, last_mark, loss, learning_rate = 0, elapsed(), elapsed(), jnp.nan, 0.0
    end = args.seconds - args.reserve
    while elapsed() < end and (total is None or step < total):
        if step == CALIBRATION_STEPS // 4:
            loss.block_until_ready()  # compiled: time the calibration from here
            timed_from, timed_step = elapsed(), step
        if step == CALIBRATION_STEPS:
            loss.block_until_ready()
            rate = (step - timed_step) / (elapsed() - timed_from)
            total = step + int(rate * (end - elapsed()) * 0.97)
            print(f"{rate:.1f} steps/s: the schedule ends at step {total}", flush=True)
        learning_rate = schedule(step, total or 10**9, args.lr_peak, args.lr_warmup)
        key, step_key = jax.random.split(key)
        trainable, non_trainable, opt_state, loss = train_step(
            trainable, non_trainable, opt_state, step_key, learning_rate, stack, heights, widths)
        step += 1
        if elapsed() - last_mark >= 60.0:
            mark(step, learning_rate, float(loss))
            last_mark = elapsed()
        if elapsed() - last_save >= args.save_every:
            save()
            last_save = elapsed()
    mark(step, learning_rate, float(loss))
    save()
    curve.close()
    print(f"wrote {args.out / 'generator.weights.h5'} after {step} steps in {elapsed():.0f} s")


if __name__ == "__main__":
    main()
