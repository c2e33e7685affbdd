"""``python app.py db backup PATH`` and ``db restore PATH``: the SQLite file, copied safely.

A backup is taken while secbot runs. SQLite's online backup API copies every page of
the database in one read transaction: a consistent snapshot, however busy the app is
(in WAL mode the app's writes carry on meanwhile). It is written to a temporary file
beside PATH, checked, flushed to disk and only then given its name, so a PATH that
exists is always a whole backup. secbot never overwrites a file: a PATH that exists, or
a folder that doesn't, is refused.

A restore is done with secbot stopped. It refuses while any process has the database
open (SQLite can leave WAL mode only when no other connection is open, so the attempt
is the test), and refuses a file that is not a secbot database (no schema revision, a
revision newer than this secbot, or a failed integrity check). The copy into place goes
through the backup API too, inside one transaction: a restore cut short leaves the old
database as it was.

PostgreSQL has its own tools: these say which (``pg_dump``, ``pg_restore``).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError
from sqlite_utils import Database

from bot.storage import schema
from bot.storage.sqlite_file import Refused, stop_others, tables, vacuum

# What to use on PostgreSQL instead (the URL without SQLAlchemy's "+asyncpg", which
# PostgreSQL's own tools don't take).
PG_URL = '"${SECBOT_DATABASE_URL/+asyncpg/}"'
PG_TOOLS = {
    "backup": f"pg_dump --format=custom --file=PATH {PG_URL}",
    "restore": f"pg_restore --clean --if-exists --no-owner --dbname={PG_URL} PATH",
    "tables": f"psql {PG_URL} --command='\\dt+'",
    "vacuum": f"psql {PG_URL} --command='VACUUM'",
}


def main(command: str, path: str | None, db_path: str, url: str | None) -> int:
    """``db backup PATH``, ``db restore PATH``, ``db tables`` or ``db vacuum``: what was
    done on stdout and 0, or one line on stderr and 2."""
    try:
        if url:
            raise Refused(
                f"db {command} is for the SQLite file (SECBOT_DB); on PostgreSQL use"
                f" {PG_TOOLS[command]}"
            )
        if command == "backup":
            print(backup(Path(db_path), Path(str(path))))
        elif command == "restore":
            print(restore(Path(db_path), Path(str(path))))
        elif command == "tables":
            print(tables(Path(db_path)))
        else:
            print(vacuum(Path(db_path)))
    except Refused as e:
        print(f"secbot: {e}", file=sys.stderr)
        return 2
    return 0


def backup(db_path: Path, dest: Path) -> str:
    """Copy the database at ``db_path`` to the new file ``dest``; what was done."""
    _check_new_file(dest)
    if not db_path.is_file():
        raise Refused(f"SECBOT_DB {str(db_path)!r} does not exist: there is nothing to back up")
    revision = _secbot_revision(db_path, "SECBOT_DB")
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        with closing(_connect(db_path)) as source, closing(_connect(partial)) as copy:
            source.backup(copy)  # every page, in one read transaction
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check_whole(copy, dest)
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        _give_name(partial, dest)
    except FileExistsError:
        raise Refused(f"{str(dest)!r} already exists: choose a new file name") from None
    except sqlite3.Error as e:
        raise Refused(f"the backup failed ({e}); nothing was written to {str(dest)!r}") from None
    finally:
        partial.unlink(missing_ok=True)
    size = dest.stat().st_size / 1_000_000
    return f"Backed up SECBOT_DB to {dest} ({size:.1f} MB, schema revision {revision})."


def restore(db_path: Path, source: Path) -> str:
    """Replace the database at ``db_path`` with the backup ``source``; what was done."""
    if not source.is_file():
        raise Refused(f"{str(source)!r} is not a file")
    revision = _secbot_revision(source, "that file")
    with closing(_connect(source, read_only=True)) as backup_db:
        _check_whole(backup_db, source)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with closing(_connect(db_path)) as target:
            stop_others(Database(target), db_path, "restoring")
            try:
                backup_db.backup(target)  # in one transaction: all or nothing
            except sqlite3.Error as e:
                raise Refused(f"the restore failed ({e}); the database is unchanged") from None
    return (
        f"Restored SECBOT_DB {db_path} from {source} (schema revision {revision}). Start"
        " secbot: it brings the schema up to date if the backup is older."
    )


def _give_name(partial: Path, dest: Path) -> None:
    """``partial`` becomes ``dest``, which must not exist (a hard link fails rather than
    overwrite; where the file system has none, a rename after one more look)."""
    try:
        os.link(partial, dest)
    except FileExistsError:
        raise
    except OSError:
        if dest.exists():
            raise FileExistsError(dest) from None
        os.rename(partial, dest)


def _check_new_file(dest: Path) -> None:
    if dest.exists() or dest.is_symlink():
        raise Refused(f"{str(dest)!r} already exists: choose a new file name")
    if not dest.parent.is_dir():
        raise Refused(f"the folder {str(dest.parent)!r} does not exist")


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None)
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _secbot_revision(path: Path, what: str) -> str:
    """The schema revision of the secbot database at ``path``, or :class:`Refused`."""
    not_ours = f"{what} {str(path)!r} is not a secbot database"
    engine = create_engine(f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true")
    try:
        with engine.connect() as conn:
            current = schema.status_on(conn).current
    except schema.SchemaTooNew as e:
        raise Refused(
            f"{what} {str(path)!r} is from a newer secbot (revision {e.revision})"
        ) from None
    except (DBAPIError, sqlite3.Error):
        raise Refused(not_ours) from None
    finally:
        engine.dispose()
    if current is None:
        raise Refused(not_ours)
    return current


def _check_whole(conn: sqlite3.Connection, path: Path) -> None:
    found = conn.execute("PRAGMA quick_check").fetchone()[0]
    if found != "ok":
        raise Refused(f"{str(path)!r} is damaged (SQLite's check says: {found[:100]})")
