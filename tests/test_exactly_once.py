"""A Slack delivery replayed after a crash between its effect and being marked done
still has exactly one effect.

Each test lets a first app handle a signed request completely, stops it, and puts the
request back in the inbox, which is what the database holds when a process dies after
the handler's work committed but before the kept delivery was removed. A second app on
the same database replays it at start-up (``replay=True``, past the repeat check), and
the fake Slack Web API must have seen the effect once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app import SERVICES
from bot.storage.inbox import RAW, Inbox, inbox
from bot.storage.sql import execute
from tests.incident_support import buttons
from tests.support import (
    block_actions_body,
    eventually,
    kept_slack,
    raw_file,
    ready_db,
    slash_command_body,
    start_bot,
    stop_bot,
)

CHANNEL = "C0ONCE"


async def crash_left(db_path: str, body: str) -> None:
    """The kept row a crash after the effect (and before its removal) leaves behind."""
    db = await ready_db(db_path)
    try:
        entry = await Inbox(db).add_raw("slack", RAW, body, datetime.now(UTC))
        # Claimed by an instance that died with it in hand: its lease has run out.
        await execute(
            db,
            update(inbox)
            .where(inbox.c.id == entry)
            .values(claims=1, claimed_by="dead", lease_until=datetime.now(UTC) - timedelta(1)),
        )
    finally:
        await db.close()


@pytest.fixture
def start(slack_env, fake_slack, fake_connector, content_library):
    async def go():
        return await start_bot(
            slack_env, slack=fake_slack, connector=fake_connector, content=content_library
        )

    return go


async def handled_once_more(bot) -> None:
    """Wait until the replayed delivery has been handled and removed."""
    intake = bot.app[SERVICES].slack_intake
    await eventually(lambda: intake.handled >= 1)
    await eventually(lambda: not kept_slack(bot.settings.db_path))


async def replay(start, db_path: str, body: str):
    await crash_left(db_path, body)
    second = await start()
    await handled_once_more(second)
    return second


def channel_posts(fake_slack) -> list[dict]:
    return [p for p in fake_slack.api_calls("chat.postMessage") if p["channel"] == CHANNEL]


async def test_a_replayed_quiz_posts_one_question(start, slack_env, fake_slack):
    body = slash_command_body("/quiz", "", channel=CHANNEL, response_url=fake_slack.response_url())
    first = await start()
    try:
        await first.slack_post(body)
        await fake_slack.wait_for(lambda s: channel_posts(s))
        await eventually(lambda: not kept_slack(slack_env["SECBOT_DB"]))
    finally:
        await stop_bot(first)
    second = await replay(start, slack_env["SECBOT_DB"], body)
    try:
        assert len(channel_posts(fake_slack)) == 1
        assert fake_slack.responses() == []  # no apology, no second anything
    finally:
        await stop_bot(second)


async def test_a_replayed_quiz_whose_post_never_completed_posts_it_once(
    start, slack_env, fake_slack
):
    """The crash came during the post: the question's row (the intent) has no message,
    so the replay completes the post with the same question instead of a new one."""
    body = slash_command_body("/quiz", "", channel=CHANNEL, response_url=fake_slack.response_url())
    first = await start()
    try:
        await first.slack_post(body)
        await fake_slack.wait_for(lambda s: channel_posts(s))
        await eventually(lambda: not kept_slack(slack_env["SECBOT_DB"]))
    finally:
        await stop_bot(first)
    db = raw_file(slack_env["SECBOT_DB"])
    db.execute("UPDATE quiz_posts SET message_id = NULL")  # the ts never came back
    db.close()
    fake_slack.calls.clear()
    second = await replay(start, slack_env["SECBOT_DB"], body)
    try:
        assert len(channel_posts(fake_slack)) == 1
        db = raw_file(slack_env["SECBOT_DB"])
        rows = db.execute("SELECT message_id FROM quiz_posts").fetchall()
        db.close()
        assert len(rows) == 1 and rows[0][0] is not None  # the completed post's ts is kept
    finally:
        await stop_bot(second)


async def test_a_replayed_quiz_answer_counts_once_and_answers_once(start, slack_env, fake_slack):
    first = await start()
    try:
        await first.slash("/quiz", "", channel=CHANNEL)
        (question,) = await fake_slack.wait_for(lambda s: channel_posts(s))
        value = buttons(question["blocks"], "quiz:answer")[0]
        click = block_actions_body(
            "quiz:answer",
            value,
            user="U1",
            channel=CHANNEL,
            message_ts="1700000000.000001",
            response_url=fake_slack.response_url("click"),
        )
        await first.slack_post(click)
        await fake_slack.wait_for(lambda s: s.responses())
        await eventually(lambda: not kept_slack(slack_env["SECBOT_DB"]))
    finally:
        await stop_bot(first)
    feedback = len(fake_slack.responses())
    second = await replay(start, slack_env["SECBOT_DB"], click)
    try:
        assert len(fake_slack.responses()) == feedback  # no "you already answered"
        db = raw_file(slack_env["SECBOT_DB"])
        answers = db.execute("SELECT count(*) FROM quiz_answers").fetchone()[0]
        db.close()
        assert answers == 1
    finally:
        await stop_bot(second)


async def test_a_replayed_compromised_starts_one_incident(start, slack_env, fake_slack):
    body = slash_command_body(
        "/compromised", "", user="UREP", channel=CHANNEL, response_url=fake_slack.response_url()
    )
    first = await start()
    try:
        await first.slack_post(body)
        await fake_slack.wait_for(lambda s: channel_posts(s))
        await eventually(lambda: not kept_slack(slack_env["SECBOT_DB"]))
    finally:
        await stop_bot(first)
    second = await replay(start, slack_env["SECBOT_DB"], body)
    try:
        assert len(channel_posts(fake_slack)) == 1  # one triage card
        db = raw_file(slack_env["SECBOT_DB"])
        incidents = db.execute("SELECT count(*) FROM incidents").fetchone()[0]
        db.close()
        assert incidents == 1
    finally:
        await stop_bot(second)


async def test_a_replayed_triage_click_counts_once(start, slack_env, fake_slack):
    first = await start()
    try:
        await first.slash("/compromised", "", user="UREP", channel=CHANNEL)
        (card,) = await fake_slack.wait_for(lambda s: channel_posts(s))
        incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
        click = block_actions_body(
            "incident:triage",
            f"{incident_id}|platform|facebook",
            user="UREP",
            channel=CHANNEL,
            message_ts="1700000000.000001",
            response_url=fake_slack.response_url("triage"),
        )
        await first.slack_post(click)
        await fake_slack.wait_for(lambda s: s.api_calls("chat.update"))
        await eventually(lambda: not kept_slack(slack_env["SECBOT_DB"]))
    finally:
        await stop_bot(first)
    updates = len(fake_slack.api_calls("chat.update"))
    second = await replay(start, slack_env["SECBOT_DB"], click)
    try:
        assert len(fake_slack.api_calls("chat.update")) == updates
        db = raw_file(slack_env["SECBOT_DB"])
        events = db.execute(
            "SELECT count(*) FROM incident_events WHERE text LIKE 'Platform:%'"
        ).fetchone()[0]
        step = db.execute("SELECT triage_step FROM incidents").fetchone()[0]
        db.close()
        assert events == 1 and step == "symptoms"
    finally:
        await stop_bot(second)


async def test_a_replayed_tip_send_now_sends_one_tip(start, slack_env, fake_slack):
    body = slash_command_body(
        "/tip", "send-now", user="UADMIN", channel=CHANNEL, response_url=fake_slack.response_url()
    )
    first = await start()
    try:
        await first.slash("/tip", "subscribe", user="UADMIN", channel=CHANNEL)
        await fake_slack.wait_for(lambda s: channel_posts(s))  # the confirmation
        before = len(channel_posts(fake_slack))
        await first.slack_post(body)
        await fake_slack.wait_for(lambda s: len(channel_posts(s)) > before)
        await eventually(lambda: not kept_slack(slack_env["SECBOT_DB"]))
    finally:
        await stop_bot(first)
    second = await replay(start, slack_env["SECBOT_DB"], body)
    try:
        assert len(channel_posts(fake_slack)) == before + 1
        db = raw_file(slack_env["SECBOT_DB"])
        sent = db.execute("SELECT count(*) FROM tip_deliveries").fetchone()[0]
        db.close()
        assert sent == 1
    finally:
        await stop_bot(second)


async def test_a_replayed_compromised_whose_card_never_posted_posts_it_once(
    start, slack_env, fake_slack
):
    body = slash_command_body(
        "/compromised", "", user="UREP", channel=CHANNEL, response_url=fake_slack.response_url()
    )
    first = await start()
    try:
        await first.slack_post(body)
        await fake_slack.wait_for(lambda s: channel_posts(s))
        await eventually(lambda: not kept_slack(slack_env["SECBOT_DB"]))
    finally:
        await stop_bot(first)
    db = raw_file(slack_env["SECBOT_DB"])
    db.execute("UPDATE incidents SET card_id = NULL")  # the crash came during the post
    db.close()
    fake_slack.calls.clear()
    second = await replay(start, slack_env["SECBOT_DB"], body)
    try:
        assert len(channel_posts(fake_slack)) == 1  # the card, completed once
        ((count, card),) = rows_of(
            slack_env["SECBOT_DB"], "SELECT count(*), max(card_id) FROM incidents"
        )
        assert count == 1 and card is not None
    finally:
        await stop_bot(second)


def rows_of(db_path: str, sql: str) -> list:
    db = raw_file(db_path)
    try:
        return [tuple(r) for r in db.execute(sql).fetchall()]
    finally:
        db.close()


async def test_a_replayed_tip_subscribe_subscribes_and_announces_once(start, slack_env, fake_slack):
    body = slash_command_body(
        "/tip", "subscribe 09:30", channel=CHANNEL, response_url=fake_slack.response_url()
    )
    first = await start()
    try:
        await first.slack_post(body)
        await fake_slack.wait_for(lambda s: channel_posts(s))
        await eventually(lambda: not kept_slack(slack_env["SECBOT_DB"]))
    finally:
        await stop_bot(first)
    second = await replay(start, slack_env["SECBOT_DB"], body)
    try:
        assert len(channel_posts(fake_slack)) == 1  # "Daily security tips are on", once
        assert rows_of(slack_env["SECBOT_DB"], "SELECT count(*) FROM tip_subscriptions") == [(1,)]
    finally:
        await stop_bot(second)
