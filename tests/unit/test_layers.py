"""The layers, read from the import graph: every import goes downward, none runs in a circle
(docs/architecture.md draws them). Reads the source with ast, so a lazy import inside a
function counts as much as one at the top."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "ingest", "retrieval", "bot")

# Bottom first; units on one line are siblings and may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("config",),
    ("ingest.text",),
    ("ingest.model",),
    ("ingest.embed", "ingest.store", "ingest.sources"),
    ("ingest.run",),
    ("retrieval.question",),
    ("retrieval.records",),
    ("retrieval.citations",),
    ("retrieval.search",),
    ("retrieval.answer",),
    ("retrieval.news",),
    ("retrieval.engine",),
    ("bot.app",),
    ("bot.mcp",),
    ("bot.http", "bot.slack"),
    ("bot.factory",),
    ("bot.cli",),
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # `from package import module` imports the module; `from module import name` not.
            base = absolute(node, path)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        yield from (name for name in names if name in known)


def absolute(node: ast.ImportFrom, path: Path) -> str:
    """The module a `from … import` names, a relative one (`from ..slack import x`) resolved."""
    if not node.level:
        return node.module or ""
    package = path.relative_to(ROOT).parent.parts
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports(path, known)) - {name} for name, path in known.items()}


def unit_of(module: str) -> str | None:
    """The layer unit a module belongs to: the longest unit its dotted name starts with."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in RANK:
            return ".".join(parts[:end])
    return None


def test_every_module_has_a_layer() -> None:
    top_level = set(PACKAGES)  # the packages' own __init__ files import nothing
    assert [name for name in modules() if name not in top_level and unit_of(name) is None] == []


def test_every_import_goes_downward() -> None:
    upward = []
    for module, targets in graph().items():
        source = unit_of(module)
        for target in targets:
            aimed = unit_of(target)
            if source is None or aimed is None or aimed == source:
                continue
            if RANK[aimed] >= RANK[source]:
                upward.append(f"{module} -> {target}")
    assert sorted(upward) == []


def test_no_import_runs_in_a_circle() -> None:
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            if component:
                circles.append(sorted([node, *component]))

    for node in edges:
        if node not in index:
            visit(node)
    assert circles == []


def test_a_relative_import_is_read_as_the_module_it_names() -> None:
    tree = ast.parse("from ..slack import app\nfrom . import service\n")
    first, second = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    module = ROOT / "bot" / "http" / "app.py"
    assert absolute(first, module) == "bot.slack"
    assert absolute(second, module) == "bot.http"


@pytest.mark.parametrize(("module", "target", "allowed"), [
    ("bot.cli.commands", "bot.factory", True),
    ("bot.factory", "bot.cli.commands", False),
    ("bot.http.app", "bot.slack.app", False),  # siblings
    ("ingest.text.ids", "ingest.model.records", False),
    ("retrieval.news.brief", "retrieval.answer.extractive", True),
])
def test_the_rule_itself(module: str, target: str, allowed: bool) -> None:
    source, aimed = unit_of(module), unit_of(target)
    assert source is not None and aimed is not None
    assert (RANK[aimed] < RANK[source]) is allowed
