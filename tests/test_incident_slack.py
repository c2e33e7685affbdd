"""/compromised end to end over signed Slack HTTP, with the real pager and fake PagerDuty."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from incidents.checklist_phases import in_order
from tests import incident_support
from tests.fakes.notify import API_KEY, FakeNotify
from tests.fakes.slack_api import FakeSlack
from tests.incident_support import (
    ROUTING_WITH_MAJOR,
    Patient,
    buttons,
    card_of,
    card_text,
    checklist_of,
    desk,
    pager,
    routing_env,
    slack_close,
)
from tests.support import slack_handled, start_bot, stop_bot

# Fakes that wait long enough on a busy CI machine.
fake_pd = incident_support.fake_pd
env = incident_support.env
bot = incident_support.bot

CHANNEL = "C0INC"


class FakeSlackWithChannels(Patient, FakeSlack):
    """The fake Web API, plus conversations.create answering with a new private channel."""

    async def api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "conversations.create":
            body = await self.record(request)
            return web.json_response(
                {"ok": True, "channel": {"id": "GPRIV1", "name": body["name"], "is_private": True}}
            )
        return await super().api(request)

    async def record(self, request: web.Request):
        body = await super().record(request)
        if request.query and isinstance(body, dict):
            body.update(request.query)  # slack_sdk sends some methods' arguments this way
        return body


@pytest.fixture
async def fake_slack():
    server = await FakeSlackWithChannels().start()
    yield server
    await server.close()


def posts(fake_slack) -> list[dict]:
    return fake_slack.api_calls("chat.postMessage")


def updates_of(fake_slack, ts: str) -> list[dict]:
    return [u for u in fake_slack.api_calls("chat.update") if u["ts"] == ts]


async def start(bot, fake_slack, text: str, user: str = "UREP") -> tuple[str, str]:
    """Post /compromised; returns (incident id, the card's ts)."""
    before = len(posts(fake_slack))
    await bot.slash("/compromised", text, user=user, channel=CHANNEL)
    await fake_slack.wait_for(lambda s: len(posts(s)) > before)
    card = posts(fake_slack)[before]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    return incident_id, await card_of(bot, incident_id)


async def answer(bot, fake_slack, incident_id: str, ts: str, *answers: str, user="UREP") -> None:
    for a in answers:
        n = len(fake_slack.api_calls("chat.update"))
        await bot.click(
            "incident:triage", f"{incident_id}|{a}", user=user, channel=CHANNEL, message_ts=ts
        )
        await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n)


def text_of(update: dict) -> str:
    return card_text(update["blocks"])


async def test_full_incident_in_slack(bot, fake_slack, fake_pd):
    incident_id, ts = await start(bot, fake_slack, "")
    card = posts(fake_slack)[0]
    assert card["channel"] == CHANNEL and "Which platform" in card["text"]
    assert "/compromised handle @ouraccount" in card_text(card["blocks"])
    await bot.slash("/compromised", "handle @dept_news", user="UREP", channel=CHANNEL)
    updated = await fake_slack.wait_for(lambda s: updates_of(s, ts))
    assert "@dept_news" in card_text(updated[-1]["blocks"])
    await answer(
        bot, fake_slack, incident_id, ts,
        "platform|facebook", "symptoms|phished:on", "symptoms|next", "access|yes",
        "harmful|no", "personal|no",
    )  # fmt: skip
    # The card turned into the incident card; the checklist is in its thread.
    await fake_slack.wait_for(lambda s: any(p.get("thread_ts") == ts for p in posts(s)))
    final = updates_of(fake_slack, ts)[-1]
    assert final["text"].startswith(f"{incident_id}: Facebook account @dept_news. Severity 2")
    checklist = next(p for p in posts(fake_slack) if p["text"].startswith(f"{incident_id} check"))
    assert checklist["thread_ts"] == ts and checklist["channel"] == CHANNEL
    # One phase at a time (issue 15): the first 15 minutes' steps have the buttons.
    assert "First 15 minutes" in checklist["text"]
    first = [
        s for s in in_order(await desk(bot).store.steps.all(incident_id)) if s.phase == "first"
    ]
    assert buttons(checklist["blocks"], "incident:done") == [
        f"{incident_id}|{s.step_id}" for s in first
    ]

    (trigger,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
    assert trigger["dedup_key"] == incident_id and trigger["payload"]["severity"] == "error"
    page = await fake_slack.wait_for(
        lambda s: [p for p in posts(s) if buttons(p["blocks"], "incident:ack")
                   and p.get("thread_ts") == ts]
    )  # fmt: skip
    assert page[0]["channel"] == CHANNEL

    # A refused acknowledge says why, privately, and PagerDuty hears nothing (the
    # reporter is on the incident but not in the paged team).
    n = len(fake_slack.responses())
    await bot.click("incident:ack", incident_id, user="UREP", channel=CHANNEL, message_ts=ts)
    refusal = (await fake_slack.wait_for(lambda s: len(s.responses()) > n and s.responses()))[-1]
    assert refusal["response_type"] == "ephemeral"
    assert "only someone in the paged team (comms-security) or an admin" in refusal["text"]
    await bot.click("incident:ack", incident_id, user="UTEAM", channel=CHANNEL, message_ts=ts)
    await fake_pd.wait_for(lambda s: s.events("acknowledge"))
    # The card is redrawn after the acknowledgement is decided (and paging told).
    redrawn = await fake_slack.wait_for(
        lambda s: [t for u in updates_of(s, ts)[-1:] if "By user-uteam at" in (t := text_of(u))]
    )
    assert "The checklist is in the thread." in redrawn[0]

    checklist_ts = await checklist_of(bot, incident_id)
    n = len(updates_of(fake_slack, checklist_ts))
    await bot.click(
        "incident:done", f"{incident_id}|contain-password", user="UTEAM", channel=CHANNEL,
        message_ts=checklist_ts,
    )  # fmt: skip
    # The last redraw of the checklist counts the step (one the acknowledgement asked for
    # may land in between).
    await fake_slack.wait_for(
        lambda s: len(updates_of(s, checklist_ts)) > n
        and "1 of" in updates_of(s, checklist_ts)[-1]["text"]
    )
    assert (
        await desk(bot).store.steps.get(incident_id, "contain-password")
    ).by_name == "user-uteam"

    # Close: refused for the paged team, then by the reporter (the commander).
    n = len(fake_slack.responses())
    await bot.slash("/compromised", f"close {incident_id} fine", user="UTEAM", channel=CHANNEL)
    refusal = (await fake_slack.wait_for(lambda s: len(s.responses()) > n and s.responses()))[-1]
    assert "Only the incident commander (user-urep) or an admin can close" in refusal["text"]
    # Steps are still open, so closing asks first (issue 15).
    await slack_close(bot, fake_slack, incident_id, "Reset and secured", "UREP", CHANNEL)
    await fake_pd.wait_for(lambda s: s.events("resolve"))

    # The report arrives as a file through files_upload_v2.
    await bot.slash("/compromised", f"report {incident_id}", user="UREP", channel=CHANNEL)
    # Two files: the Markdown report and its HTML version.
    done = await fake_slack.wait_for(
        lambda s: (
            len(s.api_calls("files.completeUploadExternal")) >= 2
            and s.api_calls("files.completeUploadExternal")
        )
    )
    assert done[0]["channel_id"] == CHANNEL
    asked = [a["filename"] for a in fake_slack.api_calls("files.getUploadURLExternal")]
    assert asked == [f"{incident_id}-report.html", f"{incident_id}-report.md"]
    file_id = json.loads(done[1]["files"])[0]["id"]  # the Markdown file
    (uploaded,) = fake_slack.named(f"/upload/{file_id}")
    assert uploaded.body.startswith(f"# Post-incident report: {incident_id}")
    assert "Reset and secured" in uploaded.body and "## Pages sent" in uploaded.body


async def test_double_clicks_on_triage_count_once(bot, fake_slack, fake_pd):
    incident_id, ts = await start(bot, fake_slack, "tiktok @dept")
    for value in ("symptoms|impersonation:on", "symptoms|next", "access|yes", "harmful|no"):
        clicks = [
            bot.click("incident:triage", f"{incident_id}|{value}", user="UREP", channel=CHANNEL,
                      message_ts=ts)
            for _ in range(2)
        ]  # fmt: skip
        await asyncio.gather(*clicks)
        # People click the next question once the card shows it: handled before the next.
        await slack_handled(bot)
    await asyncio.gather(
        *[
            bot.click("incident:triage", f"{incident_id}|personal|no", user=u, channel=CHANNEL,
                      message_ts=ts)
            for u in ("UREP", "UREP", "UOTHER")
        ]
    )  # fmt: skip
    await fake_pd.wait_for(lambda s: s.events("trigger"))
    await slack_handled(bot)
    await pager(bot).flush()
    inc = await desk(bot).store.get(incident_id)
    assert inc.symptoms == ("impersonation",) and inc.severity == 3
    assert len(fake_pd.events("trigger")) == 1
    checklists = [p for p in posts(fake_slack) if p["text"].startswith(f"{incident_id} check")]
    assert len(checklists) == 1
    timeline = [e.text for e in await desk(bot).store.timeline.events(incident_id)]
    assert sum("Triage done" in t for t in timeline) == 1
    assert sum(t.startswith("Admin access") for t in timeline) == 1
    # Done twice on the same step is recorded once (reporting the fake account: this is
    # an impersonation, so the hijack-only steps such as the password are not listed).
    checklist_ts = inc.checklist_id
    await asyncio.gather(
        *[
            bot.click("incident:done", f"{incident_id}|recover-impersonation", user="UREP",
                      channel=CHANNEL, message_ts=checklist_ts)
            for _ in range(2)
        ]
    )  # fmt: skip
    await slack_handled(bot)  # both clicks, not only their acknowledgements
    timeline = [e.text for e in await desk(bot).store.timeline.events(incident_id)]
    # The timeline names the step by its words, not its id (issue 15, item 6).
    step = await desk(bot).store.steps.get(incident_id, "recover-impersonation")
    assert timeline.count(f"Done: “{step.text}”") == 1


async def test_private_incident_channel(env, fake_slack, fake_connector, content_library, fake_pd):
    running = await start_bot(
        {**env, "SECBOT_INCIDENT_CHANNELS": "true"},
        slack=fake_slack,
        connector=fake_connector,
        content=content_library,
    )
    try:
        incident_id, ts = await start(running, fake_slack, "drill x @practice")
        await answer(
            running, fake_slack, incident_id, ts,
            "symptoms|lost-device:on", "symptoms|next", "access|yes", "harmful|no", "personal|no",
        )  # fmt: skip
        (created,) = fake_slack.api_calls("conversations.create")
        assert created["name"] == f"drill-{incident_id.lower()}"
        assert created["is_private"] in (True, "true", "1")
        (invite,) = fake_slack.api_calls("conversations.invite")
        assert invite["channel"] == "GPRIV1"
        assert set(invite["users"].split(",")) == {"UREP", "UTEAM"}
        checklist = await fake_slack.wait_for(
            lambda s: [p for p in posts(s) if p["text"].startswith(f"DRILL — {incident_id} che")]
        )
        assert checklist[0]["channel"] == "GPRIV1" and "thread_ts" not in checklist[0]
        card = updates_of(fake_slack, ts)[-1]
        assert f"#drill-{incident_id.lower()}" in card_text(card["blocks"])
        # The drill page goes to the incident room; PagerDuty is not drill-safe.
        page = await fake_slack.wait_for(
            lambda s: [p for p in posts(s) if p["text"].startswith("DRILL: Severity")]
        )
        assert page[0]["channel"] == "GPRIV1"
        await pager(running).flush()
        assert fake_pd.events() == []

        # Closing a drill posts the drill report as a file in the incident's channel.
        await slack_close(running, fake_slack, incident_id, "Drill done", "UREP", CHANNEL)
        # Two files: the Markdown report and its HTML version.
        done = await fake_slack.wait_for(
            lambda s: (
                len(s.api_calls("files.completeUploadExternal")) >= 2
                and s.api_calls("files.completeUploadExternal")
            )
        )
        assert done[0]["channel_id"] == CHANNEL
        asked = [a["filename"] for a in fake_slack.api_calls("files.getUploadURLExternal")]
        assert asked == [f"{incident_id}-drill-report.html", f"{incident_id}-drill-report.md"]
        file_id = json.loads(done[1]["files"])[0]["id"]  # the Markdown file
        (uploaded,) = fake_slack.named(f"/upload/{file_id}")
        assert uploaded.body.startswith(f"# Drill report: {incident_id}")
        assert "**DRILL**" in uploaded.body
    finally:
        await stop_bot(running)


async def test_raised_severity_pages_and_invites_the_senior_team(
    slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path
):
    # GOV.UK Notify refuses the key (it knows another service's secret), for good.
    notify = await FakeNotify(secret="another-service-secret-0123456789abcdef").start()
    env = {
        **slack_env,
        **routing_env(tmp_path, fake_pd.url, routing=ROUTING_WITH_MAJOR),
        "SECBOT_INCIDENT_CHANNELS": "true",
        "SECBOT_NOTIFY_API_KEY": API_KEY,
        "SECBOT_NOTIFY_URL": notify.url.rstrip("/"),
    }
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        incident_id, ts = await start(running, fake_slack, "instagram @dept")
        await answer(
            running, fake_slack, incident_id, ts,
            "symptoms|impersonation:on", "symptoms|next", "access|yes", "harmful|no", "personal|no",
        )  # fmt: skip
        await fake_pd.wait_for(lambda s: s.events("trigger"))
        (invite,) = fake_slack.api_calls("conversations.invite")
        assert set(invite["users"].split(",")) == {"UREP", "UTEAM"}

        await running.slash("/compromised", f"severity {incident_id} 1", user="UREP",
                            channel=CHANNEL)  # fmt: skip
        invites = await fake_slack.wait_for(lambda s: s.api_calls("conversations.invite")[1:])
        assert (invites[0]["channel"], invites[0]["users"]) == ("GPRIV1", "UHEAD")
        # head-sms can't be sent (Notify refuses the key): the channel hears it.
        failure = await fake_slack.wait_for(
            lambda s: [p for p in posts(s) if p["text"].startswith(f"{incident_id}: We couldn't")]
        )
        assert failure[0]["channel"] == "GPRIV1"
        # In plain words; the target and Notify's answer are for admins (issue 15, item 6).
        assert "reach the on-call team by text message" in failure[0]["text"]
        assert "head-sms" not in failure[0]["text"] and "403" not in failure[0]["text"]
        page = await fake_slack.wait_for(
            lambda s: [p for p in posts(s) if p["text"].startswith("Severity 1 (critical)")]
        )
        assert page[0]["channel"] == "GPRIV1"

        # The first team can't acknowledge for the senior team; the senior team can.
        n = len(fake_slack.responses())
        await bot_click_ack(running, incident_id, "UTEAM", ts)
        refusal = (await fake_slack.wait_for(lambda s: s.responses()[n:]))[-1]
        assert "only someone in the paged team (major-incident)" in refusal["text"]
        await bot_click_ack(running, incident_id, "UHEAD", ts)
        await fake_pd.wait_for(lambda s: s.events("acknowledge"))
        assert (await desk(running).store.get(incident_id)).acked_by == "slack:UHEAD"
    finally:
        await stop_bot(running)
        await notify.close()


async def bot_click_ack(running, incident_id: str, user: str, ts: str) -> None:
    await running.click("incident:ack", incident_id, user=user, channel=CHANNEL, message_ts=ts)
