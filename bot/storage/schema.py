"""Creating and upgrading the schema with Alembic, at start and for operators.

The app awaits :func:`upgrade` before anything reads or writes: it applies every
revision the database lacks (``bot/storage/migrations/versions/``) in one transaction,
so a crash part-way leaves it as it was. A file whose
revision this code does not know was written by a newer secbot: :class:`SchemaTooNew`,
and the app refuses to start rather than run old code on a newer schema.

Operators who prefer to upgrade by hand run ``python app.py db upgrade``; ``db current``
says where a file stands.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from bot.storage.db import prepare
from bot.storage.sql import ATOMIC, Db

log = logging.getLogger(__name__)
# Alembic says at INFO which implementation and DDL mode it chose, at every start; what
# matters (which revisions ran) is logged below.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaTooNew(Exception):
    """The file's schema revision is one this code does not know (a newer secbot's)."""

    def __init__(self, revision: str, head: str):
        self.revision, self.head = revision, head
        super().__init__(
            f"its schema is revision {revision}, newer than this secbot knows (up to {head}):"
            " run the newer secbot that upgraded it, or restore a backup taken before"
        )


@dataclass(frozen=True)
class Status:
    current: str | None  # None: no schema yet (a new file)
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@functools.cache
def _script() -> ScriptDirectory:
    """The revisions shipped with this code (read once: they never change while it runs)."""
    return ScriptDirectory.from_config(config())


def head() -> str:
    head = _script().get_current_head()
    assert head is not None
    return head


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def status(db: Db) -> Status:
    """Where ``db`` stands; :class:`SchemaTooNew` if its revision is not one of ours."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(status_on)


def status_on(conn: Connection) -> Status:
    """:func:`status` on a SQLAlchemy connection (sync; an async one's ``run_sync``)."""
    current = _current(conn)
    if current is not None and current not in _known():
        raise SchemaTooNew(current, head())
    return Status(current, head())


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(s.revision for s in _script().walk_revisions())


async def upgrade(db: Db) -> Status:
    """Apply every revision ``db`` lacks, in one transaction; returns where it stood
    before. Refuses (:class:`SchemaTooNew`) a database from a newer secbot. The
    revisions run on one of the engine's connections, synchronously inside SQLAlchemy's
    greenlet (Alembic is synchronous), in one transaction: ``BEGIN IMMEDIATE`` on SQLite,
    and PostgreSQL's DDL is transactional too, so a crash part-way leaves it as it was."""
    await prepare(db)
    async with db.engine.connect() as conn:
        await conn.execution_options(**{ATOMIC: True})
        async with conn.begin():
            before = await conn.run_sync(upgrade_on)
    if not before.up_to_date:
        log.info("upgraded the schema from %s to %s", before.current or "nothing", before.head)
    return before


def upgrade_on(conn: Connection) -> Status:
    """:func:`upgrade` on a connection whose transaction the caller holds (and commits)."""
    before = status_on(conn)
    if before.up_to_date:
        return before
    cfg, script = config(), _script()

    def steps(revision, context):  # what alembic.command.upgrade runs, with our cached script
        return script._upgrade_revs("head", revision)

    cfg.attributes["connection"] = conn
    with EnvironmentContext(cfg, script, fn=steps, destination_rev="head"):
        script.run_env()
    return before
