"""Slack deliveries are kept before the ack and removed once handled, so a crash in
between loses nothing: the next start-up handles what the dead process left."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl

from bot.storage.deliveries import DeliveryStore
from bot.storage.inbox import Inbox
from tests.support import kept_slack, ready_db, slash_command_body, start_bot, stop_bot


async def test_handled_deliveries_leave_nothing_kept(running, fake_slack):
    await running.slash("/secbot", "help")
    await fake_slack.wait_for(lambda s: s.responses())
    await running.runner.cleanup()  # a clean stop drains the handlers first
    assert kept_slack(running.settings.db_path) == []


async def test_a_delivery_left_by_a_dead_process_is_handled_at_start_up(
    slack_env, fake_slack, fake_connector
):
    # A process that stored and acknowledged two commands, then died: one before its
    # handler ran, one after claiming the delivery but before finishing it.
    first = await start_bot(slack_env, slack=fake_slack, connector=fake_connector, content=False)
    await stop_bot(first)
    db = await ready_db(slack_env["SECBOT_DB"])
    now = datetime.now(UTC)
    for trigger in ("dead.1", "dead.2"):
        body = dict(
            parse_qsl(
                slash_command_body(
                    "/secbot",
                    "help",
                    response_url=fake_slack.response_url(trigger),
                    trigger_id=trigger,
                )
            )
        )
        await Inbox(db).add("slack", "command", body, now)
    await DeliveryStore(db).claim("slack:cmd:dead.2", now)
    await db.close()

    second = await start_bot(slack_env, slack=fake_slack, connector=fake_connector, content=False)
    try:
        replies = await fake_slack.wait_for(lambda s: len(s.responses()) >= 2 and s.responses())
        paths = sorted(c.path for c in fake_slack.calls if c.path.startswith("/response/"))
        assert paths == ["/response/dead.1", "/response/dead.2"]
        assert all("What I can do" in r["text"] for r in replies)
    finally:
        await stop_bot(second)
    assert kept_slack(slack_env["SECBOT_DB"]) == []
