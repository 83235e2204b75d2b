"""Training under JAX with TensorFlow blocked, as on the accelerator machine: the command
line trains, stops and resumes exactly, validates, keeps its best checkpoint and logs,
scores its run with --mode=testing, and a run folder resumes under either backend."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from srgan.evaluation.curve import read_validation_curve
from srgan.run.folder import read_arrays
from srgan.training import loop
from tests.helpers import ROOT, checkpoint_values, tiny_config

# One warm-up epoch and one GAN epoch of two batches of two photos: steps 1-2 and 3-4.
SHORT = dict(n_epoch_init=1, n_epoch=1, batch_size=2, val_images=0)

JAX_SIDE = """
import json, os, signal, sys
sys.modules["tensorflow"] = None  # as on the accelerator machine
sys.path.insert(0, {root!r})
import keras
from srgan.training import jax_steps
from srgan.cli import main

data, common, folders = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
def train(folder, *more):
    return main([*common, "--data_dir", data, "--checkpoint_dir", folder, *more])

generator_step = jax_steps.JaxSteps.generator_step
def stopping(self, *args):  # Ctrl+C after the first GAN step
    terms = generator_step(self, *args)
    os.kill(os.getpid(), signal.SIGINT)
    return terms
jax_steps.JaxSteps.generator_step = stopping
assert train(folders["interrupted"]) == 0
jax_steps.JaxSteps.generator_step = generator_step
assert train(folders["interrupted"]) == 0
assert train(folders["straight"], "--val_images", "2") == 0
assert train(folders["from_tensorflow"], "--n_epoch", "2", "--lr_init", "1e-3") == 0
assert main(["--mode=testing", "--checkpoint_dir", folders["straight"], "--data_dir", data,
             "--results_dir", folders["results"]]) == 0
assert keras.backend.backend() == "jax" and sys.modules["tensorflow"] is None
"""


def _flags(config) -> list[str]:
    return ["--features", str(config.features), "--blocks", str(config.blocks),
            "--batch_size", str(config.batch_size), "--n_epoch_init", str(config.n_epoch_init),
            "--n_epoch", str(config.n_epoch), "--seed", str(config.seed), "--save_every", "1",
            "--vgg_weights", "none", "--precision", "float32", "--val_images", "0"]


def _generator(values: dict) -> np.ndarray:
    return np.concatenate([values[name].ravel() for name in sorted(values)
                           if name.startswith("generator/")])


@pytest.mark.slow
def test_a_run_trains_stops_and_resumes_under_jax_and_a_folder_resumes_under_either_backend(
        data_dir_of, tmp_path, capsys):
    data = data_dir_of(4)
    config = tiny_config(data, tmp_path / "tensorflow", **SHORT)
    loop.train(config)  # under TensorFlow: steps 1-4
    folders = {name: str(tmp_path / name)
               for name in ("interrupted", "straight", "from_tensorflow", "results")}
    shutil.copytree(tmp_path / "tensorflow", folders["from_tensorflow"])
    done = subprocess.run(
        [sys.executable, "-c", JAX_SIDE.format(root=str(ROOT)), str(data),
         json.dumps(_flags(config)), json.dumps(folders)],
        capture_output=True, text=True, cwd=tmp_path, timeout=900,
        env={**os.environ, "KERAS_BACKEND": "jax"})
    assert done.returncode == 0, done.stderr[-3000:]
    err = done.stderr
    assert "one device (JAX cpu" in err and "Traceback" not in err
    assert "stopped in epoch 2, batch 1, step 3: saved" in err
    assert f"resuming from {folders['interrupted']}/ckpt-3: epoch 2, batch 1" in err
    assert f"resuming from {folders['from_tensorflow']}/ckpt-4" in err

    # Stopped and resumed under JAX, the run ends where the uninterrupted one does.
    straight = checkpoint_values(Path(folders["straight"]))
    resumed = checkpoint_values(Path(folders["interrupted"]))
    assert straight.keys() == resumed.keys() and int(straight["step"]) == 4
    for name in straight:
        np.testing.assert_allclose(resumed[name], straight[name], rtol=1e-5, atol=1e-7, err_msg=name)
    # It validated, kept its best checkpoint, drew its samples and logged its curve.
    _, curve = read_validation_curve(Path(folders["straight"]))
    assert [step for step, _, _ in curve["psnr_y"]] == [2, 4]
    best = json.loads((Path(folders["straight"]) / "best" / "best.json").read_text())
    assert best["step"] in (2, 4) and (Path(folders["straight"]) / "samples" / "valid_epoch00002.png").is_file()
    summary = json.loads((Path(folders["results"]) / "summary.json").read_text())
    assert json.dumps(summary).count("ckpt-4") >= 1

    # JAX's run resumes under TensorFlow: its state loads as saved and trains on.
    capsys.readouterr()
    loop.train(tiny_config(data, folders["straight"], **{**SHORT, "n_epoch": 2}))
    assert f"resuming from {folders['straight']}/ckpt-4" in capsys.readouterr().err
    assert int(read_arrays(Path(folders["straight"]) / "ckpt-6")["step"]) == 6
    # TensorFlow's run, resumed under JAX for steps 5-6 (above) and under TensorFlow: the
    # same steps to float32 tolerance (as tests/unit/runtime/test_backends.py holds them), from the same
    # state, on the same batches and penalty draws, so the two ends differ by a small part
    # of how far the generator moved (fresh runs would not: each backend draws its own
    # initial weights from a seed).
    # Both at a rate that moves the weights well past float32's noise in two steps (0.7%
    # of the movement apart, measured).
    loop.train(tiny_config(data, tmp_path / "tensorflow", **{**SHORT, "n_epoch": 2, "lr_init": 1e-3}))
    start = read_arrays(tmp_path / "tensorflow" / "ckpt-4")
    under_tf = read_arrays(tmp_path / "tensorflow" / "ckpt-6")
    under_jax = read_arrays(Path(folders["from_tensorflow"]) / "ckpt-6")
    assert under_tf.keys() == under_jax.keys()
    np.testing.assert_array_equal(under_jax["generator_optimizer/0000"], 6)  # its iterations: all 6 steps
    moved = np.linalg.norm(_generator(under_tf) - _generator(start))
    apart = np.linalg.norm(_generator(under_tf) - _generator(under_jax))
    assert moved > 1e-4 and apart < 0.02 * moved, (moved, apart)


TWO_DEVICES = """
import contextlib, json, sys
sys.modules["tensorflow"] = None
sys.path.insert(0, {root!r})
import keras, numpy as np
from srgan.cli import main
from srgan.config import TrainConfig
from srgan.models.registry import build_networks
from srgan.run.state import Networks
from srgan.training import jax_devices, recipe
from srgan.training.draws import penalty_draws

data, common, folders = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
def train(folder, *more):
    assert main([*common, "--data_dir", data, "--checkpoint_dir", folder, *more]) == 0
train(folders["straight"], "--strategy", "one")
train(folders["moved"], "--strategy", "one", "--n_epoch", "0")
train(folders["moved"], "--strategy", "mirrored")

rng = np.random.default_rng(0)
hr = rng.uniform(-1, 1, (4, 48, 48, 3)).astype(np.float32)
lr = rng.uniform(-1, 1, (4, 12, 12, 3)).astype(np.float32)
def one_step_each(model, distribution):
    with distribution.scope() if distribution else contextlib.nullcontext():
        keras.utils.set_random_seed(3)
        generator, critic = build_networks(model, 4, 1, 48)
        config = TrainConfig(features=4, blocks=1, vgg_weights="none", seed=3, model=model)
        vgg, content = recipe.model_losses(config)
        # Plain SGD, as the mirrored test under TensorFlow: a weight's change is the
        # gradient times the rate, which RMSProp and Adam would amplify in its rounding.
        optimizers = keras.optimizers.SGD(1e-3), keras.optimizers.SGD(1e-3)
    steps = recipe.step_class(model)(Networks(generator, critic, *optimizers), vgg, content, strategy=distribution)
    (x, y), = steps.distribute(iter([(lr, hr)]))
    losses = {{**steps.warmup_step(x, y), **steps.critic_step(x, y, penalty_draws(0, 0, 4)),
               **{{"g_" + k: v for k, v in steps.generator_step(x, y, False).items()}}}}
    steps.sync()
    return ({{k: float(v) for k, v in losses.items()}},
            [np.asarray(w) for w in generator.weights + critic.weights], steps.replicas)
result = {{}}
for model in ("seed", "srgan", "wsrgan"):
    one, one_weights, _ = one_step_each(model, None)
    two, weights, replicas = one_step_each(model, jax_devices.resolve("auto")[0])
    result[model] = {{"replicas": replicas,
                      "loss": max(abs(one[k] - two[k]) / max(1.0, abs(one[k])) for k in one),
                      "weight": max(float(np.abs(a - b).max()) for a, b in zip(one_weights, weights))}}
print(json.dumps(result))
"""


@pytest.mark.slow
def test_two_devices_under_jax_train_as_one(data_dir_of, tmp_path):
    """Keras' DataParallel over two host CPU devices (SRGAN_CPU_DEVICES=2), TensorFlow
    blocked: a step of each model computes what it computes on one device, and a run moves
    from one device to two and ends where the one-device run does."""
    data = data_dir_of(4)
    config = tiny_config(data, tmp_path, **SHORT)
    folders = {name: str(tmp_path / name) for name in ("straight", "moved")}
    done = subprocess.run(
        [sys.executable, "-c", TWO_DEVICES.format(root=str(ROOT)), str(data),
         json.dumps(_flags(config)), json.dumps(folders)],
        capture_output=True, text=True, cwd=tmp_path, timeout=900,
        env={**os.environ, "KERAS_BACKEND": "jax", "SRGAN_CPU_DEVICES": "2"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "data parallel over cpu:0, cpu:1 (Keras DataParallel under JAX)" in done.stderr
    assert f"resuming from {folders['moved']}/ckpt-2" in done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for model, diff in result.items():
        assert diff["replicas"] == 2
        assert diff["loss"] <= 1e-5 and diff["weight"] <= 1e-5, (model, diff)
    straight = checkpoint_values(Path(folders["straight"]))
    moved = checkpoint_values(Path(folders["moved"]))
    assert straight.keys() == moved.keys() and int(moved["step"]) == 4
    for name in straight:
        np.testing.assert_allclose(moved[name], straight[name], rtol=1e-4, atol=1e-6, err_msg=name)
