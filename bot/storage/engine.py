"""The asynchronous engine for a database URL, and the check that it can be used at all.

SQLite (the file in ``SECBOT_DB``) goes through aiosqlite; PostgreSQL
(``SECBOT_DATABASE_URL``) through asyncpg. A database that can't be reached, or that
refuses the login, is one plain line at start (:class:`DatabaseUnavailable`), never a
traceback, and never the password.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

from sqlalchemy import event, literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.storage import sqlite_trips

# How long start-up waits for the database server to answer before giving up.
CONNECT_SECONDS = 10.0


class DatabaseUnavailable(Exception):
    """The database can't be used: the message says why in a few words."""


# Connections kept open in the pool. SQLAlchemy's default keeps 5 and closes every one
# beyond that when it is given back, so a burst (handlers reading, group commits, the
# consumer's claim, the leader's lock and the LISTEN connection each holding one) opened
# and closed a connection per statement: tens of milliseconds each on PostgreSQL, a
# thread and four PRAGMAs each on SQLite.
POOL_SIZE = 16
POOL_OVERFLOW = 16
# A PostgreSQL connection that has sat in the pool longer than this is pinged before it is
# used (a server restarted meanwhile would fail its first statement). SQLAlchemy's
# ``pool_pre_ping`` pings at every checkout, and asyncpg's ping is three round trips
# (BEGIN, an empty query, ROLLBACK): at concurrency 1 under the bench's Slack load that
# was 2.9 pings per delivery, 8.6 round trips. A connection used
# within the last seconds is not pinged; should the server have gone in that moment,
# its statement fails as any database error does (the front door answers 503 and Slack
# tries again; a worker tries again shortly), and SQLAlchemy replaces every connection
# older than the failure.
PING_IDLE_SECONDS = 2.0


def create_engine_for(url: str, **options) -> AsyncEngine:
    """An engine for ``url`` (no connection is made until it is used)."""
    if "poolclass" not in options:
        options.setdefault("pool_size", POOL_SIZE)
        options.setdefault("max_overflow", POOL_OVERFLOW)
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        options.setdefault("connect_args", {"timeout": CONNECT_SECONDS})
    elif parsed.get_driver_name() == "aiosqlite":
        # A statement is one trip to SQLite's thread, not four (bot/storage/sqlite_trips.py).
        options.setdefault("module", sqlite_trips.module())
    engine = create_async_engine(url, **options)
    if parsed.get_backend_name() == "postgresql" and not options.get("pool_pre_ping"):
        ping_when_idle(engine, PING_IDLE_SECONDS)
    return engine


def ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout only if it has been idle ``idle_seconds``;
    one that does not answer is replaced (the pool tries another, or a new one)."""
    sync = engine.sync_engine

    def checkin(dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is None or time.monotonic() - returned < idle_seconds:
            return  # new, or used a moment ago
        try:
            sync.dialect.do_ping(dbapi_connection)
        except Exception as e:  # noqa: BLE001 - any failure: the pool replaces it
            raise DisconnectionError("a pooled connection did not answer") from e

    event.listen(sync, "checkin", checkin)
    event.listen(sync, "checkout", checkout)


_RETURNED = "secbot_returned_at"


async def check(engine: AsyncEngine, *, seconds: float = CONNECT_SECONDS) -> None:
    """Connect and run a trivial query, or :class:`DatabaseUnavailable`."""
    before = _driver_threads()
    try:
        async with asyncio.timeout(seconds), engine.connect() as conn:
            await conn.execute(select(literal(1)))
    except TimeoutError:
        raise DatabaseUnavailable(f"no answer within {seconds:g} seconds") from None
    except (DBAPIError, OSError) as e:
        await _finished(_driver_threads() - before)
        raise DatabaseUnavailable(reason(e)) from None


# aiosqlite runs each connection on a thread of this name. When opening the file fails
# it stops that thread without waiting for it, and the thread's last act is to hand a
# result to the event loop: if start-up has given up and closed the loop by then, the
# thread prints a traceback after secbot's one clear line.
_DRIVER_THREAD = "(_connection_worker_thread)"


def _driver_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.endswith(_DRIVER_THREAD)}


async def _finished(threads: set[threading.Thread], seconds: float = 1.0) -> None:
    """Wait (at most ``seconds``) for a failed connection's threads to end."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while any(t.is_alive() for t in threads) and loop.time() < deadline:
        await asyncio.sleep(0.005)
    await asyncio.sleep(0)  # the result they handed over lands on the loop


def reason(error: BaseException) -> str:
    """A few words for why a connection failed, from the driver's error."""
    original = getattr(error, "orig", None) or error
    cause = getattr(original, "__cause__", None)
    for e in (original, cause, error):
        if isinstance(e, socket.gaierror):
            return "the host name is unknown"
        if isinstance(e, ConnectionRefusedError):
            return "the connection was refused: is the server running, on that port?"
        if isinstance(e, OSError) and e.errno is not None:
            return f"it can't be reached ({e.strerror or e})"
    name = type(original).__name__
    words = {
        "InvalidPasswordError": "the user name or password was refused",
        "InvalidAuthorizationSpecificationError": "the user name or password was refused",
        "InvalidCatalogNameError": "that database does not exist",
        "InsufficientPrivilegeError": "the user may not connect to that database",
    }
    if name in words:
        return words[name]
    text = str(original).splitlines()[0] if str(original) else name
    return text[:200]


def hide_password(value: str) -> str:
    """The URL as people may see it: the password replaced by ***."""
    try:
        return make_url(value).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return "(not a URL)"
