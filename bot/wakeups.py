"""On PostgreSQL, idle workers are woken by ``LISTEN``/``NOTIFY`` when another instance
adds work for them; polling stays as the fallback (and is all there is on SQLite, where
the instances sharing a file have no such channel).

An instance that keeps a Slack delivery, or writes a page or an escalation step, says so
with ``NOTIFY secbot_work, '<kind>'``; every instance listens on a connection of its own
and wakes the workers registered for that kind. A lost notification costs only latency:
each worker still looks at the database on its own every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import func, select

from bot.storage.sql import DB_ERRORS, dialect_name, execute

log = logging.getLogger(__name__)

CHANNEL = "secbot_work"


class Wakeups:
    def __init__(self, db: Any):
        self.db = db
        self.enabled = dialect_name(db) == "postgresql"
        self._wakers: dict[str, list[Callable[[], Any]]] = {}
        self._pending: set[str] = set()
        self._sending: asyncio.Task | None = None
        self.heard = 0  # notifications received (tests, metrics)

    def on(self, kind: str, wake: Callable[[], Any]) -> None:
        """Call ``wake()`` when any instance announces work of ``kind``."""
        self._wakers.setdefault(kind, []).append(wake)

    def announce(self, kind: str) -> None:
        """Tell every instance there is new work of ``kind`` (sent soon, coalesced;
        nothing on SQLite). Safe to call from synchronous code."""
        if not self.enabled:
            return
        self._pending.add(kind)
        if self._sending is None or self._sending.done():
            self._sending = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        await asyncio.sleep(0)  # gather what this turn of the loop announces
        while self._pending:
            kinds, self._pending = self._pending, set()
            for kind in sorted(kinds):
                try:
                    await execute(self.db, select(func.pg_notify(CHANNEL, kind)))
                except DB_ERRORS as e:
                    log.debug("could not announce %s work (%s)", kind, type(e).__name__)

    def _heard(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        self.heard += 1
        for wake in self._wakers.get(payload, ()):
            wake()

    async def background(self, services: Any = None) -> AsyncIterator[None]:
        """For ``FeatureHost.add_background``: listen while the app runs (PostgreSQL)."""
        if not self.enabled:
            yield
            return
        conn = None
        driver = None
        try:
            conn = await self.db.engine.connect()
            driver = (await conn.get_raw_connection()).driver_connection
            await driver.add_listener(CHANNEL, self._heard)
        except Exception as e:  # noqa: BLE001 - no listener: polling carries on
            log.warning("not listening for other instances' work (%s); polling", type(e).__name__)
        try:
            yield
        finally:
            if self._sending is not None:
                self._sending.cancel()
                with contextlib.suppress(asyncio.CancelledError, *DB_ERRORS):
                    await self._sending
            if driver is not None:
                with contextlib.suppress(*DB_ERRORS, OSError):
                    await driver.remove_listener(CHANNEL, self._heard)
            if conn is not None:
                with contextlib.suppress(*DB_ERRORS, OSError):
                    await conn.close()
