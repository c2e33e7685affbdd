"""``python app.py db tables`` and ``db vacuum``: looking after the SQLite file, with
sqlite-utils.

``db tables`` says how many rows each table holds and how big the file is, so an operator
can see what secbot keeps and that the daily prune keeps it in check; it only reads, and
is safe while secbot runs. ``db vacuum`` gives back the space deleted rows leave behind (a
file never shrinks by itself); it rewrites the whole file, holding the write lock
throughout, so it refuses while secbot has the file open.

sqlite-utils is the tool for these: it opens a plain SQLite file with no app around it,
lists tables with their counts, vacuums, and turns WAL off and on. The app itself never
uses it (its storage is SQLAlchemy, on SQLite or PostgreSQL).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from sqlite_utils import Database


class Refused(Exception):
    """The one line to print (after ``secbot:``) before exiting with status 2."""


def tables(db_path: Path) -> str:
    """One line per table (rows), then the file's size and the space free inside it."""
    if not db_path.is_file():
        raise Refused(f"SECBOT_DB {str(db_path)!r} does not exist")
    uri = f"file:{quote(str(db_path))}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        db = Database(conn)
        try:
            counts = {t.name: t.count for t in db.tables}
            page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
            free = int(db.execute("PRAGMA freelist_count").fetchone()[0]) * page_size
        except sqlite3.DatabaseError:
            raise Refused(f"SECBOT_DB {str(db_path)!r} is not a SQLite database") from None
    width = max((len(name) for name in counts), default=5)
    lines = [f"{'Table':<{width}}  Rows"]
    lines += [f"{name:<{width}}  {rows:,}" for name, rows in sorted(counts.items())]
    size = db_path.stat().st_size
    lines.append(
        f"{len(counts)} tables; the file is {size / 1e6:.1f} MB, of which {free / 1e6:.1f} MB"
        " is free space (db vacuum gives it back)."
    )
    return "\n".join(lines)


def vacuum(db_path: Path) -> str:
    """Rewrite the file without its free space; refused while secbot has it open."""
    if not db_path.is_file():
        raise Refused(f"SECBOT_DB {str(db_path)!r} does not exist")
    before = db_path.stat().st_size
    with closing(sqlite3.connect(str(db_path), isolation_level=None)) as conn:
        db = Database(conn)
        stop_others(db, db_path, "vacuuming")
        db.vacuum()
        db.enable_wal()  # as secbot leaves it
    after = db_path.stat().st_size
    return f"Vacuumed SECBOT_DB: {before / 1e6:.1f} MB before, {after / 1e6:.1f} MB after."


def stop_others(db: Database, db_path: Path, doing: str) -> None:
    """Make sure no other process has the file open, or :class:`Refused`.

    SQLite leaves WAL mode only when no other connection has the file open (secbot keeps
    one open all the time it runs), so turning WAL off is the test."""
    db.execute("PRAGMA busy_timeout=0")
    try:
        db.disable_wal()
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            raise Refused(
                f"SECBOT_DB {str(db_path)!r} is in use: stop secbot (every instance) before {doing}"
            ) from None
        raise Refused(f"SECBOT_DB {str(db_path)!r} can't be used ({e})") from None
