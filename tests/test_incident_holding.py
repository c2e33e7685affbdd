"""Holding statements (issue 16 item 6) end to end in the web chat, Slack and Teams:
offered from the incident card, edited in a form, refused to anyone but the press
office, approved only as the version shown, marked as posted, and on the timeline and
in the report, with typed text inert everywhere."""

from __future__ import annotations

import json
import re

import pytest

from tests import incident_support
from tests.incident_support import ROUTING, buttons, card_of, card_text, desk, routing_env
from tests.support import start_bot, stop_bot
from tests.test_output_safety import assert_inert, assert_slack_inert

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

# The press office: web-head in the web chat (added to the incident by the commander),
# the paged team's own member in Slack and Teams.
PRESS = "press_office: [web:web-head, slack:UTEAM, teams:aad-team]\n"
HOSTILE = "We know <script>alert(1)</script> @here about *it* \u202eKCAH"
ANSWERS = ("symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|no", "personal|no")


@pytest.fixture
async def bot(slack_env, fake_pd, fake_slack, fake_connector, content_library, tmp_path):
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url, ROUTING + PRESS)}
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


# --- web chat --------------------------------------------------------------------------


async def web(bot, user: str, *, text: str | None = None, action: dict | None = None):
    status, body = await bot.web_send(user=user, text=text, action=action)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user)


async def web_click(bot, user: str, action_id: str, value: str, message: dict, **form: str):
    action = {"action_id": action_id, "value": value, "message_id": str(message["id"])}
    if form:
        action["form"] = form
    return await web(bot, user, action=action)


async def test_holding_statement_in_the_web_chat(bot):
    reporter, press = "web-reporter", "web-head"
    card = (await web(bot, reporter, text="compromised x @govuk"))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in ANSWERS:
        await web_click(bot, reporter, "incident:triage", f"{incident_id}|{answer}", card)
    await web(bot, reporter, text=f"compromised add {incident_id} @{press}")

    # Offered from the incident card, then a situation chosen.
    card = next(m for m in await bot.web_messages(user=reporter) if m["id"] == card["id"])
    assert buttons(card["blocks"], "incident:holding") == [incident_id]
    chooser = (await web_click(bot, reporter, "incident:holding", incident_id, card))[-1]
    assert chooser["private"] and "Account compromised" in card_text(chooser["blocks"])
    value = f"{incident_id}|compromised"
    shown = (await web_click(bot, reporter, "incident:holding", value, chooser))[-1]
    assert "our X account @govuk" in shown["text"] and not shown["private"]
    (box,) = [b for b in shown["blocks"] if b["type"] == "input"]
    assert box["initial"].startswith("We are aware that our X account @govuk")
    (save,) = buttons(shown["blocks"], "incident:hold-edit")

    # Edited in the form: version 2, back to draft.
    edited = (
        await web_click(bot, reporter, "incident:hold-edit", save, shown, holding_text=HOSTILE)
    )[-1]
    assert "version 2" in edited["text"] and "\u202e" not in json.dumps(edited)
    approve_v2 = buttons(edited["blocks"], "incident:hold-approve")
    assert approve_v2 == [f"{incident_id}|compromised|2"]

    # The commander is not the press office: refused. The old version: refused.
    refused = (await web_click(bot, reporter, "incident:hold-approve", approve_v2[0], edited))
    assert "Only the press office can approve" in refused[-1]["text"]
    stale = await web_click(bot, press, "incident:hold-approve", save, edited)
    assert any("The words changed" in m["text"] for m in stale[-2:])
    line = await desk(bot).holding.lines.get(incident_id, "compromised")
    assert line.status == "draft"

    # Not yet approved: it cannot be marked as posted.
    early = await web_click(bot, reporter, "incident:hold-posted", approve_v2[0], edited)
    assert "Only an approved holding statement" in early[-1]["text"]

    approved = (await web_click(bot, press, "incident:hold-approve", approve_v2[0], edited))
    line = await desk(bot).holding.lines.get(incident_id, "compromised")
    assert line.status == "approved" and line.approved_by == f"web:{press}"
    redrawn = next(m for m in approved if m["id"] == edited["id"])  # redrawn in place
    assert "Approved by" in redrawn["text"]
    posted_value = buttons(redrawn["blocks"], "incident:hold-posted")[0]
    await web_click(bot, reporter, "incident:hold-posted", posted_value, redrawn)
    line = await desk(bot).holding.lines.get(incident_id, "compromised")
    assert line.status == "posted" and line.posted_at is not None

    # The approved words and who approved them are on the timeline.
    events = await desk(bot).store.timeline.events(incident_id)
    (approval,) = [e for e in events if e.kind == "holding-approved"]
    assert "<script>alert(1)</script>" in approval.text and approval.actor == f"web:{press}"
    assert [e.kind for e in events if e.kind.startswith("holding")][-1] == "holding-posted"

    # The report has it, inert and escaped, in Markdown and in HTML.
    messages = await web(bot, reporter, text=f"compromised report {incident_id}")
    files = {m["attachment"]["filename"]: m["attachment"]["content"] for m in messages
             if m.get("attachment")}  # fmt: skip
    md = files[f"{incident_id}-report.md"]
    page = files[f"{incident_id}-report.html"]
    assert "## Holding statements" in md and "\\<script\\>" in md and "<script>" not in md
    assert "| Account compromised | posted |" in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "\u202e" not in md + page


async def test_a_platform_nobody_named_never_reads_as_our_not_sure_account(bot):
    # A frightened reporter doesn't know which platform: "Not sure". The draft the press
    # office is given, the card and the SIRO's summary must still read as English.
    reporter = "web-reporter"
    card = (await web(bot, reporter, text="compromised @dhsc"))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in ("platform|unsure", *ANSWERS):
        await web_click(bot, reporter, "incident:triage", f"{incident_id}|{answer}", card)
    shown = (await web(bot, reporter, text=f"compromised holding {incident_id} compromised"))[-1]
    assert "our social media account @dhsc has been accessed" in shown["text"]
    card = next(m for m in await bot.web_messages(user=reporter) if m["id"] == card["id"])
    assert card["blocks"][0]["text"] == f"{incident_id}: Social media account @dhsc"
    messages = await web(bot, reporter, text=f"compromised report {incident_id}")
    md = next(m for m in messages if m.get("attachment", {}).get("filename", "").endswith(".md"))
    assert "hijack of the social media account (@dhsc)" in md["attachment"]["content"]
    everything = json.dumps([shown, card, md])
    assert "Not sure account" not in everything


async def test_a_double_click_on_approve_or_posted_adds_nothing(bot):
    # A second click that arrives after the first was handled: no second copy of the
    # statement in the room, no second timeline entry, and words that say what happened.
    reporter, press = "web-reporter", "web-head"
    card = (await web(bot, reporter, text="compromised x @govuk"))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in ANSWERS:
        await web_click(bot, reporter, "incident:triage", f"{incident_id}|{answer}", card)
    await web(bot, reporter, text=f"compromised add {incident_id} @{press}")
    line = (await web(bot, reporter, text=f"compromised holding {incident_id} compromised"))[-1]
    (approve,) = buttons(line["blocks"], "incident:hold-approve")
    await web_click(bot, press, "incident:hold-approve", approve, line)
    seen = len(await bot.web_messages(user=press))
    again = await web_click(bot, press, "incident:hold-approve", approve, line)
    assert [m["private"] for m in again[seen:]] == [True]  # only a private note
    assert again[-1]["text"].startswith("It was approved already by Web User at ")
    line = next(m for m in again if m["id"] == line["id"])
    (posted,) = buttons(line["blocks"], "incident:hold-posted")
    await web_click(bot, reporter, "incident:hold-posted", posted, line)
    again = await web_click(bot, reporter, "incident:hold-posted", posted, line)
    assert again[-1]["private"]
    assert again[-1]["text"].startswith("It was marked as posted already by Web User at ")
    events = await desk(bot).store.timeline.events(incident_id)
    kinds = [e.kind for e in events if e.kind.startswith("holding-")]
    assert kinds == ["holding-approved", "holding-posted"]


# --- Slack ----------------------------------------------------------------------------

CHANNEL = "C0INC"


def posts(fake_slack) -> list[dict]:
    return fake_slack.api_calls("chat.postMessage")


async def test_holding_statement_in_slack(bot, fake_slack):
    await bot.slash("/compromised", "x @govuk", user="UREP", channel=CHANNEL)
    card = (await fake_slack.wait_for(lambda s: posts(s)))[0]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    ts = await card_of(bot, incident_id)
    for answer in ANSWERS:
        n = len(fake_slack.api_calls("chat.update"))
        await bot.click("incident:triage", f"{incident_id}|{answer}", user="UREP",
                        channel=CHANNEL, message_ts=ts)  # fmt: skip
        await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n)

    n = len(posts(fake_slack))
    await bot.slash("/compromised", f"holding {incident_id} impersonation", user="UREP",
                    channel=CHANNEL)  # fmt: skip
    (shown,) = await fake_slack.wait_for(
        lambda s: [p for p in posts(s)[n:] if "Holding statement for" in p["text"]]
    )
    kinds = [b["type"] for b in shown["blocks"]]
    assert "input" in kinds, kinds  # the form: an input block and its Save button
    (value,) = buttons(shown["blocks"], "incident:hold-edit")
    n = len(posts(fake_slack))
    await bot.click("incident:hold-edit", value, user="UREP", channel=CHANNEL,
                    message_ts="1700000123.000001", typed={"holding_text": HOSTILE})  # fmt: skip
    await fake_slack.wait_for(lambda s: any(
        "version 2" in r.get("text", "") for r in s.responses() + s.api_calls("chat.update")
    ))  # fmt: skip
    line = await desk(bot).holding.lines.get(incident_id, "impersonation")
    assert line.version == 2 and "<script>" in line.text and "\u202e" not in line.text

    await bot.click("incident:hold-approve", f"{incident_id}|impersonation|2", user="UTEAM",
                    channel=CHANNEL, message_ts="1700000123.000001")  # fmt: skip
    await fake_slack.wait_for(lambda s: any(
        "Approved by" in r.get("text", "") for r in s.responses() + s.api_calls("chat.update")
    ))  # fmt: skip
    await bot.click("incident:hold-posted", f"{incident_id}|impersonation|2", user="UREP",
                    channel=CHANNEL, message_ts="1700000123.000001")  # fmt: skip
    await fake_slack.wait_for(lambda s: any(
        "Posted, marked by" in r.get("text", "") for r in s.responses()
        + s.api_calls("chat.update")
    ))  # fmt: skip
    for body in fake_slack.responses() + fake_slack.api_calls("chat.update") + posts(fake_slack):
        assert_slack_inert(body)  # mrkdwn escaped; the input box's plain text is as typed
    events = await desk(bot).store.timeline.events(incident_id)
    assert [e.actor for e in events if e.kind == "holding-approved"] == ["slack:UTEAM"]


# --- Teams ----------------------------------------------------------------------------


async def test_holding_statement_in_teams(bot, fake_connector):
    await bot.teams_say("compromised x @govuk", mention=True, aad="aad-reporter")
    card = await fake_connector.wait_for(
        lambda s: [a for a in s.sent() if buttons(a, "incident:triage")]
    )
    incident_id = buttons(card[0], "incident:triage")[0].split("|")[0]
    for answer in ANSWERS:
        await bot.teams_click("incident:triage", f"{incident_id}|{answer}", aad="aad-reporter")

    n = len(fake_connector.sent())
    await bot.teams_say(f"compromised holding {incident_id} content_removed", mention=True,
                        aad="aad-reporter")  # fmt: skip
    # The statement's card, with its box to edit (the incident card's own redraw after the
    # last triage answer may reach the connector first).
    (shown,) = await fake_connector.wait_for(
        lambda s: [a for a in s.sent()[n:] if buttons(a, "incident:hold-edit")]
    )
    assert '"Input.Text"' in json.dumps(shown)
    (value,) = buttons(shown, "incident:hold-edit")
    await bot.teams_click("incident:hold-edit", value, aad="aad-reporter",
                          typed={"holding_text": HOSTILE})  # fmt: skip
    line = await desk(bot).holding.lines.get(incident_id, "content_removed")
    assert line.version == 2 and line.status == "draft"

    # The reporter (commander) is not the press office.
    status, body = await bot.teams_click(
        "incident:hold-approve", f"{incident_id}|content_removed|2", aad="aad-reporter"
    )
    assert "Only the press office can approve" in json.dumps(body)
    await bot.teams_click("incident:hold-approve", f"{incident_id}|content_removed|2",
                          aad="aad-team")  # fmt: skip
    await bot.teams_click("incident:hold-posted", f"{incident_id}|content_removed|2",
                          aad="aad-team")  # fmt: skip
    line = await desk(bot).holding.lines.get(incident_id, "content_removed")
    assert line.status == "posted" and line.approved_by == "teams:aad-team"
    activities = fake_connector.sent() + fake_connector.updates()
    assert any("We know" in card_text(a) for a in activities)  # the new words were shown
    for activity in activities:
        assert_inert(json.dumps(activity, ensure_ascii=False))
        for content in [a.get("content") for a in activity.get("attachments") or []]:
            for block in content.get("body", []) if isinstance(content, dict) else []:
                # A TextBlock's "<", "*" and "[" are escaped (an Input.Text's value is
                # plain text, shown as typed).
                assert not re.search(r"(?<!\\)[<*\[]", block.get("text", "")), block
    events = await desk(bot).store.timeline.events(incident_id)
    assert any(e.kind == "holding-posted" for e in events)
