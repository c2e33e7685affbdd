"""A feature's background worker runs its shutdown code (the part after ``yield``).

Workers cancel their tasks there; if it were skipped, a worker would keep running after
the app stopped, against a closed database.
"""

from __future__ import annotations

from tests.support import start_bot, stop_bot

EVENTS: list[str] = []


async def _worker(services):
    EVENTS.append("start")
    yield
    EVENTS.append("stop")


def setup(host) -> None:
    host.add_background(_worker)


async def test_background_worker_shutdown_code_runs(tmp_path):
    EVENTS.clear()
    bot = await start_bot(
        {"SECBOT_DB": str(tmp_path / "bg.db")},
        features=["tests.test_background_shutdown"],
        content=False,
    )
    assert EVENTS == ["start"]
    await stop_bot(bot)
    assert EVENTS == ["start", "stop"]
