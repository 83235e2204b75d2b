"""Bad input, second round: JSON of the wrong shape in every file the project reads, odd
environment variables, and the schema that checks them. Each ends in one line naming
the file or variable and the field, with exit status 1. (The end-to-end cases, which
train, are in tests/scenarios/test_faults.py.)"""

import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Annotated, Literal, NotRequired, TypedDict

import pytest
from PIL import Image

from srgan import cli, schema
from srgan.cli import parse_args
from srgan.errors import UserError
from srgan.inference import pretrained
from srgan.run import best
from srgan.runtime import distribute, environment, startup
from srgan.training import compare
from tests.helpers import ROOT, photo, write_run


def one_line_error(capsys, args: list) -> str:
    status = cli.main([str(arg) for arg in args])
    err = capsys.readouterr().err
    assert status == 1, err
    assert "Traceback" not in err, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: "), err
    return line


# --- the schema ---

class Inner(TypedDict):
    count: int
    share: NotRequired[float | None]


class Outer(TypedDict):
    name: Annotated[str, schema.Matches("[a-z]+", "lower-case letters")]
    kind: Literal["a", "b"]
    items: list[Inner]
    table: dict[str, bool]


GOOD = {"name": "abc", "kind": "a", "items": [{"count": 1}, {"count": 2, "share": None}],
        "table": {"x": True}, "unread": [1, "kept"]}


@pytest.mark.parametrize("change, message", [
    ({"name": "ABC"}, 'f.json: name is "ABC", not lower-case letters'),
    ({"kind": "c"}, 'f.json: kind is "c", not one of "a", "b"'),
    ({"items": {"count": 1}}, "f.json: items is an object, not a list"),
    ({"items": [{"count": 1}, {"count": True}]}, "f.json: items[1].count is true, not a whole number"),
    ({"items": [{"count": 1.5}]}, "f.json: items[0].count is 1.5, not a whole number"),
    ({"items": [{"share": 0.5}]}, "f.json: items[0].count is missing"),
    ({"items": [{"count": 1, "share": "half"}]},
     'f.json: items[0].share is "half", not a number or null'),
    ({"items": [{"count": 1, "share": float("nan")}]}, "items[0].share is NaN, not a number"),
    ({"table": {"x": 1}}, "f.json: table.x is 1, not true or false"),
])
def test_the_schema_names_the_first_field_that_does_not_fit(change, message):
    assert schema.check(GOOD, Outer, "f.json", "fix it") is GOOD
    with pytest.raises(UserError) as error:
        schema.check({**GOOD, **change}, Outer, "f.json", "fix it")
    assert message in str(error.value) and str(error.value).endswith("; fix it")


def test_the_schema_names_a_whole_value_of_the_wrong_kind(tmp_path):
    path = tmp_path / "f.json"
    path.write_text("[1]")
    with pytest.raises(UserError, match=f"^{path} is a list, not an object; fix it$"):
        schema.load(path, Outer, "fix it")
    path.write_text("{")
    with pytest.raises(UserError, match=f"^{path} is damaged"):
        schema.load(path, Outer, "fix it")


# --- the weights card ---

@pytest.fixture
def card(tmp_path, monkeypatch) -> Path:
    """A copy of the shipped card, used in its place; the weights stay the shipped ones."""
    copy = tmp_path / "seed_x4.json"
    shutil.copy(pretrained.CARD, copy)
    monkeypatch.setattr(pretrained, "CARD", copy)
    return copy


def edit(path: Path, change) -> None:
    saved = json.loads(path.read_text())
    path.write_text(json.dumps(change(saved) if callable(change) else {**saved, **change}))


@pytest.mark.parametrize("change, expected", [
    ({"features": "64"}, 'features is "64", not a whole number'),
    ({"sha256": "cafe"}, 'sha256 is "cafe", not a sha256'),
    (lambda card: [card], "is a list, not an object"),
    (lambda card: {k: v for k, v in card.items() if k != "blocks"}, "blocks is missing"),
    ({"model": "esrgan"}, "describes no generator this project builds"),
    ({"features": 0}, "describes no generator this project builds"),
], ids=["string", "sha256", "list", "missing", "model", "range"])
def test_a_card_of_the_wrong_shape_is_one_line(card, tmp_path, capsys, change, expected):
    edit(card, change)
    line = one_line_error(capsys, ["--mode=export", "--checkpoint=pretrained",
                                   f"--output={tmp_path / 'out'}"])
    assert str(card) in line and expected in line and "git checkout -- srgan/pretrained" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("change", [{"features": 32}, {"model": "srgan"}])
def test_a_card_that_does_not_fit_its_weights_is_one_line(card, tmp_path, capsys, change):
    # Valid JSON, the right sha256, a generator this project builds: only the weights
    # file can say that it holds another.
    edit(card, change)
    line = one_line_error(capsys, ["--mode=export", "--checkpoint=pretrained",
                                   f"--output={tmp_path / 'out'}"])
    assert f"{pretrained.WEIGHTS} does not fit its card {card.name}" in line
    assert f"model {json.loads(card.read_text())['model']}" in line


# --- compare_state.json ---

_BUDGET = {"n_epoch_init": 0, "n_epoch": 1, "minutes_init": None, "minutes": None, "seed": 3}
_PHASE = {"seconds": 1.0, "done": False, "steps": 2}


@pytest.mark.parametrize("state, field", [
    ([1], "is a list, not an object"),
    ({"budget": _BUDGET}, "models is missing"),
    ({"models": {}}, "budget is missing"),
    ({"budget": {name: value for name, value in _BUDGET.items() if name != "seed"}, "models": {}},
     "budget.seed is missing"),
    ({"budget": {**_BUDGET, "minutes": "3"}, "models": {}},
     'budget.minutes is "3", not a number or null'),
    ({"budget": _BUDGET, "models": {"srgan": {"warm-up": _PHASE, "GAN": {**_PHASE, "done": "yes"}}}},
     'models.srgan.GAN.done is "yes", not true or false'),
    ({"budget": _BUDGET, "models": {"srgan": {"GAN": _PHASE}}}, "models.srgan.warm-up is missing"),
    # impossible values
    ({"budget": _BUDGET, "models": {"srgan": {"warm-up": _PHASE, "GAN": {**_PHASE, "steps": -4}}}},
     "models.srgan.GAN.steps is -4, not a number of at least 0"),
    ({"budget": {**_BUDGET, "minutes": 0}, "models": {}}, "budget.minutes is 0, not a number above 0"),
    ({"budget": _BUDGET, "models": {"esrgan": {"warm-up": _PHASE, "GAN": _PHASE}}},
     "models.esrgan is no model of this project"),
    # the shape before the phases had budgets of their own
    ({"budget": {"n_epoch": 1, "minutes": None, "seed": 3}, "models": {}},
     "budget.n_epoch_init is missing"),
])
def test_compare_state_of_the_wrong_shape_is_one_line(tmp_path, capsys, state, field):
    root = tmp_path / "checkpoint" / "compare"
    root.mkdir(parents=True)
    (root / compare.STATE_FILE).write_text(json.dumps(state))
    line = one_line_error(capsys, ["--mode=compare", "--n_epoch", 1, "--vgg_weights", "none",
                                   "--checkpoint_dir", tmp_path / "checkpoint"])
    assert f"{root / compare.STATE_FILE}: {field}" in line or f"{root / compare.STATE_FILE} {field}" in line
    assert "--restart" in line
    assert sorted(path.name for path in root.iterdir()) == [compare.STATE_FILE]  # nothing trained


# --- best.json ---

@pytest.mark.parametrize("record, field", [
    ({"epoch": 2, "step": 4, "checkpoint": "c", "psnr_y": "high", "ssim_y": 0.5},
     'psnr_y is "high", not a number'),
    ({"epoch": 2, "step": 4, "checkpoint": "c", "ssim_y": 0.5}, "psnr_y is missing"),
    ([30.0], "is a list, not an object")])
def test_best_json_of_the_wrong_shape_names_the_field(tmp_path, record, field):
    (tmp_path / best.BEST).mkdir()
    (tmp_path / best.BEST / best.BEST_FILE).write_text(json.dumps(record))
    with pytest.raises(UserError, match="best.json") as error:
        best.read_record(tmp_path)
    assert field in str(error.value) and f"remove {tmp_path / best.BEST}" in str(error.value)


def test_best_folder_that_cannot_be_written_is_named(tmp_path):
    best.check_writable(tmp_path)  # no best/ yet: made at the first save
    (tmp_path / best.BEST).write_text("a file")
    with pytest.raises(UserError, match=f"{tmp_path / best.BEST} is a file, not a folder"):
        best.check_writable(tmp_path)


# --- TF_CONFIG and SRGAN_CPU_DEVICES ---

def tf_config(cluster, task=None) -> str:
    return json.dumps({"cluster": cluster, **({"task": task} if task is not None else {})})


TWO = {"worker": ["127.0.0.1:23456", "127.0.0.1:23457"]}


@pytest.mark.parametrize("value, expected", [
    (tf_config([1, 2]), "TF_CONFIG: cluster is a list, not an object"),
    (tf_config({"worker": "127.0.0.1:1"}), 'TF_CONFIG: cluster.worker is "127.0.0.1:1", not a list'),
    (tf_config({"worker": ["127.0.0.1:1", "localhost"]}),
     'TF_CONFIG: cluster.worker[1] is "localhost", not "host:port"'),
    (tf_config({"worker": ["127.0.0.1:1", 2]}), "TF_CONFIG: cluster.worker[1] is 2, not"),
    (tf_config(TWO, {"type": "worker", "index": 5}),
     "TF_CONFIG: task.index is 5, but cluster.worker names 2 task(s): index 0 to 1"),
    (tf_config(TWO, {"type": "worker", "index": -1}), "TF_CONFIG: task.index is -1"),
    (tf_config(TWO, {"type": "chief", "index": 0}),
     "TF_CONFIG: task.type is 'chief', a job the cluster does not name (it names worker)"),
    (tf_config(TWO, {"type": "worker", "index": "0"}), 'TF_CONFIG: task.index is "0", not a whole'),
    (tf_config(TWO), "TF_CONFIG: task is missing"),
    (tf_config({**TWO, "ps": ["127.0.0.1:1"]}, {"type": "worker", "index": 0}),
     "TF_CONFIG: cluster names a 'ps' job"),
    (json.dumps([1]), "TF_CONFIG is a list, not an object"),
    ("{not json", "TF_CONFIG is not JSON"),
])
def test_tf_config_is_checked_before_tensorflow_reads_it(monkeypatch, value, expected):
    monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(UserError) as error:
        distribute.resolve("auto")
    assert expected in str(error.value)


def test_a_bad_tf_config_stops_training_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TF_CONFIG", tf_config([1, 2]))
    line = one_line_error(capsys, ["--n_epoch", 1, "--checkpoint_dir", tmp_path / "run"])
    assert "TF_CONFIG: cluster is a list, not an object" in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value", ["²", "0", "-1", "1.5", "two", str(environment.MAX_CPU_DEVICES + 1)])
def test_cpu_devices_must_be_an_ascii_whole_number_in_range(monkeypatch, value):
    monkeypatch.setenv(environment.CPU_DEVICES_ENV, value)
    with pytest.raises(UserError, match=f"^SRGAN_CPU_DEVICES must be a whole number from 1 to "
                                        f"{environment.MAX_CPU_DEVICES}, got '{value}'$"):
        distribute.split_cpu_devices()


@pytest.mark.parametrize("variable, value", [
    ("SRGAN_CPU_DEVICES", "²"), ("SRGAN_WORKER_WAIT", "0"), ("SRGAN_WORKER_WAIT", "5 min"),
    ("TF_CONFIG", tf_config(TWO, {"type": "worker", "index": 5}))])
def test_environment_is_checked_before_tensorflow_loads(tmp_path, variable, value):
    # --strategy multiworker: the one strategy that reads TF_CONFIG and SRGAN_WORKER_WAIT.
    code = ("import sys; from srgan import cli\n"
            f"status = cli.main(['--strategy', 'multiworker', '--checkpoint_dir', {str(tmp_path)!r}])\n"
            "print(status, 'tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, variable: value}, timeout=120)
    assert result.stdout.split() == ["1", "False"], result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {variable}") and "Traceback" not in result.stderr


# --- upscale's smallest photo ---

def test_upscales_minimum_is_where_the_shipped_generators_border_error_passes_bicubics():
    """The figure in srgan/inference/upscale.py and docs/USAGE.md, kept true for the file
    shipped: from MIN_SIDE LR px on, the generator's border error is at most 10% above
    bicubic's on the same crops; one px less, more than 15% above it
    (bench/measure/measure_min_size.py)."""
    import numpy as np
    import skimage.data

    from srgan.data.degrade import downsample
    from srgan.evaluation.testing import bicubic
    from srgan.inference.inputs import MIN_SIDE
    from srgan.inference.upscale import make_predictor

    predict = make_predictor(pretrained.load_pretrained()[0])

    def border_rms_ratio(side: int) -> float:
        errors = {predict: [], bicubic: []}
        for name in ("astronaut", "chelsea", "coffee", "rocket"):
            photo = getattr(skimage.data, name)()[:, :, :3]
            for top in np.linspace(0, photo.shape[0] - 4 * side, 4).astype(int):
                for left in np.linspace(0, photo.shape[1] - 4 * side, 4).astype(int):
                    hr = photo[top:top + 4 * side, left:left + 4 * side]
                    lr = downsample(hr).numpy().astype(np.uint8)
                    border = np.ones(hr.shape, bool)
                    border[4:-4, 4:-4] = False
                    for upscale, found in errors.items():
                        sr = upscale(lr).astype(float)
                        found.append(np.sqrt(np.mean((sr - hr)[border] ** 2)))
        return float(np.mean(errors[predict]) / np.mean(errors[bicubic]))

    assert border_rms_ratio(MIN_SIDE) < 1.1 and border_rms_ratio(MIN_SIDE - 1) > 1.15, (
        "rerun python bench/measure/measure_min_size.py and update MIN_SIDE and docs/USAGE.md")


@pytest.mark.parametrize("flags, says", [
    (["--lr_init", "inf"], "argument --lr_init: 'inf' is not a finite number"),
    (["--warmup_lr", "nan"], "argument --warmup_lr: 'nan' is not a finite number"),
    (["--mode=compare", "--minutes=-inf"], "argument --minutes: '-inf' is not a finite number"),
    (["--lr_decay", "0.5x"], "argument --lr_decay: '0.5x' is not a number"),
])
def test_number_flags_must_be_finite(capsys, flags, says):
    with pytest.raises(SystemExit) as stopped:
        parse_args(flags)
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(says)


def test_a_keras_json_that_says_channels_first_changes_nothing(tmp_path):
    (tmp_path / "keras.json").write_text('{"image_data_format": "channels_first"}')
    run = tmp_path / "run"
    write_run(run)
    Image.fromarray(photo(10, 14)).save(tmp_path / "photo.png")
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--mode=upscale",
                           f"--checkpoint_dir={run}", f"--input={tmp_path / 'photo.png'}",
                           f"--output={tmp_path / 'out'}"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "KERAS_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert Image.open(tmp_path / "out" / "photo.png").size == (56, 40)


def test_ctrl_c_while_tensorflow_imports_is_one_line_and_status_130(tmp_path, monkeypatch, capsys):
    # Cut short, the import leaves a TensorFlow module without its errors: the handler
    # must not import it again while the interrupt is handled.
    def interrupted():
        monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
        raise KeyboardInterrupt

    monkeypatch.setattr(startup, "import_tensorflow_quietly", interrupted)
    Image.fromarray(photo(10, 14)).save(tmp_path / "photo.png")
    assert cli.main(["--mode=upscale", f"--input={tmp_path / 'photo.png'}",
                     f"--output={tmp_path / 'out'}"]) == 130
    assert capsys.readouterr().err == "interrupted\n"
