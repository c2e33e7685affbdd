"""Tests go through public seams: HTTP, the neutral router, a domain's public functions
and the stores' public methods. A test that reads a table or pokes a private attribute
breaks whenever the code behind it changes shape, even when behaviour does not.

Raw SQL (``.execute(``, a store's ``conn``, ``sqlite3``, PRAGMAs) appears only in the
named files below, each for a reason a public method cannot serve: the database layer
itself, databases from before (rows written in an old shape on purpose), crash
simulations (the inbox or a table left as a crash would leave it) and query plans.
Private attributes of our own objects appear only where named in ``PRIVATE_ALLOWED``.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# File -> why it may write or read the database directly.
RAW_SQL_ALLOWED = {
    "test_storage.py": "the database layer itself: migrations, transactions, WAL",
    "test_storage_faults.py": "disk, lock and corruption faults; the inbox table gone",
    "test_storage_legacy.py": "databases from before: rows written in an old shape",
    "fixtures/build_legacy_db.py": "run by the code of that time: the rows no flow reaches",
    "test_tips_batching.py": "the batched writer's commits, seen from another connection",
    "test_quiz_engine.py": "the UNIQUE keys refuse a second answer; a migration keeps answers",
    "test_exactly_once.py": "crash simulation: a post or card whose id never came back",
    "test_dead_letters.py": "crash simulation: inbox rows interrupted mid-attempt",
    "support.py": (
        "raw_file, kept_slack, admin_sql: the database by hand for those above, and"
        " CREATE and DROP DATABASE on the throwaway PostgreSQL server"
    ),
    "test_backup.py": (
        "the operator's commands on the file: files that are not secbot's, a connection"
        " holding it open as a running secbot does, deleted rows for vacuum to give back"
    ),
}

# (file, attribute) -> why a test may touch this private attribute.
PRIVATE_ALLOWED = {
    ("test_tips_batching.py", "_flush"): "crash simulation: the ledger dies before a commit",
    ("fixtures/build_pg_snapshot.py", "_columns"): (
        "SQLAlchemy's, not ours: a copied Table has no public way to drop a column that a"
        " later revision adds"
    ),
}

# Modules whose private names are ours (a test importing ``_name`` from them is a smell).
OUR_PACKAGES = ("app", "bot", "content", "incidents", "bench")

SQL_ATTRIBUTES = {"execute", "executemany", "executescript", "conn", "set_trace_callback"}


def _files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p.name != Path(__file__).name)


def _raw_sql(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in SQL_ATTRIBUTES:
            found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.Import) and any(a.name == "sqlite3" for a in node.names):
            found.append((node.lineno, "import sqlite3"))
        elif isinstance(node, ast.ImportFrom) and node.module == "sqlite3":
            found.append((node.lineno, "from sqlite3 import"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "PRAGMA" in node.value.upper().split():
                found.append((node.lineno, "PRAGMA"))
    return found


def _private(tree: ast.AST) -> list[tuple[int, str]]:
    """``x._name`` where x is not ``self``/``cls``, and ``from our.module import _name``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = node.attr
            if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
                continue
            if isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}:
                continue  # a fake's or helper's own state
            found.append((node.lineno, name))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in OUR_PACKAGES:
                found += [(node.lineno, a.name) for a in node.names if a.name.startswith("_")]
    return found


def _trees() -> dict[str, ast.AST]:
    return {str(p.relative_to(TESTS)): ast.parse(p.read_text(), str(p)) for p in _files()}


def test_raw_sql_only_in_the_named_storage_tests():
    offenders = {
        name: hits
        for name, tree in _trees().items()
        if name not in RAW_SQL_ALLOWED and (hits := _raw_sql(tree))
    }
    assert offenders == {}, (
        "raw SQL outside the named storage tests: read through a store's public method or"
        f" what the bot does (HTTP answers, fake server calls) instead: {offenders}"
    )


def test_every_named_storage_test_still_needs_its_place():
    trees = _trees()
    stale = sorted(name for name in RAW_SQL_ALLOWED if not _raw_sql(trees.get(name, ast.Module())))
    assert stale == [], f"these no longer use raw SQL: take them off RAW_SQL_ALLOWED: {stale}"


def test_no_private_attributes_outside_the_named_exceptions():
    offenders = {
        name: hits
        for name, tree in _trees().items()
        if (hits := [h for h in _private(tree) if (name, h[1]) not in PRIVATE_ALLOWED])
    }
    assert offenders == {}, f"tests reach into private attributes: {offenders}"


def test_the_guard_sees_what_it_guards_against():
    """The checks themselves find each kind of shortcut (so an empty answer means clean)."""
    sample = ast.parse(
        "import sqlite3\n"
        "db.execute('SELECT 1')\n"
        "store.db.conn.close()\n"
        "db.execute('PRAGMA foreign_key_check')\n"
        "clock._now = 1\n"
        "self._state = 2\n"
        "from bot.render.slack import _block\n"
    )
    assert sorted(what for _, what in _raw_sql(sample)) == sorted(
        ["import sqlite3", ".execute", ".conn", ".execute", "PRAGMA"]
    )
    assert sorted(name for _, name in _private(sample)) == ["_block", "_now"]
