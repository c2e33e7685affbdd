"""The tables the code declares (``bot.storage.sql.metadata``) are exactly the tables the
migrations make: Alembic's own comparison finds no difference. A store whose declaration
drifts from the schema on disk (a column, type, index or nullability) fails here, before
it fails on someone's database. Tables not declared yet (domains still on SQL strings)
are left out; the comparison grows as each domain declares its tables."""

from __future__ import annotations

import importlib
import pkgutil

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import TEXT, Date, UniqueConstraint, inspect

import bot
import content
import incidents
from bot.storage.sql import metadata
from tests.support import ready_db

# Tables Alembic itself keeps, or SQLite does.
NOT_OURS = {"alembic_version", "sqlite_sequence"}


def _import_everything() -> None:
    """Every module, so every table declaration is on the metadata."""
    for package in (bot, content, incidents):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" not in info.name and not info.name.endswith("__main__"):
                importlib.import_module(info.name)


def _same_on_sqlite(difference, unique: dict[str, list[tuple[str, ...]]]) -> bool:
    """What SQLite can't tell apart, and nothing else:

    - a PRIMARY KEY column written without NOT NULL reads as nullable (the files were
      made so); the declarations say NOT NULL, as PostgreSQL will make them;
    - a ``Date`` column is ISO text on SQLite (SQLAlchemy's storage), as the files have it;
    - a UNIQUE constraint the file has without a name: Alembic matches constraints by
      name, so one declared (named by the convention) is compared by its columns here.
    """
    if isinstance(difference, tuple) and difference[0] == "add_constraint":
        constraint = difference[1]
        if isinstance(constraint, UniqueConstraint):
            columns = tuple(c.name for c in constraint.columns)
            return columns in unique.get(constraint.table.name, [])
        return False
    if not isinstance(difference, list) or len(difference) != 1:
        return False
    kind, _, table, column, _, was, now = difference[0]
    if kind == "modify_type":
        return isinstance(was, TEXT) and isinstance(now, Date)
    return _primary_key_nullability(difference)


def _primary_key_nullability(difference) -> bool:
    """SQLite says a PRIMARY KEY column written without NOT NULL may be null (the files
    were made so); the declarations say NOT NULL, as PostgreSQL will make them. Nothing
    else is let through."""
    if not isinstance(difference, list) or len(difference) != 1:
        return False
    kind, _, table, column, _, was, now = difference[0]
    key = metadata.tables[table].c[column].primary_key
    return kind == "modify_nullable" and key and (was, now) == (True, False)


async def test_declared_tables_match_the_migrated_database(tmp_path):
    _import_everything()
    declared = set(metadata.tables)
    assert {"inbox", "dead_letters", "processed_deliveries"} <= declared

    db = await ready_db(tmp_path / "schema.db")

    def include_name(name, type_, parent_names):
        if type_ == "table":
            return name in declared
        return True

    def compare(conn):
        context = MigrationContext.configure(
            conn, opts={"include_name": include_name, "compare_type": True}
        )
        differences = compare_metadata(context, metadata)
        on_disk = set(context.dialect.get_table_names(conn))
        found = inspect(conn)
        unique = {
            t: [tuple(u["column_names"]) for u in found.get_unique_constraints(t)]
            for t in declared
        }
        return differences, on_disk, unique

    async with db.engine.connect() as conn:
        differences, on_disk, unique = await conn.run_sync(compare)
    await db.close()
    assert [d for d in differences if not _same_on_sqlite(d, unique)] == []
    assert declared <= on_disk - NOT_OURS  # nothing declared that no migration makes
