"""On PostgreSQL, LISTEN/NOTIFY wakes another instance's idle worker (issue 14 item 5):
one instance writes a page with its own paging worker stopped; the other, whose clock
never moves (so its polling never comes round), sends it because it was told."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from app import SERVICES
from bot.core.clock import FakeClock
from bot.wakeups import Wakeups
from incidents.paging.model import IncidentInfo
from tests import incident_support
from tests.incident_support import pager, routing_env
from tests.support import start_bot, stop_bot

pytestmark = pytest.mark.skipif(
    os.environ.get("SECBOT_TEST_DATABASE") != "postgres",
    reason="LISTEN/NOTIFY is PostgreSQL's: on SQLite the workers poll",
)
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
fake_connector = incident_support.fake_connector
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_page_written_on_one_instance_wakes_the_others_idle_worker(
    slack_env, fake_pd, fake_slack, fake_connector, content_library, tmp_path
):
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url)}
    kw = {"slack": fake_slack, "connector": fake_connector, "content": content_library}
    writer = await start_bot(env, clock=FakeClock(T0), **kw)
    sender = await start_bot(env, clock=FakeClock(T0), **kw)
    try:
        assert writer.app[SERVICES].feature(Wakeups).enabled
        await pager(writer).engine.worker.stop()  # this instance sends nothing itself
        info = IncidentInfo(
            id="SEC-2026-0042", summary="Compromised account", platform="x",
            platform_name="X", account="@dept", department="dept", severity=2, drill=False,
            reporter="slack:UREP", origin={"platform": "slack", "workspace": "T111",
                                           "channel": "C0INC"},
        )  # fmt: skip
        await pager(writer).start(info)
        (trigger,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
        assert trigger["dedup_key"] == "SEC-2026-0042"
        assert sender.app[SERVICES].feature(Wakeups).heard >= 1
    finally:
        await stop_bot(sender)
        await stop_bot(writer)
