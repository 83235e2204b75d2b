"""The code's seams: the model registry, per-mode flags, the run format's version, the
one owner of temporary names, and layers that read top to bottom (no import cycles)."""

import ast
import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from srgan import cli, files
from srgan.cli import flags, modes
from srgan.config import TrainConfig
from srgan.errors import UserError
from srgan.models import registry
from srgan.models.registry import build_networks
from srgan.run.settings import FORMAT, FORMAT_KEY, load_settings, save_settings
from srgan.training import compare, recipe
from srgan.training.tf_steps import TrainSteps
from tests.helpers import ROOT, load_script


def test_every_model_has_its_networks_and_a_training_recipe():
    assert set(recipe.RECIPES) == set(registry.NAMES)


@pytest.mark.parametrize("name", registry.NAMES)
def test_every_model_spec_builds_its_networks_and_steps(name):
    spec = registry.spec(name)
    generator, critic = spec.build_generator(4, 1, "reference"), spec.build_critic(48, "reference")
    assert generator.output_shape == (None, None, None, 3) and critic.input_shape == (None, 48, 48, 3)
    assert issubclass(recipe.recipe(name).steps(), TrainSteps)
    assert 0 < spec.tile_margin(16) <= spec.context_margin(16)
    assert recipe.with_rates(TrainConfig(model=name)).lr_init == recipe.recipe(name).learning_rate
    with pytest.raises(ValueError, match="features must be >= 1"):
        spec.build_generator(0, 1, "reference")


def test_the_comparison_order_comes_from_the_registry():
    assert compare.ORDER == ("srgan", "wsrgan", "seed")
    assert [compare.label(name) for name in compare.BASELINES] == ["SRGAN", "W-SRGAN"]
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
    for mode in modes.MODES:
        usage = cli.build_parser(mode).format_usage()
        mine = modes.flags_of(mode)
        for name, takers in owners.items():
            assert (f"[{name} " in usage or f"[{name}]" in usage) == (mine in takers), (mode, name)
    assert "(default: 0)" in cli.build_parser("train").format_help()  # --n_epoch_init's


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


# --- the import graph: layers that read top to bottom (docs/ARCHITECTURE.md) ---

graph_tool = load_script("import_graph")


def test_no_module_imports_another_that_imports_it_back():
    cycles = graph_tool.find_cycles(graph_tool.import_graph(ROOT, "srgan"))
    assert not cycles, graph_tool.describe(cycles)


def test_no_top_level_package_imports_another_that_imports_it_back():
    cycles = graph_tool.find_cycles(graph_tool.package_graph(graph_tool.import_graph(ROOT, "srgan")))
    assert not cycles, graph_tool.describe(cycles)


def documented_layers(page: Path) -> dict[str, int]:
    """Each part the layer table of docs/ARCHITECTURE.md names (srgan.cli for `cli/`,
    srgan.config for `config.py`): its row."""
    block = page.read_text().split("```")[1]
    rows = {}
    for line in block.splitlines():
        found = re.match(r"\s*(\d+)\s+((?:[\w]+(?:\.py|/)\s?)+)", line)
        if found:
            for name in found.group(2).split():
                rows[f"srgan.{name.removesuffix('.py').removesuffix('/')}"] = int(found.group(1))
    return rows


def test_every_part_imports_only_the_rows_below_it_in_the_documented_layers():
    rows = documented_layers(ROOT / "docs" / "ARCHITECTURE.md")
    parts = graph_tool.package_graph(graph_tool.import_graph(ROOT, "srgan"))
    assert rows.keys() == parts.keys() - {"srgan"}, "the layer table and the package differ"
    ground = min(rows.values())
    upward = [str(edge) for part, edges in parts.items() if part != "srgan"
              for target, edge in edges.items()
              if not (rows[target] < rows[part] or rows[target] == rows[part] == ground)]
    assert not upward, "imports of a part on the same row or above: " + "; ".join(upward)


def test_the_checker_names_the_imports_that_close_a_cycle(tmp_path, capsys):
    sources = {
        "knot/__init__.py": "",
        "knot/low/__init__.py": "",
        # A deferred import is still a dependency.
        "knot/low/a.py": "def f():\n    from knot.high.b import g\n    return g()\n",
        "knot/low/c.py": "from knot.low import a\n",
        "knot/high/__init__.py": "",
        "knot/high/b.py": "from knot.low.c import a\n\n\ndef g():\n    return a\n",
        # So is an import for the type checker alone, in either spelling.
        "knot/typed.py": "import typing\n\nif typing.TYPE_CHECKING:\n    from knot.high.d import h\n",
        "knot/high/d.py": ("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                           "    from knot import typed\n\n\ndef h():\n    pass\n"),
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = graph_tool.import_graph(tmp_path, "knot")
    assert graph["knot.low.a"].keys() == {"knot.high.b"} and graph["knot.typed"].keys() == {"knot.high.d"}

    deferred, typed = graph_tool.find_cycles(graph)
    assert [str(edge) for edge in deferred] == [
        "knot/high/b.py:1 imports a from knot.low.c",
        "knot/low/c.py:1 imports a from knot.low.a",
        "knot/low/a.py:2 imports g from knot.high.b"]
    assert [str(edge) for edge in typed] == [
        "knot/high/d.py:4 imports typed from knot.typed",
        "knot/typed.py:4 imports h from knot.high.d"]
    [cycle] = graph_tool.find_cycles(graph_tool.package_graph(graph))
    assert [(graph_tool.part_of(edge.source), graph_tool.part_of(edge.target)) for edge in cycle] == [
        ("knot.high", "knot.low"), ("knot.low", "knot.high")]
    assert graph_tool.main(["--modules", "--root", str(tmp_path), "--package", "knot"]) == 1
    assert "knot/typed.py:4 imports h from knot.high.d" in capsys.readouterr().err
    assert "knot/low/a.py:2 imports g from knot.high.b" in graph_tool.describe([cycle])


def third_party_imports(root: Path) -> dict[str, str]:
    """Each top-level module that the project's Python files import (statements, and
    pytest.importorskip's names) and that is neither the standard library nor the
    project's own, with the first place that imports it."""
    own = {path.stem for path in root.glob("*.py")} | {
        path.name for path in root.iterdir() if path.is_dir()} | {
        path.stem for folder in ("bench", "scripts", "tests") for path in (root / folder).rglob("*.py")}
    found = {}
    for path in sorted(root.glob("*.py")) + sorted(
            p for folder in ("srgan", "tests", "bench", "scripts") for p in (root / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "importorskip" and node.args
                  and isinstance(node.args[0], ast.Constant)):
                names = [node.args[0].value]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in own:
                    found.setdefault(top, f"{path.relative_to(root)}:{node.lineno}")
    return found


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.add(re.split(r"[<>=!~\[; ]", line)[0].lower().replace("_", "-"))
    return names


def test_every_package_the_code_imports_is_named_in_requirements():
    # A test that passes only where a package was installed by hand hides a missing
    # requirement until a fresh install fails (Keras 3.15's numpy backend needs JAX).
    from importlib.metadata import packages_distributions

    distributions = packages_distributions()
    required = requirement_names(ROOT / "requirements.txt")
    unnamed = []
    for module, where in third_party_imports(ROOT).items():
        names = {name.lower().replace("_", "-") for name in distributions.get(module, [])}
        if not names & required:
            unnamed.append(f"{module} ({where}; installed by {sorted(names) or 'nothing'})")
    assert not unnamed, "imported, but named by no line of requirements.txt: " + ", ".join(unnamed)


def test_a_checkpoint_from_before_the_references_epsilon_is_converted_once_on_reading(tmp_path):
    # Checkpoints saved before the networks took TensorLayer's BatchNorm epsilon (1e-5)
    # hold no epsilon: they were trained with Keras' 1e-3, in TensorFlow's checkpoint
    # format (run format 1). Testing, upscale and a resumed run read them as the same
    # map, and a resumed run's next save says 1e-5, in the format every backend reads.
    import keras
    import numpy as np
    import tensorflow as tf

    from srgan.inference.restore import load_generator
    from srgan.models import norm
    from srgan.run.folder import read_arrays
    from srgan.run.state import EPSILON, Networks, RunState

    def networks():
        keras.utils.set_random_seed(4)
        return build_networks("seed", 8, 1, 48)

    generator, critic = networks()
    rng = np.random.default_rng(4)
    for layer in generator.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_variance.assign(10.0 ** rng.uniform(-4, 0, layer.moving_variance.shape))
            layer.epsilon = norm.KERAS_EPSILON  # as the code that saved it built them
    lr = rng.uniform(-1, 1, (1, 12, 12, 3)).astype(np.float32)
    before = generator.predict(lr, verbose=0)
    optimizers = keras.optimizers.RMSprop(8e-5), keras.optimizers.RMSprop(8e-5)
    for optimizer, network in zip(optimizers, (generator, critic)):
        optimizer.build(network.trainable_variables)
    old = tf.train.Checkpoint(generator=generator, critic=critic, rng=tf.random.Generator.from_seed(4),
                              epoch=tf.Variable(0, dtype=tf.int64), batch=tf.Variable(0, dtype=tf.int64),
                              step=tf.Variable(3, dtype=tf.int64), generator_optimizer=optimizers[0],
                              critic_optimizer=optimizers[1])
    tf.train.CheckpointManager(old, str(tmp_path), max_to_keep=3).save(checkpoint_number=3)
    save_settings(TrainConfig(features=8, blocks=1), tmp_path)

    restored, _, _ = load_generator(tmp_path)
    np.testing.assert_allclose(restored.predict(lr, verbose=0), before, atol=1e-5)

    generator, critic = networks()
    state = RunState(tmp_path, Networks(generator, critic, keras.optimizers.RMSprop(8e-5),
                                       keras.optimizers.RMSprop(8e-5)))
    state.restore()
    assert state.step == 3
    np.testing.assert_allclose(generator.predict(lr, verbose=0), before, atol=1e-5)
    state.step = 4
    saved = state.save()
    assert saved == str(tmp_path / "ckpt-4") and float(read_arrays(saved)[EPSILON]) == norm.EPSILON
    again, _, _ = load_generator(tmp_path)
    np.testing.assert_allclose(again.predict(lr, verbose=0), before, atol=1e-5)


# --- the layout: a handful of modules at the top, one table of modes, no hub, short
# modules and functions (docs/ARCHITECTURE.md) ---

LONGEST_MODULE = 400
LONGEST_FUNCTION = 60
# What a function longer than LONGEST_FUNCTION says first among its comments: why.
LONG_REASON = "# Long:"


def test_the_top_of_the_package_holds_a_handful_of_modules():
    top = sorted(path.stem for path in (ROOT / "srgan").glob("*.py") if path.stem != "__init__")
    assert len(top) <= 5, top


def test_every_mode_is_one_row_that_help_checks_and_dispatch_read(monkeypatch, capsys):
    assert cli.build_parser()._option_string_actions["--mode"].choices.keys() == modes.MODES.keys()
    takers = {taker for owners in flags.flag_modes().values() for taker in owners}
    assert takers <= {modes.flags_of(name) for name in modes.MODES}
    ran = []
    checked = modes.Mode("a stand-in", check=lambda args: ran.append("check"),
                         run=lambda args: ran.append("run"))
    monkeypatch.setitem(modes.MODES, "prepare", checked)
    assert cli.main(["--mode=prepare"]) == 0 and ran == ["check", "run"]
    assert "--mode=prepare: a stand-in" in " ".join(cli.build_parser("prepare").format_help().split())

    def refuse(args):
        raise UserError("refused before TensorFlow loads")

    monkeypatch.setitem(modes.MODES, "prepare", modes.Mode("a stand-in", refuse, ran.append))
    assert cli.main(["--mode=prepare"]) == 1 and ran == ["check", "run"]
    assert capsys.readouterr().err.endswith("error: refused before TensorFlow loads\n")


def test_a_runs_networks_and_optimizers_travel_as_one_value_and_its_config_never_changes():
    import inspect

    from srgan.run.state import Networks, RunState
    from srgan.training.jax_steps import JaxSteps

    for built in (TrainSteps, JaxSteps, RunState):
        parameters = inspect.signature(built).parameters
        assert "networks" in parameters and not {"generator", "critic"} & parameters.keys(), built
        assert parameters["networks"].annotation in (Networks, "Networks")
    config = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 3


def _functions(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_no_module_or_function_of_the_package_is_long_without_a_reason():
    long_modules, long_functions = [], []
    for path in sorted((ROOT / "srgan").rglob("*.py")):
        text = path.read_text()
        lines = text.splitlines()
        where = path.relative_to(ROOT)
        if len(lines) > LONGEST_MODULE:
            long_modules.append(f"{where}: {len(lines)} lines")
        for function in _functions(ast.parse(text)):
            length = function.end_lineno - function.lineno + 1
            body = lines[function.lineno - 1:function.end_lineno]
            comments = [line.strip() for line in body if line.strip().startswith("#")]
            if length > LONGEST_FUNCTION and not (comments and comments[0].startswith(LONG_REASON)):
                long_functions.append(f"{where}:{function.lineno} {function.name}: {length} lines")
    assert not long_modules, f"over {LONGEST_MODULE} lines: {long_modules}"
    assert not long_functions, (f"over {LONGEST_FUNCTION} lines, with no first comment "
                                f"{LONG_REASON!r} saying why: {long_functions}")
