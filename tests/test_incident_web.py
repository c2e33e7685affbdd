"""/compromised end to end in the web chat, with the real pager and a fake PagerDuty."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.core.clock import FakeClock
from tests import incident_support
from tests.incident_support import buttons, desk, pager, web_close
from tests.support import start_bot, stop_bot

# Fakes that wait long enough on a busy CI machine.
fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
env = incident_support.env
bot = incident_support.bot

REPORTER, STRANGER, TEAM = "web-reporter", "web-stranger", "web-team"


async def say(bot, text: str, user: str = REPORTER) -> list[dict]:
    status, body = await bot.web_send(user=user, text=text)
    assert status == 200 and body["ok"]
    return await bot.web_messages(user=user)


async def click(bot, action: str, value: str, message_id: int | str, user: str = REPORTER):
    status, body = await bot.web_send(
        user=user, action={"action_id": action, "value": value, "message_id": str(message_id)}
    )
    assert status == 200 and body["ok"]
    return await bot.web_messages(user=user)


def by_id(messages: list[dict], message_id: int) -> dict:
    return next(m for m in messages if m["id"] == message_id)


async def triage(bot, start: str, answers: list[str]) -> tuple[str, int]:
    """Start, then answer each "step|choice"; returns (incident id, card message id)."""
    messages = await say(bot, start)
    card = messages[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in answers:
        await click(bot, "incident:triage", f"{incident_id}|{answer}", card["id"])
    return incident_id, card["id"]


async def test_full_incident_from_triage_to_report(bot, fake_pd):
    messages = await say(bot, "compromised x @govuk dept=DSIT")
    card = messages[-1]
    assert card["text"].startswith("Compromised account: SEC-")
    assert "What is happening?" in card["text"]  # the platform was given, so question 2
    incident_id, card_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0], card["id"]
    assert incident_id == f"SEC-{datetime.now(UTC).year}-0001"

    value = f"{incident_id}|symptoms|rogue-posts:on"
    messages = await click(bot, "incident:triage", value, card_id)
    card = by_id(messages, card_id)
    assert f"{incident_id}|symptoms|rogue-posts:off" in buttons(card["blocks"], "incident:triage")
    for answer in ("symptoms|next", "access|yes", "harmful|yes"):
        await click(bot, "incident:triage", f"{incident_id}|{answer}", card_id)
    messages = await click(bot, "incident:triage", f"{incident_id}|personal|no", card_id)

    # The card became the incident card, in place; severity 1 because harm is live.
    card = by_id(messages, card_id)
    assert card["text"].startswith(f"{incident_id}: X account @govuk. Severity 1")
    assert buttons(card["blocks"], "incident:ack") == [incident_id]
    checklist = next(m for m in messages if m["text"].startswith(f"{incident_id} checklist"))
    # One phase at a time (issue 15): the first 15 minutes' steps have the buttons;
    # the severity 1 steps are on the checklist too.
    steps = await desk(bot).store.steps.all(incident_id)
    first = [f"{incident_id}|{s.step_id}" for s in steps if s.phase == "first"]
    assert buttons(checklist["blocks"], "incident:done") == first
    assert "notify-siro" in [s.step_id for s in steps]  # severity 1 only

    # Paging: PagerDuty got a critical trigger keyed on the incident id, and a chat page
    # with an Acknowledge button was posted where the incident is worked.
    (trigger,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
    assert trigger["dedup_key"] == incident_id
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["routing_key"] == "duty-routing-key-0001"
    await pager(bot).flush()
    messages = await bot.web_messages(user=REPORTER)
    (page,) = [m for m in messages if m["id"] != card_id and buttons(m["blocks"], "incident:ack")]
    assert page["text"].startswith("Severity 1 (critical) incident: @govuk on X")

    # Someone outside the paged team can't acknowledge; the refusal says why.
    mine = await click(bot, "incident:ack", incident_id, page["id"], user=REPORTER)
    assert (
        mine[-1]["private"]
        and "only someone in the paged team (comms-security)" in mine[-1]["text"]
    )
    await pager(bot).flush()
    assert fake_pd.events("acknowledge") == []
    await click(bot, "incident:ack", incident_id, page["id"], user=TEAM)
    (ack,) = await fake_pd.wait_for(lambda s: s.events("acknowledge"))
    assert ack["dedup_key"] == incident_id
    card = by_id(await bot.web_messages(user=REPORTER), card_id)
    assert buttons(card["blocks"], "incident:ack") == []
    assert "By Web User at" in str(card["blocks"])

    # Work the checklist: Done, Skip with a reason, Assign; the message updates in place.
    messages = await click(
        bot, "incident:done", f"{incident_id}|contain-password", checklist["id"], user=TEAM
    )
    updated = by_id(messages, checklist["id"])
    assert updated["version"] > checklist["version"]
    assert updated["text"].startswith(f"{incident_id} checklist: 1 of")
    mine = await click(
        bot, "incident:skip", f"{incident_id}|contain-scheduled", checklist["id"], user=TEAM
    )
    prompt = mine[-1]
    assert prompt["private"] and prompt["blocks"][1]["type"] == "select"
    reason = f"{incident_id}|contain-scheduled|not-relevant"
    assert reason in [c["value"] for c in prompt["blocks"][1]["choices"]]
    await click(bot, "incident:reason", reason, prompt["id"], user=TEAM)
    await say(bot, f"compromised skip {incident_id} contain-admins We have no admins", user=TEAM)
    await click(bot, "incident:assign", f"{incident_id}|contain-email", checklist["id"], user=TEAM)
    # Those steps are in a later phase: the store and the report have them.
    step = await desk(bot).store.steps.get(incident_id, "contain-scheduled")
    assert (step.by_name, step.reason) == ("Web User", "Not relevant to this incident")
    assert (
        await desk(bot).store.steps.get(incident_id, "contain-email")
    ).assignee_name == "Web User"
    messages = await say(bot, f"compromised evidence {incident_id} https://x.com/govuk/status/1")
    assert "added evidence" in messages[-1]["text"] and not messages[-1]["private"]

    # Only the commander (the reporter) or an admin may close.
    mine = await say(bot, f"compromised close {incident_id} all fine", user=TEAM)
    assert mine[-1]["private"] and "Only the incident commander" in mine[-1]["text"]
    assert (await desk(bot).store.get(incident_id)).status != "closed"
    # Steps are still open, so closing asks first (issue 15).
    await web_close(bot, incident_id, "Password reset, rogue post removed", REPORTER)
    (resolve,) = await fake_pd.wait_for(lambda s: s.events("resolve"))
    assert resolve["dedup_key"] == incident_id
    card = by_id(await bot.web_messages(user=REPORTER), card_id)
    assert "Closed at" in str(card["blocks"]) and "Password reset" in str(card["blocks"])

    messages = await say(bot, f"compromised report {incident_id}")
    page, report = messages[-2:]  # the report as a web page, then the Markdown report
    assert report["attachment"]["filename"] == f"{incident_id}-report.md"
    assert page["attachment"]["filename"] == f"{incident_id}-report.html"
    md = report["attachment"]["content"]
    assert md.startswith(f"# Post-incident report: {incident_id}")
    assert re.search(
        r"\*\*Time to acknowledge\*\* \(from paging to the first acknowledgement\): \d+ (s|min)", md
    )
    assert "done or skipped): not reached" in md  # contain steps are still open
    # Steps by their words and pages in plain words, not ids or provider names (issue
    # 15, item 6).
    step_text = {s.step_id: s.text for s in await desk(bot).store.steps.all(incident_id)}
    assert f"{step_text['contain-scheduled']}: Not relevant to this incident" in md
    assert f"{step_text['contain-admins']}: We have no admins" in md
    assert "| duty-pd | PagerDuty | page |" in md and "| room | a chat message | page |" in md
    # Pages to people are counted apart from the acknowledge and resolve updates sent to
    # PagerDuty afterwards (issue 16 item 7): one definition, the summary agrees.
    sent, updates = md.split("## Pages sent", 1)[1].split("### Acknowledge and resolve", 1)
    assert "acknowledged" not in sent and "resolved" not in sent
    assert "| duty-pd | PagerDuty | acknowledged |" in updates
    assert "| duty-pd | PagerDuty | resolved |" in updates
    pages = await pager(bot).pages(incident_id)
    people = sum(p.action == "trigger" and p.status == "sent" for p in pages)
    assert f"{people} pages reached people" in sent
    assert report["text"].endswith("acknowledge/resolve updates.")
    assert "https://x.com/govuk/status/1" in md
    assert "| Department | DSIT |" in md
    # One line says which team was paged; the escalation steps follow it.
    timeline = [e.text for e in await desk(bot).store.timeline.events(incident_id)]
    paging = [t for t in timeline if t.startswith(("Paging", "Escalation step 1"))]
    assert paging == [
        "Paging team comms-security.",
        "Paging team comms-security (2 steps).",
        "Paging the on-call team (step 1 of 2) by PagerDuty and a chat message.",
        "Escalation step 1 of 2: paging duty-pd (PagerDuty), room (chat).",
    ]


async def test_status_lists_open_incidents_privately(bot):
    incident_id, _ = await triage(bot, "compromised facebook @dept", ["symptoms|impersonation:on"])
    messages = await say(bot, "compromised status")
    assert messages[-1]["private"] and incident_id in messages[-1]["text"]
    assert "Facebook @dept" in messages[-1]["text"] and "triage" in messages[-1]["text"]
    messages = await say(bot, "compromised status", user=STRANGER)  # not one of its people
    assert messages[-1]["text"] == "There are no open incidents that you are part of."


async def test_drill_is_marked_and_pages_only_drill_safe_targets(bot, fake_pd):
    incident_id, card_id = await triage(
        bot,
        "compromised drill instagram @practice",
        ["symptoms|unknown-login:on", "symptoms|next", "access|no", "harmful|no", "personal|no"],
    )
    messages = await bot.web_messages(user=REPORTER)
    assert by_id(messages, card_id)["text"].startswith(f"DRILL — {incident_id}")
    assert any(m["text"].startswith(f"DRILL — {incident_id} checklist") for m in messages)
    await pager(bot).flush()
    messages = await bot.web_messages(user=REPORTER)
    page = [m for m in messages if m["text"].startswith("DRILL: Severity 1")]
    assert page and buttons(page[0]["blocks"], "incident:ack") == [incident_id]
    assert fake_pd.events() == []  # PagerDuty is not drill-safe
    skipped = [p for p in await pager(bot).pages(incident_id) if p.target == "duty-pd"]
    assert all(p.status != "sent" for p in skipped)

    messages = await web_close(bot, incident_id, "Drill went well", REPORTER)
    closed, page, report = messages[-3:]
    assert closed["text"].startswith(f"DRILL — {incident_id} closed")
    assert page["attachment"]["filename"] == f"{incident_id}-drill-report.html"
    assert report["attachment"]["filename"] == f"{incident_id}-drill-report.md"
    md = report["attachment"]["content"]
    assert md.startswith(f"# Drill report: {incident_id}") and "**DRILL**" in md
    assert "**Time to contain**" in md and "**Time to acknowledge**" in md
    await pager(bot).flush()
    assert fake_pd.events() == []


async def test_triage_survives_a_restart(env, fake_slack, fake_connector, content_library, fake_pd):
    first = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        incident_id, card_id = await triage(
            first, "compromised", ["platform|youtube", "symptoms|lost-device:on", "symptoms|next"]
        )
    finally:
        await stop_bot(first)
    second = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        card = by_id(await second.web_messages(user=REPORTER), card_id)
        assert "Can someone on our team still log in" in card["text"]
        for answer in ("access|yes", "harmful|no", "personal|no"):
            await click(second, "incident:triage", f"{incident_id}|{answer}", card_id)
        inc = await desk(second).store.get(incident_id)
        assert (inc.platform, inc.symptoms, inc.severity) == ("youtube", ("lost-device",), 3)
        card = by_id(await second.web_messages(user=REPORTER), card_id)
        assert card["text"].startswith(f"{incident_id}: YouTube account not given yet")
        (trigger,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
        assert trigger["payload"]["severity"] == "warning"
        # The account can still be named afterwards.
        await say(second, "compromised handle @ourchannel")
        assert (await desk(second).store.get(incident_id)).account == "@ourchannel"
        # Pages still to come name it too.
        assert (await pager(second).store.incident(incident_id)).info["account"] == "@ourchannel"
    finally:
        await stop_bot(second)


async def test_escalation_then_acknowledge_in_chat(
    env, fake_slack, fake_connector, content_library, fake_pd
):
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    running = await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        incident_id, _ = await triage(
            running,
            "compromised linkedin @dept",
            [
                "symptoms|settings-changed:on",
                "symptoms|next",
                "access|yes",
                "harmful|no",
                "personal|no",
            ],
        )
        assert incident_id == "SEC-2026-0001"
        (first,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
        assert first["routing_key"] == "duty-routing-key-0001"
        assert first["payload"]["severity"] == "error"  # severity 2
        await clock.advance(minutes=4)
        await pager(running).flush()
        assert len(fake_pd.events("trigger")) == 1
        await clock.advance(minutes=1, seconds=1)
        await pager(running).flush()
        triggers = await fake_pd.wait_for(lambda s: len(s.events("trigger")) == 2 and s)
        assert triggers.events("trigger")[1]["routing_key"] == "backup-routing-key-002"

        await pager(running).flush()
        page = [m for m in await running.web_messages(user=TEAM) if m["text"].startswith("Sev")]
        await click(running, "incident:ack", incident_id, page[0]["id"], user=TEAM)
        acks = await fake_pd.wait_for(lambda s: len(s.events("acknowledge")) == 2 and s)
        assert {e["routing_key"] for e in acks.events("acknowledge")} == {
            "duty-routing-key-0001",
            "backup-routing-key-002",
        }
        await clock.advance(minutes=30)
        await pager(running).flush()
        assert len(fake_pd.events("trigger")) == 2  # no more escalation after the ack
        inc = await desk(running).store.get(incident_id)
        assert inc.acked_by == f"web:{TEAM}"
        acked_at = datetime(2026, 3, 2, 9, 5, 1, tzinfo=UTC)
        assert await pager(running).acknowledged_at(incident_id) == acked_at
        messages = await say(running, f"compromised report {incident_id}")
        md = messages[-1]["attachment"]["content"]
        assert "**Time to acknowledge** (from paging to the first acknowledgement): 5 min 1 s" in md
        assert "| backup-pd | PagerDuty | page | 2 | sent |" in md
    finally:
        await stop_bot(running)


async def test_wrong_words_get_web_chat_wording_and_step_ids(bot):
    """Mistakes are answered with the words to type in the web chat (no Slack slash), and an
    unknown step says how the checklist numbers its steps."""
    mine = await say(bot, "compromised frobnicate")
    assert mine[-1]["private"] and "I didn't understand “frobnicate”" in mine[-1]["text"]
    assert "Type compromised, or compromised x @ouraccount" in mine[-1]["text"]
    assert "/compromised" not in mine[-1]["text"]

    incident_id, _ = await triage(
        bot,
        "compromised x @dept",
        ["symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|yes", "personal|no"],
    )
    mine = await say(bot, f"compromised severity {incident_id} five")
    assert mine[-1]["text"] == "Type: compromised severity <id> <1-4> (1 is the worst)"
    mine = await say(bot, f"compromised assign {incident_id} nosuchstep @web-team")
    text = mine[-1]["text"]
    assert mine[-1]["private"] and text.startswith(f"{incident_id} has no step “nosuchstep”.")
    total = len(await desk(bot).store.steps.all(incident_id))
    assert f"Its steps are numbered 1 to {total} on the checklist." in text


async def test_report_counts_only_pages_that_went_out(bot, fake_pd):
    """The report's one-line summary says how many pages were really sent and how many
    failed, not how many were tried."""
    incident_id, _ = await triage(
        bot,
        "compromised drill instagram @practice",
        ["symptoms|unknown-login:on", "symptoms|next", "access|no", "harmful|no", "personal|no"],
    )
    await pager(bot).flush()
    pages = await pager(bot).pages(incident_id)
    sent = sum(p.status == "sent" for p in pages)
    failed = sum(p.status == "failed" for p in pages)
    assert sent and len(pages) > sent  # PagerDuty is skipped in a drill
    messages = await say(bot, f"compromised report {incident_id}")
    summary = messages[-1]["text"]
    expected = f"{sent} page{'' if sent == 1 else 's'} sent"
    expected += f", {failed} failed" if failed else ""
    skipped = sum(p.status == "skipped" for p in pages)  # not drill-safe: listed apart
    expected += f", {skipped} skipped (drill)" if skipped else ""
    assert summary.endswith(f"{expected}.") and f"{len(pages)} pages sent" not in summary


async def test_a_page_names_the_platform_as_it_does_and_leaves_no_gap_without_a_handle(
    bot, fake_pd
):
    """ "on LinkedIn", not "on linkedin"; with no handle given, "an account on LinkedIn",
    never a double space where the handle would be."""
    incident_id, card_id = await triage(
        bot,
        "compromised linkedin",
        ["symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|yes", "personal|no"],
    )
    await pager(bot).flush()
    messages = await bot.web_messages(user=REPORTER)
    (page,) = [m for m in messages if m["id"] != card_id and buttons(m["blocks"], "incident:ack")]
    assert page["text"].startswith("Severity 1 (critical) incident: an account on LinkedIn.")
    assert "  " not in page["text"]
    (heading,) = [b["text"] for b in page["blocks"] if b["type"] == "heading"]
    assert heading == "Severity 1 (critical) incident: an account on LinkedIn"
    fields = {
        f["label"]: f["value"]
        for b in page["blocks"]
        if b["type"] == "section"
        for f in b["fields"]
    }
    assert fields["Platform"] == "LinkedIn" and fields["Account"] == "not given"
    assert incident_id in page["text"]


async def test_times_on_the_card_and_checklist_are_london_time_with_the_zone(
    env, fake_slack, fake_connector, content_library, fake_pd
):
    # A summer morning: 09:00 UTC is 10:00 BST, and people read it with the zone.
    clock = FakeClock(datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    running = await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        answers = ["symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|no",
                   "personal|no"]  # fmt: skip
        incident_id, card_id = await triage(running, "compromised x @dept", answers)
        await click(running, "incident:ack", incident_id, card_id, user=TEAM)
        steps = await desk(running).store.steps.all(incident_id)
        first = next(s for s in steps if s.phase == "first")
        messages = await click(
            running, "incident:done", f"{incident_id}|{first.step_id}", card_id, user=TEAM
        )
        card = by_id(messages, card_id)
        assert "By Web User at 10:00 BST" in str(card["blocks"])
        checklist = next(m for m in messages if m["text"].startswith(f"{incident_id} checklist"))
        assert "done by Web User at 10:00 BST" in str(checklist["blocks"])
        await web_close(running, incident_id, "Account back", REPORTER)
        card = by_id(await running.web_messages(user=REPORTER), card_id)
        assert "Closed at 10:00 BST: Account back" in str(card["blocks"])
    finally:
        await stop_bot(running)
