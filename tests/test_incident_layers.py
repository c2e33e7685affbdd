"""Incidents stay a domain: they reach chat platforms only through the neutral transport
operations, never an adapter or an SDK client, and their modules import no circle."""

from __future__ import annotations

import ast

from tests.layers import ROOT, import_circles, import_graph, imports_of, modules_of

MODULES = modules_of("incidents")


def test_incidents_never_import_an_adapter():
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in MODULES.values()
        for name in imports_of(path, MODULES)
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


def test_incident_modules_import_no_circle():
    """Imports inside functions count: a circle hidden in a function is still a circle
    (``incidents.playbooks`` once imported its own lint to load the playbooks)."""
    assert import_circles(import_graph(MODULES, runtime_only=True)) == []


def test_the_circle_finder_finds_one():
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
