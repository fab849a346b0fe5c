"""The import graph of the `schedopt` package, and its cycles.

    python tools/import_graph.py                  the import cycles; exit status 1 if there is one
    python tools/import_graph.py --subpackages    also the imports between subpackages, with counts
    python tools/import_graph.py --type-checking  the graph a type checker sees (see below)

A cycle is a set of modules that reach each other through imports (a
strongly connected component of more than one module). Imports inside
functions count as much as module-level ones: a deferred import hides a
cycle from the interpreter, not from the design. Imports under
`if TYPE_CHECKING:` never run, so they count only with --type-checking,
which draws the graph a type checker sees (pyright's reportImportCycles):
there `from schedopt import te` in a module of the package also imports
the package's `__init__`, which the interpreter has already begun, while
`import schedopt.te as te` does not. Module names come from
pyproject.toml's `package-dir`, so the script reads the source, imports
nothing of it and needs only the standard library.
"""

from __future__ import annotations

import argparse
import ast
import sys
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

ImportGraph = dict[str, set[str]]
"""Each module's name -> the package modules it imports."""


def package_modules(root: Path) -> dict[str, Path]:
    """Every module of the package under `root`, by dotted name, from pyproject.toml's `package-dir`."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    package_dirs: Mapping[str, str] = pyproject["tool"]["setuptools"]["package-dir"]
    modules: dict[str, Path] = {}
    for package, folder in package_dirs.items():
        nested = [other for other in package_dirs if other.startswith(package + ".")]
        for path in sorted((root / folder).rglob("*.py")):
            parts = [
                part for part in path.relative_to(root / folder).with_suffix("").parts if part != "__init__"
            ]
            name = ".".join([package, *parts])
            if not any(name == other or name.startswith(other + ".") for other in nested):
                modules[name] = path
    return modules


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """The ids of the nodes inside `if TYPE_CHECKING:` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def imported_names(module: str, path: Path, *, type_checking: bool = False) -> Iterator[str]:
    """The dotted names `module` imports, relative imports resolved; under TYPE_CHECKING only if `type_checking`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped = set[int]() if type_checking else _type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _owning_module(name: str, modules: Mapping[str, Path]) -> str | None:
    """The package module that `name` (a module or a name inside one) belongs to, if any."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(root: Path, *, type_checking: bool = False) -> ImportGraph:
    """The imports between the package's modules.

    A module's import of its own parent package is left out, unless
    `type_checking`: then it counts, and so do the imports under `if TYPE_CHECKING:`.
    """
    modules = package_modules(root)
    graph: ImportGraph = {name: set() for name in modules}
    for name, path in modules.items():
        for imported in imported_names(name, path, type_checking=type_checking):
            target = _owning_module(imported, modules)
            if target is None or target == name:
                continue
            if type_checking or not name.startswith(target + "."):
                graph[name].add(target)
    return graph


def import_cycles(graph: ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component: list[str] = []
            while not component or component[-1] != module:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


def subpackage_of(module: str, graph: ImportGraph) -> str:
    """The package a module sits in: itself for a package, its parent for a plain module."""
    is_package = any(other.startswith(module + ".") for other in graph)
    return module if is_package else module.rpartition(".")[0] or module


def subpackage_imports(graph: ImportGraph) -> Counter[tuple[str, str]]:
    """How many module imports go from each subpackage to each other one."""
    edges: Counter[tuple[str, str]] = Counter()
    for module, targets in graph.items():
        source = subpackage_of(module, graph)
        for target in targets:
            destination = subpackage_of(target, graph)
            if destination != source:
                edges[source, destination] += 1
    return edges


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--subpackages", action="store_true", help="print the imports between subpackages")
    parser.add_argument(
        "--type-checking",
        action="store_true",
        help="the graph a type checker sees: imports under `if TYPE_CHECKING:` and of parent packages count",
    )
    args = parser.parse_args(argv)
    graph = import_graph(args.root, type_checking=args.type_checking)
    if args.subpackages:
        for (source, destination), count in sorted(subpackage_imports(graph).items()):
            print(f"{source} -> {destination} ({count})")
    cycles = import_cycles(graph)
    for cycle in cycles:
        print(f"cycle of {len(cycle)}: {', '.join(cycle)}")
    in_cycles = sum(len(cycle) for cycle in cycles)
    print(f"{len(cycles)} import cycles over {in_cycles} of {len(graph)} modules")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
