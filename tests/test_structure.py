"""The code's seams: the model registry, per-mode flags, the run format's version and
the one owner of temporary names."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from srgan import cli, compare, files, flags, registry
from srgan.config import TrainConfig
from srgan.errors import UserError
from srgan.run.settings import FORMAT, FORMAT_KEY, load_settings, save_settings
from srgan.steps import TrainSteps

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", registry.NAMES)
def test_every_model_spec_builds_its_networks_and_steps(name):
    spec = registry.spec(name)
    generator, critic = spec.build_generator(4, 1, "reference"), spec.build_critic(48, "reference")
    assert generator.output_shape == (None, None, None, 3) and critic.input_shape == (None, 48, 48, 3)
    assert issubclass(spec.steps(), TrainSteps)
    assert 0 < spec.tile_margin(16) <= spec.context_margin(16)
    assert TrainConfig(model=name).lr_init == spec.learning_rate
    with pytest.raises(ValueError, match="features must be >= 1"):
        spec.build_generator(0, 1, "reference")


def test_the_comparison_order_comes_from_the_registry():
    assert compare.ORDER == ("srgan", "wsrgan", "seed")
    assert [compare.LABELS[name] for name in compare.BASELINES] == ["SRGAN", "W-SRGAN"]
    with pytest.raises(ValueError, match="unknown model 'esrgan'; choose one of seed, srgan, wsrgan"):
        registry.spec("esrgan")


def test_a_flag_of_another_mode_is_refused_naming_its_modes(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.parse_args(["--mode=upscale", "--input", "a.png", "--n_epoch", "3"])
    assert exit_.value.code == 2
    assert ("--n_epoch is not a flag of --mode=upscale; it belongs to --mode=train, --mode=compare"
            in capsys.readouterr().err)
    assert cli.parse_args([]).mode == "train" and cli.parse_args(["--mode=esrgan", "--n_epoch", "3"])


def test_each_mode_lists_its_own_flags():
    owners = flags.flag_modes()
    for mode in flags.MODES:
        usage = flags.build_parser(mode).format_usage()
        mine = flags._ALIASES.get(mode, mode)
        for name, modes in owners.items():
            assert (f"[{name} " in usage or f"[{name}]" in usage) == (mine in modes), (mode, name)
    assert "(default: 0)" in flags.build_parser("train").format_help()  # --n_epoch_init's


def test_help_answers_without_tensorflow():
    code = ("import sys; from srgan import cli\n"
            "try:\n    cli.parse_args(['--mode=upscale', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_settings_carry_the_format_and_a_newer_one_is_refused(tmp_path):
    save_settings(TrainConfig(features=8), tmp_path)
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved[FORMAT_KEY] == FORMAT and load_settings(tmp_path)["features"] == 8
    (tmp_path / "settings.json").write_text(json.dumps({**saved, FORMAT_KEY: FORMAT + 1}))
    with pytest.raises(UserError, match="written by a newer version of this project"):
        load_settings(tmp_path)
    del saved[FORMAT_KEY]  # a run from before the format was numbered
    (tmp_path / "settings.json").write_text(json.dumps(saved))
    assert load_settings(tmp_path)["features"] == 8


def test_a_run_from_before_init_reference_reads_as_glorot(tmp_path):
    # Runs saved before --init reference recorded init null (or nothing): Keras' defaults.
    save_settings(TrainConfig(features=8), tmp_path)
    assert load_settings(tmp_path)["init"] == "glorot"
    path = tmp_path / "settings.json"
    saved = json.loads(path.read_text())
    del saved["init"]
    path.write_text(json.dumps(saved))
    assert load_settings(tmp_path)["init"] == "glorot"
    save_settings(TrainConfig(features=8, init="reference"), tmp_path)
    assert load_settings(tmp_path)["init"] == "reference"


def test_temporary_names_are_owned_by_files(tmp_path):
    target = tmp_path / "photo.png"
    temporary = files.temporary_for(target, ".keras")
    assert temporary.parent == tmp_path and temporary.name.startswith(".photo.png.")
    assert files.target_of_temporary(temporary.name) == "photo.png"
    assert files.target_of_temporary("photo.png") is None
    with pytest.raises(RuntimeError), files.atomic_path(target) as path:
        path.mkdir()
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []
