"""The package's layout holds: no import circles, a core free of the CLI's and the YAML
reader's libraries, docstrings and comments that speak of the project only."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "convcost"
CORE = PACKAGE / "core"
NOT_IN_THE_CORE = {"typer", "click", "rich", "yaml", "_yaml"}

# Circles still to be taken apart: none. A circle found fails the test.
PENDING_CIRCLES: set[frozenset[str]] = set()


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(path: Path, module: str) -> Iterator[str]:
    """The dotted names every import statement in ``path`` names, at any depth (a lazy
    import inside a function, or one only for type checking, counts as much as any)."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _import_graph() -> dict[str, set[str]]:
    """Which of the package's modules each one imports. Importing a module of one's own
    package tree is no edge back up: ``convcost.frontends.zoo`` importing
    ``convcost.frontends`` is the package it lives in, always imported first."""
    modules = _modules()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = {owner(name) for name in _imported(path, module)}
        graph[module] = {
            target for target in targets
            if target is not None and target != module and not module.startswith(target + ".")
        }  # fmt: skip
    return graph


def _circles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[frozenset[str]] = set()

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_circle_finder_finds_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _circles(graph) == {frozenset({"a", "b", "c"})}


def test_no_import_circles() -> None:
    circles = _circles(_import_graph())
    assert circles - PENDING_CIRCLES == set()


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    graph = _import_graph()
    assert "convcost.frontends.zoo" in graph["convcost.frontends"]  # inside a function
    assert "convcost.api" in graph["convcost"]  # under TYPE_CHECKING
    assert "convcost.frontends" not in graph["convcost.frontends.zoo"]  # its own package


def _core_modules() -> list[str]:
    return [module for module in _modules() if module.startswith("convcost.core")]


@pytest.mark.parametrize("module", _core_modules())
def test_the_core_imports_no_cli_or_yaml_library(module: str) -> None:
    path = _modules()[module]
    foreign = {name for name in _imported(path, module) if name.split(".")[0] in NOT_IN_THE_CORE}
    assert foreign == set()


_CORE_AT_WORK = """
import sys
for module in sys.argv[1:]:
    __import__(module)
from convcost.core.errors import ConvcostError
from convcost.core.kinds import all_kinds, build_layer
from convcost.frontends.tree import Network, Node, analyze
from convcost.core.shapes import parse_shape

all_kinds()  # imports every layer kind
conv = build_layer("conv", {"kernel": "5x5", "filters": 32})
analyze(Network(parse_shape("28x28x192"), (Node("conv", conv),)), 2)
try:
    build_layer("conv", {"kernel": "5x5", "filtres": 32})
except ConvcostError as error:
    error.render()
sys.stdout.write(repr(sorted(sys.modules)))
"""


def test_the_core_at_work_loads_no_cli_or_yaml_library() -> None:
    # At run time as well: every core module imported, a network analysed, an error written.
    done = subprocess.run(
        [sys.executable, "-c", _CORE_AT_WORK, *_core_modules()], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in ast.literal_eval(done.stdout)}
    assert loaded & NOT_IN_THE_CORE == set()


# Notes, threads and work sessions outside the repository: docstrings and comments speak of
# the project itself (the README's example figures may be quoted, not its sources).
FOREIGN_REFERENCE = re.compile(
    r"\b(?:seeds?|lectures?|issues?|sessions?|reviews?|reviewers?|reviewing|forum)\b|\.\./shared",
    re.IGNORECASE,
)


def test_sources_speak_of_the_project_only() -> None:
    found = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if FOREIGN_REFERENCE.search(line)
    ]
    assert found == []
