"""Teams message activities take the Slack path: verified, kept, answered 202 at once,
replied to later through the Bot Connector (bot/adapters/teams/intake.py).

Over real HTTP against the fake Bot Connector, on SQLite and (``make test-postgres``)
on PostgreSQL. The connector's ``gate`` holds the bot's replies unanswered, so a test
can see what happened before a reply was posted.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from botframework.connector.auth import MicrosoftAppCredentials
from sqlalchemy import update

from app import SERVICES
from bot.adapters.teams.intake import TEAMS_INTAKE
from bot.storage.inbox import Inbox, inbox
from bot.storage.sql import execute
from tests.fakes.botframework import sign_token
from tests.support import (
    TEAMS_TEST_ENV,
    eventually,
    ready_db,
    start_bot,
    stop_bot,
    teams_activity,
    teams_handled,
)


def _replies_to(connector, activity_id: str) -> list:
    """The bot's replies to one activity (botbuilder posts a reply to .../activities/<id>)."""
    return [
        c for c in connector.calls
        if c.method == "POST" and c.path.endswith(f"/activities/{activity_id}")
    ]  # fmt: skip


def _replied_ids(connector, conversation: str) -> list[str]:
    """The activities the bot replied to in one conversation, in the order it did."""
    prefix = f"/v3/conversations/{conversation}/activities/"
    return [c.path[len(prefix) :] for c in connector.calls if c.path.startswith(prefix)]


async def _kept(bot) -> list:
    return await Inbox(bot.app[SERVICES].db).pending("teams")


async def test_a_message_is_acknowledged_before_its_reply_is_posted(running, fake_connector):
    fake_connector.gate = asyncio.Event()  # the connector holds every reply unanswered
    status, body = await running.teams_say(
        "help", personal=True, conversation="a:p-ack", activity_id="m-ack", handled=False
    )
    assert status == 202 and body == ""  # answered, nothing in the body
    # The reply comes afterwards, through the Bot Connector, not in the HTTP response.
    await fake_connector.wait_for(lambda s: _replies_to(s, "m-ack"))
    fake_connector.gate.set()
    await teams_handled(running)
    assert len(_replies_to(fake_connector, "m-ack")) == 1
    assert "Show what I can do" in json.dumps(_replies_to(fake_connector, "m-ack")[0].body)
    assert await _kept(running) == []  # handled: no longer kept


async def test_a_retried_activity_is_handled_once(running, fake_connector):
    act = teams_activity(
        "help", service_url=fake_connector.url, personal=True, conversation="a:p-retry",
        activity_id="m-retry",
    )  # fmt: skip
    fake_connector.gate = asyncio.Event()
    # Teams sends it again (it got no answer in time, say) while the first is in hand,
    # and once more after: each copy is kept and acknowledged, and one is handled.
    assert (await running.teams(act, handled=False))[0] == 202
    assert (await running.teams(act, handled=False))[0] == 202
    fake_connector.gate.set()
    await teams_handled(running)
    assert (await running.teams(act))[0] == 202
    await running.teams_say("help", personal=True, conversation="a:p-retry")  # barrier
    assert len(_replies_to(fake_connector, "m-retry")) == 1
    assert await _kept(running) == []


async def test_an_invoke_still_answers_in_its_response(running, fake_connector):
    status, body = await running.teams_click("nothing:here", "1")  # in a channel
    assert status == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "no longer active" in json.dumps(body["value"])
    assert await _kept(running) == []  # never kept: it was answered while open
    assert fake_connector.sent() == []


async def test_expect_replies_still_gets_its_replies_in_the_response(running, fake_connector):
    act = teams_activity("help", service_url=fake_connector.url, personal=True)
    act["deliveryMode"] = "expectReplies"
    status, body = await running.teams(act)
    assert status == 200 and "activities" in body
    assert await _kept(running) == []


async def test_each_conversation_in_order_and_conversations_side_by_side(
    running, fake_connector
):
    fake_connector.gate = asyncio.Event()
    for n in range(1, 5):
        for conv in ("a:p-one", "a:p-two"):
            status, _ = await running.teams_say(
                "help", personal=True, conversation=conv, activity_id=f"{conv}-{n}",
                handled=False,
            )  # fmt: skip
            assert status == 202
    # Both conversations' first replies are on the wire together: one conversation's
    # replies do not wait for the other's.
    await fake_connector.wait_for(
        lambda s: _replied_ids(s, "a:p-one") and _replied_ids(s, "a:p-two")
    )
    # Within a conversation, the next is handled only once the one before has finished.
    assert _replied_ids(fake_connector, "a:p-one") == ["a:p-one-1"]
    assert _replied_ids(fake_connector, "a:p-two") == ["a:p-two-1"]
    fake_connector.gate.set()
    await teams_handled(running)
    for conv in ("a:p-one", "a:p-two"):
        assert _replied_ids(fake_connector, conv) == [f"{conv}-{n}" for n in range(1, 5)]


async def test_a_long_queue_in_one_conversation_does_not_hold_up_another(
    running, fake_connector
):
    from bot.adapters.teams.intake import DEFAULT_HANDLERS

    fake_connector.gate = asyncio.Event()
    many = DEFAULT_HANDLERS + 8  # more than can be handled at once
    for n in range(many):
        await running.teams_say(
            "help", personal=True, conversation="a:p-long", activity_id=f"long-{n}",
            handled=False,
        )  # fmt: skip
    await running.teams_say(
        "help", personal=True, conversation="a:p-other", activity_id="other-1", handled=False
    )
    await fake_connector.wait_for(lambda s: _replied_ids(s, "a:p-other"))
    assert _replied_ids(fake_connector, "a:p-long") == ["long-0"]
    fake_connector.gate.set()
    await teams_handled(running)
    assert _replied_ids(fake_connector, "a:p-long") == [f"long-{n}" for n in range(many)]


async def _teams_bot(tmp_path, fake_connector, botframework):
    env = {
        "SECBOT_DB": str(tmp_path / "teams-intake.db"),
        **TEAMS_TEST_ENV,
        "SECBOT_BOTFRAMEWORK_OPENID_URL": botframework.metadata_url,
    }
    return await start_bot(env, connector=fake_connector, content=False, botframework=botframework)


async def test_a_crash_between_keeping_and_replying_loses_nothing(
    tmp_path, fake_connector, botframework
):
    """The row is kept, the instance that held it dies (its lease runs out), and the next
    start replies: the crash is simulated without a SIGKILL by stopping the consumer
    before it could take the row, then leaving the row as a dead holder would."""
    first = await _teams_bot(tmp_path, fake_connector, botframework)
    try:
        intake = first.app[TEAMS_INTAKE]
        intake.stop()
        await intake.worker.stop()
        status, _ = await first.teams_say(
            "help", personal=True, conversation="a:p-crash", activity_id="m-crash",
            handled=False,
        )  # fmt: skip
        assert status == 202
        assert len(await _kept(first)) == 1
    finally:
        await stop_bot(first)
    assert fake_connector.sent() == []  # acknowledged, not yet replied to
    # As a killed instance leaves it: claimed once, its lease run out.
    db = await ready_db(tmp_path / "teams-intake.db")
    try:
        past = datetime.now(UTC) - timedelta(minutes=1)
        dead = update(inbox).where(inbox.c.source == "teams")
        await execute(db, dead.values(claimed_by="dead-instance", claims=1, lease_until=past))
    finally:
        await db.close()
    second = await _teams_bot(tmp_path, fake_connector, botframework)
    try:
        await fake_connector.wait_for(lambda s: _replies_to(s, "m-crash"))
        await eventually(lambda: _none_kept(second))
        assert len(_replies_to(fake_connector, "m-crash")) == 1
    finally:
        await stop_bot(second)


async def _none_kept(bot) -> bool:
    return not await _kept(bot)


async def test_no_outbound_token_keeps_the_message_for_a_later_try(
    tmp_path, fake_connector, botframework, monkeypatch
):
    """Entra ID refusing the bot's own sign-in comes after the 202 now: the message stays
    kept and is tried again, never lost (an invoke still gets a 503: test_teams_auth)."""
    original = MicrosoftAppCredentials.get_access_token

    def refused(self, force_refresh: bool = False) -> str:
        raise PermissionError("AADSTS7000215: Invalid client secret provided")

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", refused)
    bot = await _teams_bot(tmp_path, fake_connector, botframework)
    try:
        act = teams_activity(
            "help", service_url=fake_connector.url, personal=True, conversation="a:p-token",
            activity_id="m-token",
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {sign_token(fake_connector.url)}"}
        assert (await bot.teams(act, headers))[0] == 202
        kept = await _kept(bot)
        assert len(kept) == 1
        row = await Inbox(bot.app[SERVICES].db).get(kept[0][0])
        assert row is not None and row.attempts == 1 and "Outbound" in (row.last_error or "")
        assert fake_connector.calls == []
        monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", original)
        # Its back-off (seconds) over, the next round tries it again and replies.
        await fake_connector.wait_for(lambda s: _replies_to(s, "m-token"), timeout=60)
        await eventually(lambda: _none_kept(bot), timeout=60)
    finally:
        await stop_bot(bot)
