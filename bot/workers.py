"""The one background-worker loop: start, stop, wake, back-off, graceful drain.

A worker is a ``step`` called again and again: it does one round of work and returns how
many seconds to wait before the next (``None``: the worker's usual ``every``). Between
rounds the worker sleeps on the app's clock (so tests move time by hand), and
:meth:`Worker.wake` cuts a wait short when new work arrives. A round that raises is
logged and the next one waits a back-off that grows with each failure in a row (and
resets after a success); a closed database (``sqlite3.ProgrammingError``) ends the worker.
Each round runs under its own correlation id, carried into its log lines.

:meth:`Worker.background` gives the async generator ``FeatureHost.add_background`` and
``app.cleanup_ctx`` take: the loop starts before ``yield``; at shutdown the wait or round
in progress is cancelled (rounds are written so that a cancelled one loses nothing and
is done again next start), then ``drain`` (if given) lets work already handed off finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from bot.core.clock import Clock, SystemClock
from bot.core.correlation import correlated

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[float | None]]
BACK_OFF_SECONDS = (5.0, 30.0, 120.0)


class Worker:
    def __init__(
        self,
        name: str,
        step: Step,
        *,
        every: float,
        clock: Clock | None = None,
        back_off: Sequence[float] = BACK_OFF_SECONDS,
        drain: Callable[[], Awaitable[None]] | None = None,
        start: Callable[[], Any] | None = None,
    ):
        self.name = name
        self.step = step
        self.every = every
        self.clock: Clock = clock or SystemClock()
        self.back_off = tuple(back_off)
        self._drain = drain
        self._start = start
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task | None = None
        self.failures = 0  # rounds failed in a row

    @property
    def stopping(self) -> bool:
        return self._stopping

    def wake(self) -> None:
        """New work: run the next round now instead of after the wait."""
        self._wake.set()

    async def run(self) -> None:
        """The loop itself (``start`` runs it in a task)."""
        while not self._stopping:
            with correlated():
                try:
                    delay = await self.step()
                except sqlite3.ProgrammingError:
                    log.info("%s stopping: the database is closed", self.name)
                    return
                except Exception:
                    log.exception("%s: a round failed; trying again shortly", self.name)
                    delay = self.back_off[min(self.failures, len(self.back_off) - 1)]
                    self.failures += 1
                else:
                    self.failures = 0
            if self._stopping:
                return
            await self._wait(self.every if delay is None else delay)

    async def _wait(self, seconds: float) -> None:
        if self._wake.is_set():
            self._wake.clear()
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()
            self._wake.clear()

    def start(self) -> asyncio.Task:
        if self._start is not None:
            self._start()
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self.run(), name=self.name)
        return self._task

    async def stop(self) -> None:
        """Stop the loop (cancelling the wait or round in progress), then drain."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._drain is not None:
            await self._drain()

    async def background(self, services: Any = None) -> AsyncIterator[None]:
        """For ``FeatureHost.add_background`` and ``app.cleanup_ctx``."""
        self.start()
        try:
            yield
        finally:
            await self.stop()


def every(
    name: str, seconds: float, work: Callable[[], Any], *, clock: Clock | None = None
) -> Worker:
    """A worker that calls synchronous ``work()`` now and then every ``seconds``."""

    async def step() -> None:
        work()
        return None

    return Worker(name, step, every=seconds, clock=clock)
