"""Work started after an acknowledgement, tracked so shutdown can finish it.

Slack wants an answer within three seconds, so the Slack front door acknowledges
first and handles the delivery in a task. Keeping references stops tasks being
garbage-collected mid-flight, and ``drain`` lets a clean shutdown finish them
rather than drop an answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskSet:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background handler failed: %s", type(task.exception()).__name__)

    def __len__(self) -> int:
        return len(self._tasks)

    def cancel(self) -> None:
        """Cancel every running handler (as a crash or a hard stop would)."""
        for task in list(self._tasks):
            task.cancel()

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for running handlers; cancel what is still running after ``timeout``."""
        if not self._tasks:
            return
        done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("cancelled %d handlers still running at shutdown", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)
