"""No SQL strings outside the storage layer (issue 14, storage v2 step 1).

Stores build statements with SQLAlchemy Core on declared tables (``bot.storage.sql``);
only the storage layer itself runs SQL text: the connection's PRAGMAs and transactions
(``bot/storage/db.py``) and the migrations. Domains not converted yet are listed by
folder; the list only shrinks: once a domain has no SQL strings left, this test says to
take it off."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STORAGE_LAYER = (
    "bot/storage/backup.py",  # the backup API's PRAGMAs (journal mode, quick_check)
    "bot/storage/db.py",
    "bot/storage/sqlite_file.py",  # operator commands on the file (sqlite-utils, PRAGMAs)
    "bot/storage/engine.py",
    "bot/storage/sql.py",
    "bot/storage/sqlite_trips.py",  # the driver adapter: runs what SQLAlchemy compiled
    "bot/storage/migrations/",
    "bot/leadership.py",  # holds PostgreSQL's advisory lock on a connection of its own
)
NOT_YET: tuple[str, ...] = ()

RAW = {"execute", "executemany", "executescript", "exec_driver_sql"}


def _raw_sql_files() -> set[str]:
    found = set()
    for top in ("bot", "content", "incidents"):
        for path in (ROOT / top).rglob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                raw_call = (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in RAW
                )
                text_import = (
                    isinstance(node, ast.ImportFrom)
                    and (node.module or "").startswith("sqlalchemy")
                    and any(a.name == "text" for a in node.names)
                )
                if raw_call or text_import:
                    found.add(str(path.relative_to(ROOT)))
                    break
    return found


def test_sql_strings_only_in_the_storage_layer_and_domains_not_yet_converted():
    found = _raw_sql_files()
    stray = sorted(f for f in found if not f.startswith(STORAGE_LAYER + NOT_YET))
    assert stray == [], "build these statements with Core on declared tables (bot.storage.sql)"
    done = [p for p in NOT_YET if not any(f.startswith(p) for f in found)]
    assert done == [], f"{done} no longer run SQL strings: take them off NOT_YET"
