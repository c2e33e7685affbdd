"""The framework's shape: the core imports no adapter, domain or app wiring; bot/ imports
no circle (type-only imports included); no class in bot/ or a domain holds a whole job."""

from __future__ import annotations

import ast

from tests.layers import ROOT, import_circles, import_graph, imports_of, modules_of

MODULES = modules_of("bot")


def test_the_core_imports_no_adapter_domain_or_wiring():
    banned = ("bot.adapters", "bot.server", "bot.http", "content", "incidents")
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for module, path in MODULES.items()
        if module.startswith("bot.core")
        for name in imports_of(path, MODULES)
        if any(name == b or name.startswith(b + ".") for b in banned)
    ]
    assert offenders == []


def test_bot_imports_no_circle():
    graph = import_graph(MODULES)
    # A package's __init__ re-exporting its modules is not a circle of design.
    for name in graph:
        graph[name] -= {p for p in graph[name] if name.startswith(p + ".")}
    assert import_circles(graph) == []


def test_no_class_in_bot_or_a_domain_is_over_300_lines_or_20_methods():
    offenders = []
    every = {**MODULES, **modules_of("content"), **modules_of("incidents")}
    for path in every.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                methods = sum(
                    isinstance(b, ast.FunctionDef | ast.AsyncFunctionDef) for b in node.body
                )
                if lines > 300 or methods > 20:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.name} {lines}/{methods}")
    assert offenders == []
