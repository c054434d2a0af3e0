"""The layering of docs/architecture.md, checked on the source: imports point down, and no module
imports itself back through others (deferred imports inside functions count too), and no file
over 800 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package -> layer (higher imports lower; equal layers only within the same package or through
# a domain's public API, see ALLOWED_ACROSS)
LAYERS = {
    "cdp": 0,
    "ingestion": 1,
    "identity": 1,
    "data_quality": 1,
    "ml": 1,
    "activation": 1,
    "app": 1,
    "privacy": 1,
    "orchestration": 2,
    "cli": 3,
    "cdp_demo": 3,
}
PACKAGE_DIRS = {name: ROOT / name for name in LAYERS} | {"cdp_demo": ROOT / "demo" / "cdp_demo"}


def _module_name(path: Path, package: str) -> str:
    parts = list(path.relative_to(PACKAGE_DIRS[package]).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _imports() -> dict[str, set[str]]:
    """module -> the project modules it imports, anywhere in its body."""
    modules = {
        _module_name(path, package): path
        for package, folder in PACKAGE_DIRS.items()
        for path in folder.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")[: len(name.split(".")) - node.level + is_package]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                # a submodule always runs its parent package first: not an edge of a cycle
                if target and target != name and not name.startswith(target + "."):
                    found.add(target)
        graph[name] = found
    return graph


GRAPH = _imports()


def test_layers_point_down() -> None:
    upward = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if LAYERS[target.split(".")[0]] > LAYERS[module.split(".")[0]]
    ]
    assert upward == []


def test_core_imports_no_domain() -> None:
    assert [
        (m, t)
        for m, ts in GRAPH.items()
        if m.startswith("cdp.")
        for t in ts
        if not t.startswith("cdp")
    ] == []


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components: any component of more than one module is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert cycles == []


@pytest.mark.parametrize("package", sorted(PACKAGE_DIRS))
def test_no_file_over_800_lines(package: str) -> None:
    long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for path in PACKAGE_DIRS[package].rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 800
    ]
    assert long == []


# the generator writes the demo's landing files and ground truth: a tool beside the platform,
# not one of its steps, whose output must stay the same byte for byte (tests/demo)
OWN_CONNECTIONS = {"cdp.warehouse", "cdp_demo.generator.core"}


def test_every_duckdb_connection_has_the_platform_settings() -> None:
    """DuckDB's default memory limit is 80 % of the machine per database: a connection made
    with `duckdb.connect` instead of `cdp.warehouse.connect` ignored CDP_DUCKDB_MEMORY_LIMIT and
    took 19 GiB to publish the serving snapshot of 1.4M customers."""
    direct = []
    for package, folder in PACKAGE_DIRS.items():
        for path in folder.rglob("*.py"):
            if _module_name(path, package) in OWN_CONNECTIONS:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "connect"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "duckdb"
                ):
                    direct.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert direct == []
