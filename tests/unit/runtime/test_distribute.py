"""--strategy: the same training on one device, on N replicas of one machine, and on
several workers, tested here with logical CPU devices (SRGAN_CPU_DEVICES) and localhost
workers, each in a process of its own (TensorFlow fixes its devices at start-up)."""

import json
import os
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from srgan.errors import UserError
from srgan.runtime import distribute
from srgan.training import loop
from tests.helpers import ROOT, checkpoint_values, tiny_config

# tests/helpers.py's tiny_config, as flags.
TINY = ["--features", "4", "--blocks", "1", "--batch_size", "4", "--save_every", "1", "--seed", "7",
        "--vgg_weights", "none", "--precision", "float32"]
# Across replica counts the reductions run in another order (and synchronized BatchNorm
# takes its variance as E[x^2] - E[x]^2), so float32 sums differ in their last bits;
# RMSProp divides each step by the gradient's running scale, which turns those bits
# into up to ~3 x the learning rate on weights whose gradient is near zero, and the
# GAN's two players feed each other's differences: after 6 steps, up to 0.13% of a
# value (measured). One step is compared exactly (1e-5) above; a resume on the same
# replica count stays bit-exact (tests/unit/training/test_training.py).
ACROSS_REPLICAS = {"rtol": 1e-2, "atol": 1e-3}

STEP_SCRIPT = '''
import sys
sys.path.insert(0, {root!r})
from srgan.runtime.distribute import split_cpu_devices
split_cpu_devices()
import keras, numpy as np, tensorflow as tf
from srgan.config import TrainConfig
from srgan.runtime.distribute import resolve
from srgan.models.registry import build_networks
from srgan.run.state import Networks
from srgan.training import recipe
from srgan.training.draws import penalty_draws

hr = np.random.default_rng(0).uniform(-1, 1, (4, 48, 48, 3)).astype("float32")
lr = tf.image.resize(hr, (12, 12)).numpy()

def one_step_each(model, strategy):
    """The warm-up, critic and generator steps once each; (losses, every weight)."""
    config = TrainConfig(model=model, features=4, blocks=1, vgg_weights="none", seed=3)
    with strategy.scope():
        keras.utils.set_random_seed(3)
        # Keras' defaults: from the reference's N(0, 0.02) draws the activations reaching
        # SRGAN's BatchNorm are so small that float32 rounding in the replicas' synchronized
        # statistics moves a weight by 1.2e-3 after one step; this test is about exactness.
        generator, critic = build_networks(model, 4, 1, 48, init="glorot")
        vgg, content = recipe.model_losses(config)
        # Plain SGD: a weight's change is the gradient times the rate, so comparing
        # weights compares gradients (RMSProp and Adam would amplify rounding).
        optimizers = keras.optimizers.SGD(1e-3), keras.optimizers.SGD(1e-3)
        for optimizer, network in zip(optimizers, (generator, critic)):
            optimizer.build(network.trainable_variables)
    steps = recipe.step_class(model)(Networks(generator, critic, *optimizers), vgg,
                                   content, strategy=strategy)
    data = tf.data.Dataset.from_tensor_slices((lr, hr)).batch(4)
    if steps.replicas > 1:
        data = strategy.experimental_distribute_dataset(data)
    x, y = next(iter(data))
    losses = {{**steps.warmup_step(x, y), **steps.critic_step(x, y, penalty_draws(0, 0, steps.global_batch(y))),
               **{{"g_" + k: v for k, v in steps.generator_step(x, y, tf.constant(False)).items()}}}}
    networks = (generator, critic)
    return ({{k: float(v) for k, v in losses.items()}},
            [w.numpy() for network in networks for w in network.trainable_weights],
            [w.numpy() for network in networks for w in network.non_trainable_weights])

result = {{}}
for model in ("seed", "srgan", "wsrgan"):
    one, one_weights, one_statistics = one_step_each(model, tf.distribute.get_strategy())
    mirrored, weights, statistics = one_step_each(model, resolve("mirrored")[0])
    result[model] = {{"replicas": resolve("mirrored")[0].num_replicas_in_sync,
                      # Relative past 1: the critic's loss, 10x its penalty, can be large.
                      "loss": max(abs(one[k] - mirrored[k]) / max(1.0, abs(one[k])) for k in one),
                      "losses": one,
                      "weight": max(float(np.abs(a - b).max()) for a, b in zip(one_weights, weights)),
                      "statistics": max([float(np.abs(a - b).max())
                                         for a, b in zip(one_statistics, statistics)], default=0.0)}}
# Mixed precision on two replicas: float16 with its loss scale, bfloat16 without.
from srgan.runtime.precision import policy
for precision in ("mixed_float16", "mixed_bfloat16"):
    strategy = resolve("mirrored")[0]
    with strategy.scope(), policy(precision):
        keras.utils.set_random_seed(3)
        generator, critic = build_networks("seed", 4, 1, 48)
        config = TrainConfig(features=4, blocks=1, vgg_weights="none", seed=3)
        vgg, content = recipe.model_losses(config)
        optimizers = recipe.optimizers(config, loss_scale=precision == "mixed_float16")[:2]
        for optimizer, network in zip(optimizers, (generator, critic)):
            optimizer.build(network.trainable_variables)
    steps = recipe.step_class("seed")(Networks(generator, critic, *optimizers), vgg,
                                    content, strategy=strategy)
    x, y = next(iter(strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices((lr, hr)).batch(4))))
    losses = {{**steps.warmup_step(x, y), **steps.critic_step(x, y, penalty_draws(0, 0, steps.global_batch(y))),
               **steps.generator_step(x, y, tf.constant(False))}}
    result[precision] = {{"finite": all(np.isfinite(float(v)) for v in losses.values())}}
print(__import__("json").dumps(result))
'''


def run_python(code: str, env: dict | None = None, timeout: int = 600) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def main_process(args: list, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def finish(process: subprocess.Popen) -> str:
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return err


def assert_close(got: dict, expected: dict, tolerance: dict) -> None:
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, **tolerance, err_msg=name)


def test_strategies_resolve_and_refuse_clearly(monkeypatch):
    strategy, why = distribute.resolve("auto")
    assert strategy.num_replicas_in_sync == 1 and why.startswith("one device")
    assert distribute.is_chief(strategy)
    with pytest.raises(UserError, match="--batch_size 5 .* multiple of 2"):
        distribute.check_batch(5, types.SimpleNamespace(num_replicas_in_sync=2))
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match="needs TF_CONFIG"):
        distribute.resolve("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(UserError, match="TF_CONFIG is not JSON"):
        distribute.resolve("auto")
    monkeypatch.setenv(distribute.CPU_DEVICES_ENV, "two")
    with pytest.raises(UserError, match="SRGAN_CPU_DEVICES must be a whole number"):
        distribute.split_cpu_devices()


@pytest.mark.slow
def test_one_mirrored_step_of_each_model_equals_the_one_device_step_and_mixed_precision_runs():
    result = json.loads(run_python(STEP_SCRIPT.format(root=str(ROOT)),
                                   {distribute.CPU_DEVICES_ENV: "2"}).strip().splitlines()[-1])
    for model in ("seed", "srgan", "wsrgan"):
        diff = result[model]
        assert diff["replicas"] == 2
        assert diff["loss"] <= 1e-5 and diff["weight"] <= 1e-5, (model, diff)
        # BatchNorm's moving statistics (SRGAN's discriminator's move by up to 0.26 in the
        # step): the features they average pass layers that the step's gradients, scaled by
        # 1 / sqrt(var + 1e-5), changed, so their rounding grows (3.8e-5 seen).
        assert diff["statistics"] <= 1e-4, (model, diff)
    assert result["mixed_float16"]["finite"] and result["mixed_bfloat16"]["finite"]


@pytest.mark.slow
def test_a_run_moves_from_one_to_two_replicas_and_back(data_dir, tmp_path):
    """Epoch 1 on one device, epoch 2 on two replicas, epoch 3 on one device again,
    against three epochs on one device. Warm-up epochs: the generator's synchronized
    BatchNorm is what moves between replica counts (the critic's step is compared above)."""
    straight, moved = tmp_path / "straight", tmp_path / "moved"
    assert loop.train(tiny_config(data_dir, straight, n_epoch_init=3, n_epoch=0))
    assert loop.train(tiny_config(data_dir, moved, n_epoch_init=1, n_epoch=0))
    two = finish(main_process([*TINY, "--n_epoch_init", 2, "--n_epoch", 0, "--data_dir", data_dir,
                               "--checkpoint_dir", moved, "--strategy", "mirrored"],
                              {distribute.CPU_DEVICES_ENV: "2"}))
    assert "MirroredStrategy over /device:CPU:0, /device:CPU:1" in two
    assert f"resuming from {moved / 'ckpt-2'}" in two
    assert loop.train(tiny_config(data_dir, moved, n_epoch_init=3, n_epoch=0))
    assert_close(checkpoint_values(moved), checkpoint_values(straight), ACROSS_REPLICAS)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def localhost_workers(data_dir: Path, folder: Path, epochs: int) -> list[subprocess.Popen]:
    """Two workers on 127.0.0.1 training the tiny run in `folder` (worker 0 the chief)."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    return [main_process([*TINY, "--n_epoch", epochs, "--data_dir", data_dir, "--checkpoint_dir",
                          folder, "--strategy", "multiworker"],
                         {"TF_CONFIG": json.dumps({"cluster": cluster,
                                                   "task": {"type": "worker", "index": i}})})
            for i in range(2)]


@pytest.mark.slow
def test_two_localhost_workers_train_as_one_process_and_only_the_chief_writes(data_dir, tmp_path):
    folder = tmp_path / "run"
    workers = localhost_workers(data_dir, folder, epochs=1)
    chief, other = (finish(worker) for worker in workers)
    assert "MultiWorkerMirroredStrategy, 2 replicas; this is worker 0" in chief
    assert f"saved {folder / 'ckpt-2'}" in chief
    scratch = next(line for line in other.splitlines() if "saved " in line).split("saved ")[1]
    assert not Path(scratch).parent.exists()  # the other worker's folder is thrown away
    assert str(folder) not in other
    one = tmp_path / "one"
    loop.train(tiny_config(data_dir, one, n_epoch=1))
    assert_close(checkpoint_values(folder), checkpoint_values(one), ACROSS_REPLICAS)


@pytest.mark.slow
def test_a_worker_that_dies_stops_the_job_with_one_line(data_dir, tmp_path):
    folder = tmp_path / "run"
    workers = localhost_workers(data_dir, folder, epochs=100)
    deadline = time.monotonic() + 300
    while not (folder / "checkpoint").exists():
        assert time.monotonic() < deadline and workers[0].poll() is None, "no checkpoint"
        time.sleep(0.5)
    workers[1].kill()
    _, err = workers[0].communicate(timeout=300)
    workers[1].communicate()
    assert workers[0].returncode == 1, err[-3000:]
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: a worker of the cluster stopped or cannot be reached")
    assert "Run the same command on every machine again to resume" in line
    assert "Traceback" not in err
