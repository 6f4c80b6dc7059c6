"""The layers import one way only (STYLE.md "Layers"): transport -> execution -> schema -> persistence / realtime /
auth / storage, with app.py and cli.py above everything, and no import cycle anywhere in the package."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import chatserver

PACKAGE_ROOT = Path(chatserver.__file__).parent

# Higher ranks may import lower or equal ranks, never higher ones.
WIRING = 4  # app.py, cli.py, __main__.py: the only modules that wire concrete parts together
LAYER_RANKS = {"transport": 3, "execution": 2, "schema": 1}
BASE = (
    0  # persistence, realtime, auth, storage and the shared top-level modules (config, errors, services, ...)
)
WIRING_MODULES = {"chatserver.app", "chatserver.cli", "chatserver.__main__"}

# What the bottom layers must not reach, even among themselves (SPEC/STYLE: realtime moves plain payloads,
# SQL lives in persistence).
FORBIDDEN_THIRD_PARTY = {"chatserver.realtime": {"starlette", "sqlalchemy", "strawberry"}}
FORBIDDEN_LAYERS = {
    "chatserver.persistence": {"transport", "schema", "execution", "realtime"},
    "chatserver.realtime": {"transport", "schema", "execution", "persistence"},
}


@dataclass(frozen=True, slots=True)
class Import:
    importer: str
    target: str  # a chatserver module, or a third-party top-level name
    line: int
    type_checking_only: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str) -> str:
    """`chatserver.a.b.Name` -> the longest prefix that is a module of the package."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _absolute(importer: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer.split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> list[Import]:
    """Every import in the module (module level and inside functions), flagged when only under TYPE_CHECKING."""
    path = MODULES[module]
    found: list[Import] = []

    def visit(node: ast.AST, type_checking: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_checking)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(_import(module, alias.name, node.lineno, type_checking))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path, node)
            if base.startswith("chatserver"):
                for alias in node.names:
                    found.append(_import(module, f"{base}.{alias.name}", node.lineno, type_checking))
            else:
                found.append(_import(module, base, node.lineno, type_checking))
        for child in ast.iter_child_nodes(node):
            visit(child, type_checking)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False)
    return [item for item in found if item.target != module]


def _import(importer: str, name: str, line: int, type_checking: bool) -> Import:
    target = _resolve(name) if name.split(".")[0] == "chatserver" else name.split(".")[0]
    return Import(importer, target, line, type_checking)


ALL_IMPORTS = [item for module in MODULES for item in imports_of(module)]
INTERNAL_IMPORTS = [item for item in ALL_IMPORTS if item.target in MODULES]


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE_ROOT / parts[1]).is_dir() else None


def rank(module: str) -> int:
    if module in WIRING_MODULES:
        return WIRING
    return LAYER_RANKS.get(layer(module) or "", BASE)


def _describe(items: list[Import]) -> list[str]:
    return [
        f"{i.importer}:{i.line} imports {i.target}" + (" (TYPE_CHECKING)" * i.type_checking_only)
        for i in items
    ]


def test_import_graph_sees_the_package() -> None:
    """The checks below mean something only if the walk finds the layers and their imports."""
    assert {"chatserver.app", "chatserver.transport.http", "chatserver.execution.executor"} <= set(MODULES)
    edges = {(i.importer, i.target) for i in INTERNAL_IMPORTS}
    assert ("chatserver.app", "chatserver.execution.executor") in edges
    assert any(rank(a) > rank(b) for a, b in edges)
    assert any(i.type_checking_only for i in INTERNAL_IMPORTS)


def test_no_module_imports_a_layer_above_it() -> None:
    upward = [i for i in INTERNAL_IMPORTS if rank(i.target) > rank(i.importer)]
    assert _describe(upward) == []


def test_bottom_layers_stay_out_of_each_other_and_of_the_web_stack() -> None:
    wrong: list[Import] = []
    for prefix, names in FORBIDDEN_THIRD_PARTY.items():
        wrong += [i for i in ALL_IMPORTS if i.importer.startswith(prefix) and i.target in names]
    for prefix, layers in FORBIDDEN_LAYERS.items():
        wrong += [i for i in INTERNAL_IMPORTS if i.importer.startswith(prefix) and layer(i.target) in layers]
    assert _describe(wrong) == []


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph as a path that starts and ends at the same module, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_find_cycle_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_in_the_package() -> None:
    """Imports that run (module level or in a function); TYPE_CHECKING-only ones never run, so they cannot loop."""
    edges: dict[str, set[str]] = {}
    for item in INTERNAL_IMPORTS:
        if not item.type_checking_only:
            edges.setdefault(item.importer, set()).add(item.target)
    assert find_cycle(edges) is None
