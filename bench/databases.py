"""The databases a bench part runs secbot on: the embedded SQLite file, or a throwaway
PostgreSQL server started the way the test suite starts its own (``tests/conftest.py``
``PgServer``: Debian's postgresql package, a free loopback port, no durability), so the
two are measured side by side in one run.

Each :class:`Target` gives the environment that points secbot at it and reads the few
counts the bench needs (deliveries kept but not yet handled, answers recorded) without
going through secbot.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE, POSTGRES = "sqlite", "postgres"

# Kept and not yet handled: every source (Slack, and Teams once its activities are kept).
_PENDING = "SELECT count(*) FROM inbox"
# One row per person who answered a channel quiz post, with how often they are recorded.
_ANSWERS = "SELECT user_key, count(*) FROM quiz_answers WHERE post_id IS NOT NULL GROUP BY user_key"


class Target(ABC):
    """One database secbot runs on during a part (SQLite or PostgreSQL below)."""

    name: str

    @abstractmethod
    def env(self) -> dict[str, str]:
        ...

    @abstractmethod
    async def scalar(self, sql: str) -> int:
        ...

    @abstractmethod
    async def rows(self, sql: str) -> list[tuple]:
        ...

    async def pending(self) -> int:
        """Deliveries acknowledged and kept in the inbox, not yet handled."""
        return await self.scalar(_PENDING)

    async def answers(self) -> dict[str, int]:
        """How many times each person's answer to a channel quiz post is recorded."""
        return {str(user): int(n) for user, n in await self.rows(_ANSWERS)}

    async def close(self) -> None:  # noqa: B027 - most targets hold nothing to close
        return None


class SqliteTarget(Target):
    name = SQLITE

    def __init__(self, folder: str):
        self.path = str(Path(folder) / "bench.db")

    def env(self) -> dict[str, str]:
        return {"SECBOT_DB": self.path}

    def _query(self, sql: str) -> list[tuple]:
        # Read-only alongside the server (WAL): a few milliseconds, so no thread hop.
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    async def scalar(self, sql: str) -> int:
        return int(self._query(sql)[0][0])

    async def rows(self, sql: str) -> list[tuple]:
        return self._query(sql)


class PostgresTarget(Target):
    """A new, empty database on the bench's PostgreSQL server."""

    name = POSTGRES

    def __init__(self, server_url: str):
        self.url = server_url.rsplit("/", 1)[0] + f"/bench_{uuid.uuid4().hex[:12]}"
        self._server_url = server_url
        self._engine: AsyncEngine | None = None

    async def create(self) -> PostgresTarget:
        from tests.support import admin_sql

        await admin_sql(self._server_url, f'CREATE DATABASE "{self.url.rsplit("/", 1)[1]}"')
        self._engine = create_async_engine(self.url, pool_size=1, max_overflow=0)
        return self

    def env(self) -> dict[str, str]:
        return {"SECBOT_DATABASE_URL": self.url}

    async def rows(self, sql: str) -> list[tuple]:
        assert self._engine is not None, "create() first"
        async with self._engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]

    async def scalar(self, sql: str) -> int:
        return int((await self.rows(sql))[0][0])

    async def close(self) -> None:
        from tests.support import admin_sql

        if self._engine is not None:
            await self._engine.dispose()
        name = self.url.rsplit("/", 1)[1]
        await admin_sql(self._server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_installed() -> bool:
    from tests.conftest import PG_BINS

    return bool(PG_BINS)


@contextlib.contextmanager
def postgres_server() -> Iterator[str | None]:
    """The URL of a throwaway PostgreSQL server for the part (the test suite's
    ``PgServer``), or None where Debian's postgresql package is not installed: the part
    then runs on SQLite only and says so."""
    if not postgres_installed():
        print("  PostgreSQL is not installed (apt-get install postgresql): SQLite only")
        yield None
        return
    from tests.conftest import PgServer

    with PgServer().running() as url:
        yield url
