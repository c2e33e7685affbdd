"""The report's sections from other desk jobs, end to end in the web chat: an
impersonation's fake accounts (takedowns) and its holding statement, as recorded, and
"None recorded." only when nothing was."""

from __future__ import annotations

from tests import incident_support
from tests.incident_support import buttons, desk

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
env = incident_support.env
bot = incident_support.bot

REPORTER = "web-reporter"
IMPERSONATION = ("symptoms|impersonation:on", "symptoms|next", "access|yes", "harmful|no",
                 "personal|no")  # fmt: skip


async def say(bot, text: str) -> list[dict]:
    status, body = await bot.web_send(user=REPORTER, text=text)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=REPORTER)


async def click(bot, action_id: str, value: str, message_id, **form: str) -> list[dict]:
    action = {"action_id": action_id, "value": value, "message_id": str(message_id)}
    if form:
        action["form"] = form
    status, body = await bot.web_send(user=REPORTER, action=action)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=REPORTER)


def section(md: str, title: str) -> str:
    return md.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


async def test_report_lists_takedowns_and_holding_lines_as_recorded(bot):
    card = (await say(bot, "compromised x @dhsc"))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in IMPERSONATION:
        await click(bot, "incident:triage", f"{incident_id}|{answer}", card["id"])

    # Before anything is recorded: "None recorded." in each section.
    md = (await say(bot, f"compromised report {incident_id}"))[-1]["attachment"]["content"]
    assert section(md, "Impersonation takedowns").strip() == "None recorded."
    assert section(md, "Holding statements").strip() == "None recorded."

    tracker = (await click(bot, "incident.takedown:show", incident_id, card["id"]))[-1]
    await click(bot, "incident.takedown:add", incident_id, tracker["id"],
                url="https://x.com/fake_dhsc", platform="", reference="X-123 <b>",
                reported="")  # fmt: skip
    assert len(await desk(bot).takedowns.items.of(incident_id)) == 1
    await say(bot, f"compromised holding {incident_id} impersonation")

    messages = await say(bot, f"compromised report {incident_id}")
    md = messages[-1]["attachment"]["content"]
    html = messages[-2]["attachment"]["content"]
    takedowns = section(md, "Impersonation takedowns")
    assert "| https://x.com/fake\\_dhsc | X |" in takedowns
    assert "| X-123 \\<b\\> | Reported |" in takedowns
    assert "| Fake account (impersonation) | draft | — | — |" in section(md, "Holding statements")
    assert "1 fake account(s) reported for takedown, 0 removed" in md
    assert "X-123 &lt;b&gt;" in html and "<b>" not in html


async def test_a_typed_character_reference_stays_text_in_the_markdown_report(bot):
    # "&rlm;" or "&#x202E;" typed into a note would become an invisible direction mark
    # in a Markdown viewer, which the report otherwise never lets through.
    card = (await say(bot, "compromised x @dhsc"))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    note = "see &rlm;gpj.exe and &#x202E;txt and &lt;b&gt;"
    await say(bot, f"compromised evidence {incident_id} {note}")
    md = (await say(bot, f"compromised report {incident_id}"))[-1]["attachment"]["content"]
    assert "Evidence: see \\&rlm;gpj.exe and \\&\\#x202E;txt and \\&lt;b\\&gt;" in md
