"""Two-way PagerDuty (issue 16 item 1), end to end over loopback HTTP.

An incident started in the web chat, Slack or Teams pages the fake PagerDuty; the
fake then sends signed V3 webhooks to ``/webhooks/pagerduty`` as PagerDuty does when
a responder acts. An acknowledgement there stops escalation and shows in chat with
the responder's name; a resolve offers the commander a one-click close; replays and
late events change nothing twice; badly signed calls are refused with 401.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime

import pytest

from bot.core.clock import FakeClock
from tests import incident_support
from tests.endpoints import CALLBACK_SECRET
from tests.fakes.pagerduty import WEBHOOK_SECRET, PagerDutyWebhooks, v3_signature
from tests.incident_support import buttons, card_of, card_text, desk, pager, routing_env
from tests.support import eventually, start_bot, stop_bot

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REPORTER, TEAM = "web-reporter", "web-team"
OLD_SECRET = "pd-webhook-secret-old-000000000"
TRIAGE = ("symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|no", "personal|no")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path, clock):
    env = {
        **slack_env,
        **routing_env(tmp_path, fake_pd.url),
        # Two secrets, as during a rotation of the subscription's secret.
        "SECBOT_PAGERDUTY_WEBHOOK_SECRETS": f"{OLD_SECRET}, {WEBHOOK_SECRET}",
    }
    running = await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


async def timeline(bot, incident_id: str) -> list[str]:
    return [e.text for e in await desk(bot).store.timeline.events(incident_id)]


async def web_click(bot, action: str, value: str, message_id, user: str = REPORTER):
    status, body = await bot.web_send(
        user=user, action={"action_id": action, "value": value, "message_id": str(message_id)}
    )
    assert status == 200 and body["ok"]
    return await bot.web_messages(user=user)


async def web_incident(bot) -> tuple[str, int]:
    status, _ = await bot.web_send(user=REPORTER, text="compromised x @govuk")
    assert status == 200
    card = (await bot.web_messages(user=REPORTER))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in TRIAGE:
        await web_click(bot, "incident:triage", f"{incident_id}|{answer}", card["id"])
    return incident_id, card["id"]


async def test_acknowledged_in_pagerduty_stops_escalation_and_shows_the_name_in_web_chat(
    bot, fake_pd, clock
):
    incident_id, card_id = await web_incident(bot)
    (trigger,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
    assert trigger["dedup_key"] == incident_id
    pd = PagerDutyWebhooks(bot)

    # Acknowledged in PagerDuty (signed with both secrets, as during a rotation).
    ack = pd.event("incident.acknowledged", incident_id)
    status, body = await pd.send(ack, secrets=[OLD_SECRET, WEBHOOK_SECRET])
    assert (status, body["outcome"]) == (200, "applied")
    inc = await desk(bot).store.get(incident_id)
    assert inc.acked_by_name == "Priya Shah" and inc.acked_by == "pagerduty:PRESP01"
    assert await pager(bot).state(incident_id) == "acknowledged"

    # The chat page paging sent is updated by the worker, which may run before or
    # after the incident desk has recorded who acknowledged: wait for that update
    # itself, then check it names the person as PagerDuty did (the name is kept with
    # paging's own record of the acknowledgement, so the order does not matter).
    async def page_updated() -> list[dict]:
        await pager(bot).flush()
        messages = await bot.web_messages(user=REPORTER)
        return [m for m in messages if ". Acknowledged by " in m["text"]]

    (page,) = await eventually(page_updated)
    assert "Acknowledged by Priya Shah at 09:00" in page["text"]
    messages = await bot.web_messages(user=REPORTER)
    card = next(m for m in messages if m["id"] == card_id)
    assert "By Priya Shah at 09:00" in card_text(card["blocks"])
    assert any(
        m["text"] == f"Priya Shah acknowledged {incident_id} in PagerDuty. Paging has stopped."
        for m in messages
    )
    assert "Acknowledged in PagerDuty by Priya Shah" in await timeline(bot, incident_id)
    assert "PRESP01" not in " ".join(m["text"] for m in messages)  # names, not ids

    # Escalation stopped: step 2 (backup PagerDuty, due after 5 minutes) never fires,
    # and PagerDuty is not told about an acknowledgement it sent us.
    await clock.advance(minutes=30)
    await pager(bot).flush()
    assert len(fake_pd.events("trigger")) == 1
    assert fake_pd.events("acknowledge") == []

    # The same event again (PagerDuty delivers at least once): nothing changes twice.
    status, body = await pd.send(ack)
    assert (status, body) == (200, {"ok": True, "duplicate": True})
    assert (await timeline(bot, incident_id)).count("Acknowledged in PagerDuty by Priya Shah") == 1
    # A second acknowledgement (another event id) after the first changes nothing either.
    status, body = await pd.send(pd.event("incident.acknowledged", incident_id))
    assert status == 200 and body["outcome"].startswith("ignored")

    # Reassigned and a note go on the timeline, by name.
    await pd.send(pd.event("incident.reassigned", incident_id, assignees=("Tom Reed",)))
    await pd.send(pd.event("incident.annotated", "", note="Called the account owner"))
    assert "Reassigned in PagerDuty to Tom Reed" in await timeline(bot, incident_id)
    assert "Note in PagerDuty from Priya Shah: Called the account owner" in (
        await timeline(bot, incident_id)
    )

    # Resolved in PagerDuty: paging stops and the commander is offered a one-click
    # close, through the usual close (steps are open, so it asks first).
    status, body = await pd.send(pd.event("incident.resolved", incident_id))
    assert (status, body["outcome"]) == (200, "applied")
    assert await pager(bot).state(incident_id) == "resolved"
    assert fake_pd.events("resolve") == []
    messages = await bot.web_messages(user=REPORTER)
    offer = next(m for m in messages if buttons(m["blocks"], "incident:remoteclose"))
    assert offer["text"].startswith(f"Priya Shah resolved {incident_id} in PagerDuty")
    assert (await desk(bot).store.get(incident_id)).is_open  # only offered, not closed
    (value,) = buttons(offer["blocks"], "incident:remoteclose")
    messages = await web_click(bot, "incident:remoteclose", value, offer["id"])
    confirm = [v for v in buttons(messages[-1]["blocks"], "incident:close") if "|confirm" in v]
    assert confirm, "the close asks first while steps are open"
    await web_click(bot, "incident:close", confirm[0], messages[-1]["id"])
    inc = await desk(bot).store.get(incident_id)
    assert not inc.is_open and inc.summary == "Resolved in PagerDuty."

    # An acknowledgement arriving after the resolve (out of order) changes nothing.
    late = pd.event("incident.acknowledged", incident_id, agent=("PLATE01", "Late Person"))
    status, body = await pd.send(late)
    assert status == 200 and body["outcome"] == "ignored: paging was already resolved"
    assert (await desk(bot).store.get(incident_id)).acked_by_name == "Priya Shah"
    assert not any("Late Person" in t for t in await timeline(bot, incident_id))


async def test_bad_signatures_are_refused_and_change_nothing(bot, fake_pd, caplog):
    incident_id, _ = await web_incident(bot)
    await fake_pd.wait_for(lambda s: s.events("trigger"))
    pd = PagerDutyWebhooks(bot)
    ack = pd.event("incident.acknowledged", incident_id)
    raw = b'{"event": {"id": "x"}}'
    caplog.set_level(logging.INFO)
    refusals = [
        await pd.send(ack, signed=False),
        await pd.send(ack, secrets=["a-wrong-secret-of-32-characters!"]),
        await pd.send(ack, signature="v1=" + "0" * 64),
        await pd.send(ack, signature="sha256=nonsense"),
        await pd.send(ack, signature=""),
        # Signed for another body: the signature is over the exact bytes.
        await pd.send(raw, signature=v3_signature([WEBHOOK_SECRET], raw + b" ")),
    ]
    assert [status for status, _ in refusals] == [401] * len(refusals)
    assert await pager(bot).state(incident_id) == "active"
    assert (await desk(bot).store.get(incident_id)).acked_at is None
    refused = [r.getMessage() for r in caplog.records if "webhook refused" in r.getMessage()]
    assert len(refused) == len(refusals)
    assert not any("Priya" in r.getMessage() for r in caplog.records)  # no body in the log
    # The signed event still works afterwards: nothing was claimed by the refusals.
    status, _ = await pd.send(ack)
    assert status == 200 and await pager(bot).state(incident_id) == "acknowledged"


async def test_unknown_incidents_and_event_types_are_ignored_with_a_log_line(bot, caplog):
    pd = PagerDutyWebhooks(bot)
    caplog.set_level(logging.INFO)
    status, body = await pd.send(pd.event("incident.acknowledged", "SEC-2026-9999"))
    assert (status, body["ignored"]) == (202, "ignored: no incident of ours")
    status, body = await pd.send(pd.event("incident.priority_updated", "SEC-2026-9999"))
    assert (status, body["ignored"]) == (202, "an event type secbot does not use")
    status, body = await pd.send({"event": "not an object"})
    assert status == 202
    status, _ = await pd.send(b"not json")
    assert status == 400
    lines = [r.getMessage() for r in caplog.records if "paging callback" in r.getMessage()]
    assert any("no incident of ours" in line for line in lines)
    assert any("does not use" in line for line in lines)


async def test_no_secret_set_refuses_every_webhook(
    slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path
):
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url)}
    env.pop("SECBOT_PAGERDUTY_WEBHOOK_SECRETS")
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        pd = PagerDutyWebhooks(running)
        status, _ = await pd.send(pd.event("incident.acknowledged", "SEC-2026-0001"))
        assert status == 401
    finally:
        await stop_bot(running)


async def escalation_stopped(bot, fake_pd, clock) -> None:
    """Step 2 (the backup PagerDuty service, five minutes on) never fires."""
    await clock.advance(minutes=30)
    await pager(bot).flush()
    assert len(fake_pd.events("trigger")) == 1


async def test_acknowledged_in_pagerduty_shows_in_slack(bot, fake_slack, fake_pd, clock):
    channel = "C0INC"
    await bot.slash("/compromised", "facebook @dept_news", user="UREP", channel=channel)
    card = (await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage")))[0]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    ts = await card_of(bot, incident_id)
    for answer in TRIAGE:
        n = len(fake_slack.api_calls("chat.update"))
        await bot.click("incident:triage", f"{incident_id}|{answer}", user="UREP",
                        channel=channel, message_ts=ts)  # fmt: skip
        await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n)
    await fake_pd.wait_for(lambda s: s.events("trigger"))

    pd = PagerDutyWebhooks(bot)
    status, _ = await pd.send(pd.event("incident.acknowledged", incident_id))
    assert status == 200
    said = f"Priya Shah acknowledged {incident_id} in PagerDuty. Paging has stopped."
    (post,) = await fake_slack.wait_for(
        lambda s: [p for p in s.api_calls("chat.postMessage") if p["text"] == said]
    )
    assert post["channel"] == channel and post["thread_ts"] == ts  # in the incident's thread
    card = [u for u in fake_slack.api_calls("chat.update") if u["ts"] == ts][-1]
    assert "By Priya Shah at 09:00" in card_text(card["blocks"])
    await escalation_stopped(bot, fake_pd, clock)


async def test_acknowledged_and_resolved_in_pagerduty_show_in_teams(
    bot, fake_connector, fake_pd, clock
):
    reporter = "aad-reporter"
    status, _ = await bot.teams_say("compromised threads @dept", mention=True, aad=reporter)
    assert status in (200, 202)
    await fake_connector.wait_for(lambda s: s.sent())
    first = fake_connector.sent()[0]["attachments"][0]["content"]
    incident_id = buttons(first, "incident:triage")[0].split("|")[0]
    card_id = await card_of(bot, incident_id)
    for answer in TRIAGE:
        status, _ = await bot.teams_click(
            "incident:triage", f"{incident_id}|{answer}", reply_to_id=card_id, aad=reporter
        )
        assert status == 200
    await fake_pd.wait_for(lambda s: s.events("trigger"))

    pd = PagerDutyWebhooks(bot)
    status, _ = await pd.send(pd.event("incident.acknowledged", incident_id))
    assert status == 200
    said = f"Priya Shah acknowledged {incident_id} in PagerDuty. Paging has stopped."
    await fake_connector.wait_for(lambda s: said in card_text(s.sent()))
    card = [u for u in fake_connector.updates() if u.get("id") == card_id][-1]
    assert "By Priya Shah at 09:00" in card_text(card)
    await escalation_stopped(bot, fake_pd, clock)

    status, _ = await pd.send(pd.event("incident.resolved", incident_id))
    assert status == 200
    offers = await fake_connector.wait_for(
        lambda s: [a for a in s.sent() if buttons(a, "incident:remoteclose")]
    )
    assert f"Priya Shah resolved {incident_id} in PagerDuty" in card_text(offers[0])


async def callback(bot, body: dict | bytes, secret: str | None = CALLBACK_SECRET):
    """POST the generic paging callback, signed as another paging tool would."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        headers["X-Secbot-Signature"] = f"sha256={digest}"
    async with bot.session.post(bot.url + "webhooks/paging", data=raw, headers=headers) as r:
        return r.status, await r.json(content_type=None)


async def test_another_paging_tool_acknowledges_through_the_generic_callback(
    bot, fake_pd, clock
):
    incident_id, card_id = await web_incident(bot)
    await fake_pd.wait_for(lambda s: s.events("trigger"))
    ack = {
        "event": "incident.acknowledged", "id": "oncall-evt-1", "incident_id": incident_id,
        "by": {"id": "u-17", "name": "Sam Jones"}, "tool": "On-call tool",
    }  # fmt: skip
    assert (await callback(bot, ack, secret=None))[0] == 401
    assert (await callback(bot, ack, secret="not-the-callback-secret-000"))[0] == 401
    assert await pager(bot).state(incident_id) == "active"

    status, body = await callback(bot, ack)
    assert (status, body["outcome"]) == (200, "applied")
    assert (await desk(bot).store.get(incident_id)).acked_by_name == "Sam Jones"
    messages = await bot.web_messages(user=REPORTER)
    said = f"Sam Jones acknowledged {incident_id} in On-call tool. Paging has stopped."
    assert any(m["text"] == said for m in messages)
    card = next(m for m in messages if m["id"] == card_id)
    assert "By Sam Jones" in card_text(card["blocks"])
    # PagerDuty, which this tool is not, hears the acknowledgement as before.
    await fake_pd.wait_for(lambda s: s.events("acknowledge"))
    assert (await callback(bot, ack))[1] == {"ok": True, "duplicate": True}
    acks = (await timeline(bot, incident_id)).count("Acknowledged in On-call tool by Sam Jones")
    assert acks == 1
    await escalation_stopped(bot, fake_pd, clock)

    note = {"event": "incident.annotated", "id": "oncall-evt-2", "incident_id": incident_id,
            "by": {"id": "u-17", "name": "Sam Jones"}, "tool": "On-call tool",
            "note": "Password reset requested"}  # fmt: skip
    assert (await callback(bot, note))[0] == 200
    assert "Note in On-call tool from Sam Jones: Password reset requested" in (
        await timeline(bot, incident_id)
    )
    unknown = {**ack, "id": "oncall-evt-3", "incident_id": "SEC-2026-9999"}
    assert (await callback(bot, unknown))[0] == 202
    assert (await callback(bot, b"[1, 2]"))[0] == 400


async def test_start_up_names_the_webhook_doors(
    slack_env, fake_slack, fake_connector, content_library, caplog
):
    caplog.set_level(logging.INFO, logger="secbot")
    running = await start_bot(
        slack_env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    await stop_bot(running)
    lines = [r.getMessage() for r in caplog.records if r.name == "secbot"]
    assert (
        "webhooks: /webhooks/pagerduty, /webhooks/paging, each checks its caller's signature"
        in lines
    )
    assert CALLBACK_SECRET not in caplog.text and WEBHOOK_SECRET not in caplog.text


async def test_acknowledged_in_pagerduty_while_the_trigger_is_on_the_wire_tells_pagerduty_nothing(
    bot, fake_pd
):
    """The trigger reaches PagerDuty but its answer is held; PagerDuty's acknowledgement
    arrives meanwhile. When the trigger's answer lands, the page that went out after the
    stop is acknowledged for the other tools, never back to PagerDuty, which said it."""
    fake_pd.hold = asyncio.Event()
    incident_id, _ = await web_incident(bot)
    await fake_pd.wait_for(lambda s: s.events("trigger"))  # arrived, not yet answered
    pd = PagerDutyWebhooks(bot)
    status, body = await pd.send(pd.event("incident.acknowledged", incident_id))
    assert (status, body["outcome"]) == (200, "applied")
    fake_pd.hold.set()

    async def trigger_recorded() -> bool:
        return any(p.action == "trigger" and p.status == "sent"
                   for p in await pager(bot).pages(incident_id))  # fmt: skip

    await eventually(trigger_recorded)
    await pager(bot).flush()
    pages = [(p.provider, p.action) for p in await pager(bot).pages(incident_id)]
    assert ("pagerduty", "acknowledge") not in pages, pages
    assert fake_pd.events("acknowledge") == []
