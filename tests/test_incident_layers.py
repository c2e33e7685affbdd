"""Incidents stay a domain: they reach chat platforms only through the neutral transport
operations, never an adapter or an SDK client, and their modules import no circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "incidents"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes under ``if TYPE_CHECKING:`` (never run)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            skipped |= {id(n) for n in ast.walk(node)}
    return skipped


def _imports(path: Path, *, runtime_only: bool) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function. ``from a import b``
    counts as importing ``a.b`` when that is one of our modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree) if runtime_only else set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                names.add(sub if sub in MODULES else node.module)
    return names


def test_incidents_never_import_an_adapter():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in MODULES.values()
        for name in _imports(path, runtime_only=False)
        if name == "bot.adapters" or name.startswith("bot.adapters.")
    ]
    assert offenders == []


def test_incidents_never_touch_a_platform_client():
    """Rooms, invitations and direct messages go through the transport's neutral
    operations (open_room, invite, direct_place), not ``transport.client``."""
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno} uses .{node.attr}"
        for path in MODULES.values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and (node.attr == "client" or node.attr.startswith("conversations_"))
    ]
    assert offenders == []


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return groups


def import_graph() -> dict[str, set[str]]:
    return {
        name: {i for i in _imports(path, runtime_only=True) if i in MODULES and i != name}
        for name, path in MODULES.items()
    }


def test_incident_modules_import_no_circle():
    """Imports inside functions count: a circle hidden in a function is still a circle
    (``incidents.playbooks`` once imported its own lint to load the playbooks)."""
    assert import_circles(import_graph()) == []


def test_the_circle_finder_finds_one():
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
