"""/compromised end to end through the Teams front door (Bot Framework activities to
/api/messages, replies to a fake Bot Connector), with the real pager and fake PagerDuty."""

from __future__ import annotations

import base64

import pytest

from tests import incident_support
from tests.incident_support import (
    buttons,
    card_of,
    card_text,
    desk,
    pager,
    routing_env,
    teams_close,
)
from tests.support import start_bot, stop_bot

# Fakes that wait long enough on a busy CI machine.
fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

REPORTER, STRANGER, TEAM = "aad-reporter", "aad-stranger", "aad-team"


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path):
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url)}
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


def cards(activities: list[dict]) -> list[dict]:
    return [
        a["attachments"][0]["content"]
        for a in activities
        if a.get("attachments") and a["attachments"][0].get("contentType", "").endswith("adaptive")
    ]


async def test_full_incident_in_teams(bot, fake_connector, fake_pd):
    status, _ = await bot.teams_say("compromised threads @dept", mention=True, aad=REPORTER)
    assert status in (200, 201)
    (card,) = cards(await fake_connector.wait_for(lambda s: s.sent()))
    incident_id = buttons(card, "incident:triage")[0].split("|")[0]
    card_id = await card_of(bot, incident_id)
    assert card_id and "What is happening?" in card_text(card)

    for a in ("symptoms|rogue-posts:on", "symptoms|next", "access|no", "harmful|no", "personal|no"):
        status, body = await bot.teams_click(
            "incident:triage", f"{incident_id}|{a}", reply_to_id=card_id, aad=REPORTER
        )
        assert status == 200
    # The same activity was updated in place each time, ending as the incident card.
    puts = [u for u in fake_connector.updates() if u.get("id") == card_id]
    assert len(puts) == 5  # one redraw per answer (five questions since issue 15)
    final = puts[-1]["attachments"][0]["content"]
    assert f"{incident_id}: Threads account @dept" in card_text(final)
    assert buttons(final, "incident:ack") == [incident_id]
    checklist = next(c for c in cards(fake_connector.sent()) if "checklist" in card_text(c))
    # One phase at a time (issue 15): the first 15 minutes' steps have the buttons.
    assert "First 15 minutes" in card_text(checklist)
    first = [s for s in await desk(bot).store.steps.all(incident_id) if s.phase == "first"]
    assert buttons(checklist, "incident:done") == [f"{incident_id}|{s.step_id}" for s in first]

    (trigger,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
    assert trigger["payload"]["severity"] == "critical"  # access lost
    # The chat page (the only posted card with an Acknowledge button; the incident card
    # was an update).
    (page,) = await fake_connector.wait_for(
        lambda s: [c for c in cards(s.sent()) if buttons(c, "incident:ack")]
    )
    assert page["fallbackText"].startswith("Severity 1 (critical) incident: @dept on Threads")

    # A refused acknowledge comes back as the private invoke-response card.
    status, body = await bot.teams_click(
        "incident:ack", incident_id, reply_to_id=card_id, aad=REPORTER
    )
    assert status == 200
    assert "only someone in the paged team (comms-security)" in card_text(body["value"])
    status, body = await bot.teams_click("incident:ack", incident_id, reply_to_id=card_id, aad=TEAM)
    (ack,) = await fake_pd.wait_for(lambda s: s.events("acknowledge"))
    assert ack["dedup_key"] == incident_id
    assert (await desk(bot).store.get(incident_id)).acked_by == f"teams:{TEAM}"

    checklist_id = (await desk(bot).store.get(incident_id)).checklist_id
    await bot.teams_click(
        "incident:done", f"{incident_id}|contain-sessions", reply_to_id=checklist_id, aad=TEAM
    )
    redrawn = [u for u in fake_connector.updates() if u.get("id") == checklist_id]
    assert "1 of" in card_text(redrawn[-1])
    assert (
        await desk(bot).store.steps.get(incident_id, "contain-sessions")
    ).by_name == "Alex Example"

    # Close refused for a non-commander; then the reporter closes it.
    await bot.teams_say(f"compromised close {incident_id} done", mention=True, aad=TEAM)
    assert (await desk(bot).store.get(incident_id)).status != "closed"
    refusal = [
        c.body for c in fake_connector.calls if "Only the incident commander" in card_text(c.body)
    ]
    assert refusal  # sent to the team member's personal chat
    # Steps are still open, so closing asks first (issue 15).
    await teams_close(bot, fake_connector, incident_id, "Recovered", REPORTER)
    await fake_pd.wait_for(lambda s: s.events("resolve"))

    n = len(fake_connector.sent())
    await bot.teams_say(f"compromised report {incident_id}", mention=True, aad=REPORTER)
    sent = fake_connector.sent()[n:]
    files = [
        a for s in sent for a in s.get("attachments", []) if a["contentType"] == "text/markdown"
    ]
    assert files and files[0]["name"] == f"{incident_id}-report.md"
    # The same report as a web page, attached as HTML (never pasted as a message).
    (page,) = [a for s in sent for a in s.get("attachments", []) if a["contentType"] == "text/html"]
    assert page["name"] == f"{incident_id}-report.html"
    assert base64.b64decode(page["contentUrl"].split(",", 1)[1]).startswith(b"<!DOCTYPE html>")
    markdown = base64.b64decode(files[0]["contentUrl"].split(",", 1)[1]).decode()
    assert markdown.startswith(f"# Post-incident report: {incident_id}")
    assert "| Summary | Recovered |" in markdown and "| duty-pd | PagerDuty | page |" in markdown
    # The same report is also readable in the conversation, as a Markdown message.
    inline = [s for s in sent if s.get("textFormat") == "markdown"]
    assert inline and inline[0]["text"] == markdown


async def test_account_name_drill_and_drill_report_in_a_teams_channel(bot, fake_connector, fake_pd):
    """A Teams channel only passes on messages that mention the bot: the card says so."""
    thread = "19:chan@thread.tacv2;messageid=1700000000100"
    await bot.teams_say("compromised drill", mention=True, aad=REPORTER, conversation=thread)
    (card,) = cards(await fake_connector.wait_for(lambda s: s.sent()))
    incident_id = buttons(card, "incident:triage")[0].split("|")[0]
    text = card_text(card)
    assert f"DRILL — Compromised account: {incident_id}" in text
    assert "for example: @secbot compromised handle @ouraccount" in text
    card_id = await card_of(bot, incident_id)

    # Typed as a new post in the channel rather than a reply in the card's thread.
    await bot.teams_say("compromised handle @dept_news", mention=True, aad=REPORTER)
    assert (await desk(bot).store.get(incident_id)).account == "@dept_news"
    redrawn = [u for u in fake_connector.updates() if u.get("id") == card_id]
    shown = card_text(redrawn[-1])
    assert "Account @dept\\_news" in shown and "@ouraccount" not in shown  # escaped Markdown

    for a in (
        "platform|x",
        "symptoms|unknown-login:on",
        "symptoms|next",
        "access|yes",
        "harmful|no",
    ):
        await bot.teams_click(
            "incident:triage", f"{incident_id}|{a}", reply_to_id=card_id, aad=REPORTER
        )
    await bot.teams_click(
        "incident:triage", f"{incident_id}|personal|no", reply_to_id=card_id, aad=REPORTER
    )
    final = [u for u in fake_connector.updates() if u.get("id") == card_id][-1]
    assert f"DRILL — {incident_id}: X account @dept\\_news" in card_text(final)
    # Only the drill-safe chat page goes out; PagerDuty is not drill-safe.
    (page,) = await fake_connector.wait_for(
        lambda s: [c for c in cards(s.sent()) if "DRILL: Severity" in card_text(c)]
    )
    await pager(bot).flush()
    assert fake_pd.events() == []

    n = len(fake_connector.sent())
    await teams_close(bot, fake_connector, incident_id, "Drill done", REPORTER)
    sent = fake_connector.sent()[n:]
    files = [
        a for s in sent for a in s.get("attachments", []) if a["contentType"] == "text/markdown"
    ]
    assert [f["name"] for f in files] == [f"{incident_id}-drill-report.md"]
    markdown = base64.b64decode(files[0]["contentUrl"].split(",", 1)[1]).decode()
    assert markdown.startswith(f"# Drill report: {incident_id}") and "**DRILL**" in markdown
    assert "| duty-pd | PagerDuty | page | 1 | skipped |" in markdown
