"""docs/example-report.md and .html are a real drill's report, made by running the drill
through the app (web chat, real pager, a controllable clock), and this test fails when
the checked-in example no longer has the structure a fresh report has.

To write the example again after changing the report:
``SECBOT_WRITE_EXAMPLE=1 .venv/bin/python -m pytest tests/test_report_example.py``
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from bot.core.clock import FakeClock
from tests import incident_support
from tests.incident_support import ROUTING, buttons, desk, pager, routing_env, web_close
from tests.support import start_bot, stop_bot

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

DOCS = Path(__file__).resolve().parent.parent / "docs"
T0 = datetime(2026, 6, 16, 8, 30, tzinfo=UTC)  # 09:30 BST
REPORTER, TEAM, PRESS = "web-reporter", "web-team", "web-head"
PRESS_OFFICE = "press_office: [web:web-head]\n"


async def say(bot, user: str, text: str) -> list[dict]:
    status, body = await bot.web_send(user=user, text=text)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user)


async def click(
    bot, user: str, action_id: str, value: str, message: dict, **form: str
) -> list[dict]:
    action = {"action_id": action_id, "value": value, "message_id": str(message["id"])}
    if form:
        action["form"] = form
    status, body = await bot.web_send(user=user, action=action)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user)


async def run_drill(bot, clock: FakeClock) -> tuple[str, str, str]:
    """A drill from report to close; returns (incident id, Markdown, HTML)."""
    card = (await say(bot, REPORTER, "compromised drill x @dept_news"))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in ("symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|yes",
                   "personal|unsure"):  # fmt: skip
        await clock.advance(seconds=40)
        await click(bot, REPORTER, "incident:triage", f"{incident_id}|{answer}", card)
    await pager(bot).flush()

    # The duty officer acknowledges the drill page four minutes later.
    await clock.advance(minutes=4)
    page = next(
        m for m in await bot.web_messages(user=TEAM)
        if buttons(m.get("blocks", []), "incident:ack") and m["text"].startswith("DRILL: Sev")
    )  # fmt: skip
    await click(bot, TEAM, "incident:ack", incident_id, page)

    # Two steps done, one skipped with a reason.
    steps = [s for s in await desk(bot).store.steps.all(incident_id) if s.phase == "first"]
    checklist = (await desk(bot).store.get(incident_id)).checklist_id
    for step in steps[:2]:
        await clock.advance(minutes=3)
        await click(bot, TEAM, "incident:done", f"{incident_id}|{step.step_id}",
                    {"id": checklist})  # fmt: skip
    await clock.advance(minutes=2)
    await say(bot, REPORTER, f"compromised skip {incident_id} 3 Practised in last month's drill")

    # A holding statement, approved by the press office and posted.
    await say(bot, REPORTER, f"compromised add {incident_id} @{PRESS}")
    await clock.advance(minutes=5)
    shown = (await say(bot, REPORTER, f"compromised holding {incident_id} compromised"))[-1]
    approve = buttons(shown["blocks"], "incident:hold-approve")[0]
    await clock.advance(minutes=6)
    await click(bot, PRESS, "incident:hold-approve", approve, shown)
    await clock.advance(minutes=3)
    await click(bot, REPORTER, "incident:hold-posted", approve, shown)

    # "Not sure" about personal data started the ICO clock; the commander records the
    # assessment with its reason.
    await clock.advance(minutes=8)
    await click(bot, REPORTER, "incident.ico:notreportable",
                incident_id, card, reason="Only public posts were changed; no DMs were read")

    await clock.advance(minutes=12)
    messages = await web_close(bot, incident_id, "Drill went well: the team found every step",
                               REPORTER)  # fmt: skip
    files = {m["attachment"]["filename"]: m["attachment"]["content"]
             for m in messages if m.get("attachment")}  # fmt: skip
    md = files[f"{incident_id}-drill-report.md"]
    html = files[f"{incident_id}-drill-report.html"]
    return incident_id, md, html


def md_structure(md: str) -> list[str]:
    """Headings and table headers: what a reader navigates by."""
    return [line for line in md.splitlines() if line.startswith("#") or line.startswith("| ")
            and not re.match(r"^\| .*\d", line) and "---" not in line]  # fmt: skip


def html_structure(html: str) -> list[str]:
    return re.findall(r"<(h[1-3]|th scope=\"col\")>([^<]*)<", html)


async def test_the_example_report_is_a_real_drill_and_up_to_date(
    slack_env, fake_pd, fake_slack, fake_connector, content_library, tmp_path
):
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url, ROUTING + PRESS_OFFICE)}
    clock = FakeClock(T0)
    bot = await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        incident_id, md, html = await run_drill(bot, clock)
    finally:
        await stop_bot(bot)
    if os.environ.get("SECBOT_WRITE_EXAMPLE"):
        (DOCS / "example-report.md").write_text(md, encoding="utf-8")
        (DOCS / "example-report.html").write_text(html, encoding="utf-8")

    # What the drill shows: honest page counts, London times with the zone, steps by words.
    assert "Tue 16 Jun 2026, 09:30:00 BST" in md
    pages = md.split("## Pages sent", 1)[1].split("## ICO", 1)[0]
    sent, skipped = pages.split("### Not paged because this was a drill")
    skipped, updates = skipped.split("### Acknowledge and resolve updates")
    assert "| room |" in sent and "duty-pd" not in sent and "backup-pd" not in sent
    assert "| duty-pd |" in skipped and "1 page reached people" in sent
    assert "Practised in last month" in md and "contain-" not in md
    assert "| Account compromised | posted |" in md
    assert "Paging: 1 page sent, 1 skipped (drill), 2 acknowledge/resolve updates." in md
    assert "| room | a chat message | acknowledged |" in updates

    example_md = (DOCS / "example-report.md").read_text(encoding="utf-8")
    example_html = (DOCS / "example-report.html").read_text(encoding="utf-8")
    stale = "docs/example-report is stale: run SECBOT_WRITE_EXAMPLE=1 on this test to remake it"
    assert md_structure(example_md) == md_structure(md), stale
    assert html_structure(example_html) == html_structure(html), stale
    assert example_md.startswith(f"# Drill report: {incident_id}"), stale
