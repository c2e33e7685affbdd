"""Time as a dependency, so schedules and escalations can be tested without waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock tests move by hand; sleepers wake when time passes their deadline."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start
        self._changed = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> Coroutine[Any, Any, None]:
        """Sleep ``seconds`` from now, the moment this is called: a sleep started as a task
        (``ensure_future``) must not count from when the task first runs, which may be
        after a test has moved the clock on (it then slept past its wake-up time)."""
        return self._sleep_until(self._now + timedelta(seconds=max(0.0, seconds)))

    async def _sleep_until(self, deadline: datetime) -> None:
        while self._now < deadline:
            self._changed.clear()
            await self._changed.wait()
        await asyncio.sleep(0)

    async def advance(self, **delta: float) -> None:
        """Move time forward and let woken tasks run."""
        self._now += timedelta(**delta)
        self._changed.set()
        for _ in range(20):
            await asyncio.sleep(0)

    def jump(self, when: datetime) -> None:
        """Move time without waking sleepers: what a worker that has not run yet sees."""
        self._now = when

    async def set(self, when: datetime) -> None:
        self._now = when
        self._changed.set()
        for _ in range(20):
            await asyncio.sleep(0)
