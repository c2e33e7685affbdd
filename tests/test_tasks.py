"""Handlers started after a Slack ack are finished, not dropped, at a clean shutdown."""

from __future__ import annotations

import asyncio

from bot.tasks import TaskSet


async def test_drain_waits_for_running_handlers():
    tasks = TaskSet()
    done: list[str] = []

    async def handler(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        done.append(name)

    tasks.spawn(handler("a", 0.05))
    tasks.spawn(handler("b", 0.01))
    assert len(tasks) == 2
    await tasks.drain(timeout=5)
    assert sorted(done) == ["a", "b"]
    assert len(tasks) == 0


async def test_drain_cancels_what_overruns_the_timeout():
    tasks = TaskSet()
    started = asyncio.Event()

    async def stuck() -> None:
        started.set()
        await asyncio.sleep(60)

    task = tasks.spawn(stuck())
    await started.wait()
    await tasks.drain(timeout=0.05)
    assert task.cancelled()


async def test_a_failing_handler_does_not_break_the_set(caplog):
    tasks = TaskSet()

    async def boom() -> None:
        raise RuntimeError("secret text that must not be logged")

    tasks.spawn(boom())
    await tasks.drain(timeout=1)
    assert "RuntimeError" in caplog.text
    assert "secret text" not in caplog.text
