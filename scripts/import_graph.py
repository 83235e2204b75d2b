"""The import graph of a package: which of its modules import which, and the cycles.

    python scripts/import_graph.py            # the top-level parts of srgan/, each with what it imports
    python scripts/import_graph.py --modules  # every module instead

Exits 1, naming the imports that close each cycle, where a module (or a top-level part:
a package, or a module at the package's root) imports something that imports it back.
Every import counts: one inside a function, and one under `if TYPE_CHECKING:`.
tests/project/test_structure.py holds srgan/ to it; docs/ARCHITECTURE.md draws the layers.
"""

import argparse
import ast
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


class _ImportCollector(ast.NodeVisitor):
    """Every import of one module, at any depth: a deferred import inside a function is
    still a dependency, and so is one for the type checker alone (under `if
    TYPE_CHECKING:`), which a reader follows as any other."""

    def __init__(self, module: str, is_package: bool, modules: dict[str, Path]):
        self.package = module if is_package else module.rpartition(".")[0]
        self.modules = modules
        self.found: list[tuple[str, int, str]] = []  # (target module, line, imported name)

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", action="store_true", help="every module, not the top-level parts")
    parser.add_argument("--package", default="srgan")
    parser.add_argument("--root", type=Path, default=ROOT, help="the folder that holds the package")
    args = parser.parse_args(argv)
    graph = import_graph(args.root, args.package)
    if not args.modules:
        graph = package_graph(graph)
    for node, edges in sorted(graph.items()):
        print(f"{node}: {', '.join(sorted(edges)) or '-'}")
    cycles = find_cycles(graph)
    if cycles:
        print(describe(cycles), file=sys.stderr)
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
