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
from srgan.training import compare, recipe
from srgan.cli import flags, modes
from srgan.models import registry
from srgan.models.registry import build_networks
from srgan.config import TrainConfig
from srgan.errors import UserError
from srgan.run.settings import FORMAT, FORMAT_KEY, load_settings, save_settings
from srgan.training.tf_steps import TrainSteps

ROOT = Path(__file__).resolve().parents[1]


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

@dataclasses.dataclass(frozen=True)
class Import:
    """One import statement's edge: `path`:`line` imports `names` of module `target`."""
    source: str
    target: str
    path: str
    line: int
    names: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {', '.join(self.names)} from {self.target}"


def _modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file of every module of `package` under `root`."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


class _ImportCollector(ast.NodeVisitor):
    """Every import of one module, at any depth: a deferred import inside a function is
    still a dependency. Imports for the type checker alone are not."""

    def __init__(self, module: str, is_package: bool, modules: dict[str, Path]):
        self.package = module if is_package else module.rpartition(".")[0]
        self.modules = modules
        self.found: list[tuple[str, int, str]] = []  # (target module, line, imported name)

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node):
            self.generic_visit(node)
            return
        for statement in node.orelse:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            # `import a.b.c` runs a.b.c, the deepest of its parts that is ours.
            parts = alias.name.split(".")
            for end in range(len(parts), 0, -1):
                if ".".join(parts[:end]) in self.modules:
                    self.found.append((".".join(parts[:end]), node.lineno, alias.name))
                    break

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            anchor = self.package.split(".")[:len(self.package.split(".")) - node.level + 1]
            base = ".".join(anchor + ([node.module] if node.module else []))
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            target = submodule if submodule in self.modules else base
            if target in self.modules:
                self.found.append((target, node.lineno, alias.name))


def import_graph(root: Path, package: str) -> dict[str, dict[str, Import]]:
    """module -> {imported module -> its first import}, among `package`'s own modules."""
    modules = _modules(root, package)
    graph: dict[str, dict[str, Import]] = {}
    for module, path in modules.items():
        collector = _ImportCollector(module, path.name == "__init__.py", modules)
        collector.visit(ast.parse(path.read_text(), filename=str(path)))
        edges: dict[str, Import] = {}
        for target, line, name in collector.found:
            first = edges.get(target)
            if first is None:
                edges[target] = Import(module, target, path.relative_to(root).as_posix(), line, (name,))
            elif first.line == line and name not in first.names:
                edges[target] = dataclasses.replace(first, names=(*first.names, name))
        graph[module] = edges
    return graph


def part_of(module: str) -> str:
    """The top-level part a module belongs to: `srgan.training.loop` -> `srgan.training`."""
    return ".".join(module.split(".")[:2])


def package_graph(graph: dict[str, dict[str, Import]]) -> dict[str, dict[str, Import]]:
    """The same imports between top-level parts (a package, or a module of the root),
    each edge shown by one of the imports that make it."""
    parts: dict[str, dict[str, Import]] = {part_of(module): {} for module in graph}
    for module, edges in graph.items():
        for target, edge in edges.items():
            if part_of(target) != part_of(module):
                parts[part_of(module)].setdefault(part_of(target), edge)
    return parts


def _components(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), each of more than one node or a self-loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1 or node in graph[node]:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def find_cycles(graph: dict[str, dict[str, Import]]) -> list[list[Import]]:
    """One shortest cycle per knot of the graph, as the imports that close it."""
    cycles = []
    for component in _components(graph):
        start, members = component[0], set(component)
        # Breadth-first from start's imports back to start, inside the component.
        came_from: dict[str, tuple[str, Import]] = {}
        frontier = [start]
        while start not in came_from:
            reached = []
            for node in frontier:
                for target, edge in sorted(graph[node].items()):
                    if target in members and target not in came_from:
                        came_from[target] = node, edge
                        reached.append(target)
            frontier = reached
        node, edge = came_from[start]
        cycle = [edge]
        while node != start:
            node, edge = came_from[node]
            cycle.insert(0, edge)
        cycles.append(cycle)
    return cycles


def describe(cycles: list[list[Import]]) -> str:
    return "\n".join("import cycle:\n  " + "\n  ".join(map(str, cycle)) for cycle in cycles)


def test_no_module_imports_another_that_imports_it_back():
    cycles = find_cycles(import_graph(ROOT, "srgan"))
    assert not cycles, describe(cycles)


def test_no_top_level_package_imports_another_that_imports_it_back():
    cycles = find_cycles(package_graph(import_graph(ROOT, "srgan")))
    assert not cycles, describe(cycles)


def test_the_checker_names_the_imports_that_close_a_cycle(tmp_path):
    sources = {
        "knot/__init__.py": "",
        "knot/low/__init__.py": "",
        # A deferred import is still a dependency.
        "knot/low/a.py": "def f():\n    from knot.high.b import g\n    return g()\n",
        "knot/low/c.py": "from knot.low import a\n",
        "knot/high/__init__.py": "",
        "knot/high/b.py": ("from typing import TYPE_CHECKING\n\nfrom knot.low.c import a\n\n"
                           "if TYPE_CHECKING:\n    from knot.low.a import f\n\n\ndef g():\n    return a\n"),
        # Imports for the type checker alone are not.
        "knot/typed.py": "import typing\n\nif typing.TYPE_CHECKING:\n    from knot.high.b import g\n",
        "knot/high/d.py": "from knot import typed\n",
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path, "knot")
    assert graph["knot.high.b"].keys() == {"knot.low.c"} and graph["knot.typed"] == {}

    [cycle] = find_cycles(graph)
    assert [str(edge) for edge in cycle] == [
        "knot/high/b.py:3 imports a from knot.low.c",
        "knot/low/c.py:1 imports a from knot.low.a",
        "knot/low/a.py:2 imports g from knot.high.b"]
    [cycle] = find_cycles(package_graph(graph))
    assert [(part_of(edge.source), part_of(edge.target)) for edge in cycle] == [
        ("knot.high", "knot.low"), ("knot.low", "knot.high")]
    assert "knot/low/a.py:2 imports g from knot.high.b" in describe([cycle])


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
