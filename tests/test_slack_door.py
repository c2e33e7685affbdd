"""The Slack front door keeps a verified body, acknowledges, and leaves the work to the
consumer; what it must answer itself (URL checks) it answers without keeping anything."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.adapters.slack.door import MAX_FORM_FIELDS, form_fields
from bot.storage.inbox import RAW, Inbox
from content.quiz.feature import Quiz
from tests.support import (
    help_burst,
    kept_slack,
    ready_db,
    sign_slack,
    slash_command_body,
    start_bot,
    stop_bot,
)


async def test_url_verification_is_answered_and_nothing_is_kept(running, fake_slack):
    body = json.dumps({"token": "x", "challenge": "c-123", "type": "url_verification"})
    async with running.session.post(
        running.url + "slack/events",
        data=body.encode(),
        headers={"Content-Type": "application/json", **sign_slack(body)},
    ) as r:
        assert r.status == 200
        assert (await r.json()) == {"challenge": "c-123"}
    assert kept_slack(running.settings.db_path) == []


async def test_unsigned_url_verification_is_refused(running):
    body = json.dumps({"challenge": "c-123", "type": "url_verification"})
    async with running.session.post(
        running.url + "slack/events",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    ) as r:
        assert r.status == 401
        assert "c-123" not in await r.text()


async def test_ssl_check_is_answered_and_nothing_is_kept(running, fake_slack):
    resp = await running.slack_post("ssl_check=1&token=legacy")
    assert resp.status == 200
    assert kept_slack(running.settings.db_path) == []


async def test_a_signed_body_that_is_not_utf8_is_refused(running, fake_slack):
    """Slack signs UTF-8 text; a body that isn't cannot be one of its requests."""
    import hashlib
    import hmac

    from tests.support import SIGNING_SECRET

    raw = b"payload=\xff\xfe"
    ts = str(int(time.time()))
    sig = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + raw, hashlib.sha256)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + sig.hexdigest(),
    }
    async with running.session.post(running.url + "slack/events", data=raw, headers=headers) as r:
        assert r.status == 401
    assert kept_slack(running.settings.db_path) == []


async def test_refused_requests_keep_nothing(running, fake_slack):
    body = slash_command_body("/secbot", "help")
    for timestamp in ("", "soon", "-1", "１２３"):
        resp = await running.slack_post(body, headers={"X-Slack-Request-Timestamp": timestamp})
        assert resp.status == 401, timestamp
    resp = await running.slack_post(body, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert resp.status == 401
    resp = await running.slack_post(body, timestamp=int(time.time()) - 400)
    assert resp.status == 401
    assert kept_slack(running.settings.db_path) == []
    assert fake_slack.calls == []


async def test_a_kept_body_older_than_the_signature_window_is_still_handled(
    slack_env, fake_slack, fake_connector
):
    """A process that acknowledged a click and died is restarted ten minutes later: the
    kept body's signature timestamp is now outside Slack's five minutes, but the door
    checked it on arrival, so the consumer handles it."""
    first = await start_bot(slack_env, slack=fake_slack, connector=fake_connector, content=False)
    await stop_bot(first)
    db = await ready_db(slack_env["SECBOT_DB"])
    body = slash_command_body(
        "/secbot", "help", response_url=fake_slack.response_url("late"), trigger_id="late.1"
    )
    await Inbox(db).add_raw("slack", RAW, body, datetime.now(UTC) - timedelta(minutes=10))
    await db.close()
    second = await start_bot(slack_env, slack=fake_slack, connector=fake_connector, content=False)
    try:
        replies = await fake_slack.wait_for(lambda s: s.responses())
        assert "What I can do" in replies[0]["text"]
    finally:
        await stop_bot(second)
    assert kept_slack(slack_env["SECBOT_DB"]) == []


async def test_a_burst_is_acknowledged_and_every_delivery_handled_in_order(running, fake_slack):
    """Sixty commands sent back to back: every one acknowledged with an empty 200, every
    one handled once, and the inbox empty afterwards."""
    triggers = await help_burst(running, fake_slack, "burst", 60)
    paths = sorted(c.path for c in fake_slack.calls if c.path.startswith("/response/"))
    assert paths == sorted(f"/response/{t}" for t in triggers)
    await running.runner.cleanup()
    assert kept_slack(running.settings.db_path) == []


async def test_an_acknowledged_click_does_not_wait_for_the_count_edit(running, fake_slack):
    """Slack already has its acknowledgement, so a click's handler finishes once the
    answer is recorded and the feedback sent; the channel count's edit follows on its
    own instead of holding the handler (and its inbox row) open."""
    import asyncio

    await running.slash("/quiz", "", channel="CQ1")
    post = await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"))
    value = next(
        e["value"]
        for b in post[0]["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("quiz:answer")
    )
    from app import SERVICES

    # Edits hang until released, and a waiting handler would wait up to 30 s for one.
    fake_slack.held["chat.update"] = release = asyncio.Event()
    running.app[SERVICES].feature(Quiz).updates.caller_wait = 30.0
    await running.click(
        "quiz:answer", value, user="UA1", channel="CQ1", response_url=fake_slack.response_url("UA1")
    )
    await fake_slack.wait_for(lambda s: s.api_calls("chat.update"))  # the edit is on the wire
    assert len(fake_slack.responses()) == 1  # and the private feedback has arrived
    for _ in range(250):  # the handler is done although its edit has no answer yet
        if not kept_slack(running.settings.db_path):
            break
        await asyncio.sleep(0.02)
    assert kept_slack(running.settings.db_path) == []
    release.set()


async def test_slack_consumer_settings_are_checked(slack_env):
    import pytest

    from bot.settings import ConfigError

    with pytest.raises(ConfigError, match="SECBOT_SLACK_HANDLERS"):
        await start_bot({**slack_env, "SECBOT_SLACK_HANDLERS": "0"}, content=False)
    with pytest.raises(ConfigError, match="SECBOT_SLACK_DEFER_SECONDS"):
        await start_bot({**slack_env, "SECBOT_SLACK_DEFER_SECONDS": "soon"}, content=False)


async def test_a_handler_cancelled_mid_way_leaves_its_delivery_kept(running, fake_slack):
    """A shutdown that runs out of time cancels handlers still running: their deliveries
    stay in the inbox for the next start instead of being dropped."""
    import asyncio

    from app import SERVICES

    intake = running.app[SERVICES].slack_intake
    fake_slack.held["chat.postMessage"] = release = asyncio.Event()
    await running.slash("/quiz", "", channel="CQ2", trigger_id="cancel.1")
    await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"))  # handler is waiting
    assert len(kept_slack(running.settings.db_path)) == 1
    intake.tasks.cancel()
    for _ in range(100):
        if not intake.tasks:
            break
        await asyncio.sleep(0.01)
    assert len(kept_slack(running.settings.db_path)) == 1
    release.set()


async def test_a_command_with_no_channel_is_dropped_and_stores_nothing(running, fake_slack, caplog):
    """A signed command whose channel id is empty (never from Slack itself) is dropped
    as unreadable: it opens no incident whose place could not be read back."""
    from tests.incident_support import desk
    from tests.support import eventually

    resp = await running.slash("/compromised", "x @dept", user="U1", channel="")
    assert resp.status == 200
    await eventually(lambda: not kept_slack(running.settings.db_path), timeout=30)
    assert await desk(running).store.get(f"SEC-{datetime.now(UTC).year}-0001") is None
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert fake_slack.responses() == []


@settings(max_examples=500, deadline=None, derandomize=True)
@example("&" * (MAX_FORM_FIELDS - 1))
@example("&" * MAX_FORM_FIELDS)
@example("payload=%7B%22a%22%3A%ff%fe%zz+%E2%82%AC%7D&payload=2&x")
@example("==&=a=b")
@given(st.text(alphabet=st.sampled_from("ab=&+;%2fAFgz7\u00e9\u20ac\x00 ")) | st.text())
def test_the_door_reads_a_form_as_bolt_does(body):
    """The door checks a form's outer shape with yarl's C decoder (``form_fields``); bolt
    reads the kept body with ``urllib.parse.parse_qs`` later. Both must see the same
    fields, or a body could pass the door's check and then fail in the intake."""
    try:
        expected = parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        with pytest.raises(ValueError):
            form_fields(body)
    else:
        assert form_fields(body) == expected
