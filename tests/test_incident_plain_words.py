"""Plain words for reporters, detail for admins (issue 15, item 6).

A whole incident is run in the web chat, with a text message page that fails and falls
back to email. Everything the reporter is shown (every message they can see, and the
report) is scanned for settings names, file names, step ids and content versions; the
paging failure reads "We couldn't reach the on-call team by text message, so we're
trying email". An admin asking for the report also gets, privately, what failed and
where it is configured.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app import SERVICES
from tests import incident_support
from tests.incident_support import buttons, desk, pager
from tests.support import eventually, start_bot, stop_bot
from tests.test_incident_people import named_web_users, next_answer

fake_slack = incident_support.fake_slack
fake_connector = incident_support.fake_connector
smtp = incident_support.smtp
notify = incident_support.notify

REPORTER, TEAM, HELPER, ADMIN = "web-reporter", "web-team", "web-helper", "web-admin"

# The on-call team's text message fails (Notify refuses the key) and falls back to
# email through the SMTP server; the room gets a chat page.
ROUTING = """\
version: 1
default_team: comms-security
targets:
  duty-sms:
    type: notify_sms
    phone: "07700 900123"
    template_id: tpl-duty-sms
    fallback: duty-email
  duty-email:
    type: email
    to: [duty@example.gov.uk]
  room:
    type: chat
    origin: true
teams:
  comms-security:
    members: [web:web-team]
    escalation:
      steps:
        - targets: [duty-sms, room]
          wait_minutes: 5
"""

PLAIN_FALLBACK = "We couldn't reach the on-call team by text message, so we're trying email."


@pytest.fixture
async def bot(slack_env, tmp_path, notify, smtp, fake_slack, fake_connector, content_library):
    controller, _ = smtp
    path = tmp_path / "routing.yml"
    path.write_text(ROUTING, encoding="utf-8")
    env = {
        **slack_env,
        "SECBOT_ROUTING": str(path),
        "SECBOT_WEBCHAT_USERS_FILE": str(named_web_users(tmp_path)),
        "SECBOT_NOTIFY_API_KEY": "wrongkey-11111111-1111-1111-1111-111111111111-"
        "22222222-2222-2222-2222-222222222222",
        "SECBOT_NOTIFY_URL": notify.url.rstrip("/"),
        "SECBOT_SMTP_HOST": "127.0.0.1",
        "SECBOT_SMTP_PORT": str(controller.port),
        "SECBOT_SMTP_FROM": "secbot@example.gov.uk",
        "SECBOT_SMTP_STARTTLS": "false",
        "SECBOT_PAGING_MAX_ATTEMPTS": "1",
    }
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


def shown(message: dict) -> list[str]:
    """What a person reads in a web chat message: its text, every label and line in its
    blocks, and an attached file. Not button values or action ids, which are never shown."""
    texts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        texts += [block.get("text") or "", block.get("placeholder") or ""]
        texts += [f"{f['label']} {f['value']}" for f in block.get("fields") or []]
        texts += [b["label"] for b in block.get("buttons") or []]
        texts += [c["label"] for c in block.get("choices") or []]
        texts += list(block.get("lines") or [])
    if message.get("attachment"):
        texts.append(message["attachment"]["content"])
    return [t for t in texts if t]


def leaks(texts: list[str], step_ids: list[str], version: str) -> list[str]:
    """Settings names, file names, step ids and the content version in ``texts``."""
    found = []
    words = re.compile(
        r"SECBOT_[A-Z0-9_]+|routing file|\.ya?ml\b|\.py\b|\.env\b|configuration\.md|"
        + "|".join(rf"(?<![\w-]){re.escape(s)}(?![\w-])" for s in step_ids)
    )
    for text in texts:
        found += words.findall(text)
        if version and version in text:
            found.append(version)
    return found


async def send(bot, user: str, text: str | None = None, action: dict | None = None) -> list:
    status, body = await bot.web_send(user=user, text=text, action=action)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user)


def click(action_id: str, value: str, message_id: Any, form: dict | None = None) -> dict:
    act = {"action_id": action_id, "value": value, "message_id": str(message_id)}
    return {**act, "form": form} if form else act


async def test_a_reporter_reads_plain_words_and_an_admin_gets_the_detail(bot, smtp):
    _, mailbox = smtp
    messages = await send(bot, REPORTER, "compromised x @govuk")
    card = messages[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for _ in range(20):
        card = next(m for m in await bot.web_messages(user=REPORTER) if m["id"] == card["id"])
        values = buttons(card["blocks"], "incident:triage")
        if not values:
            break
        await send(bot, REPORTER, action=click("incident:triage", next_answer(values), card["id"]))
    card_id = card["id"]

    # The text message fails at once and email is tried: said in plain words.
    await pager(bot).flush()
    await eventually(lambda: mailbox.envelopes)
    room = await bot.web_messages(user=REPORTER)
    said = [m["text"] for m in room if PLAIN_FALLBACK in m["text"]]
    assert said, [m["text"] for m in room]
    timeline = [e.text for e in await desk(bot).store.timeline.events(incident_id)]
    assert PLAIN_FALLBACK in timeline

    # The reporter can't acknowledge, and is told so without the routing file.
    mine = await send(bot, REPORTER, action=click("incident:ack", incident_id, card_id))
    assert "ask an admin to add you to it" in mine[-1]["text"]
    await send(bot, TEAM, action=click("incident:ack", incident_id, card_id))

    # Work the checklist: done, skipped with a reason, given to someone, handed over.
    steps = await desk(bot).store.steps.all(incident_id)
    checklist_id = (await desk(bot).store.get(incident_id)).checklist_id
    first, second, third = (f"{incident_id}|{s.step_id}" for s in steps[:3])
    await send(bot, TEAM, action=click("incident:done", first, checklist_id))
    mine = await send(bot, REPORTER, action=click("incident:skip", second, checklist_id))
    reason = next(c["value"] for b in mine[-1]["blocks"] for c in b.get("choices") or [])
    await send(bot, REPORTER, action=click("incident:reason", reason, mine[-1]["id"]))
    mine = await send(bot, REPORTER, action=click("incident.step.assign", third, checklist_id))
    await send(
        bot, REPORTER, action=click("incident.step.assign", third, mine[-1]["id"], {"person": TEAM})
    )
    await send(bot, REPORTER, f"compromised evidence {incident_id} https://x.com/govuk/status/9")
    mine = await send(bot, REPORTER, action=click("incident.handover", incident_id, card_id))
    await send(
        bot, REPORTER,
        action=click("incident.handover", incident_id, mine[-1]["id"], {"person": HELPER}),
    )  # fmt: skip
    await send(bot, HELPER, f"compromised severity {incident_id} 1")
    await send(bot, REPORTER, "compromised status")
    await send(bot, REPORTER, f"compromised people {incident_id}")
    await send(bot, HELPER, f"compromised close {incident_id} Password reset, post removed")
    mine = await send(bot, REPORTER, f"compromised report {incident_id}")
    report = next(m for m in reversed(mine) if m.get("attachment"))
    assert "| duty-sms | text message | page | 1 | failed |" in report["attachment"]["content"]
    assert not [m for m in mine[mine.index(report) :] if m["text"].startswith("For admins")]

    # Nothing the reporter was shown names a setting, a file, a step id or a version.
    step_ids = [s.step_id for s in await desk(bot).store.steps.all(incident_id)]
    version = getattr(bot.app[SERVICES].content, "version", "") or ""
    seen = [text for m in await bot.web_messages(user=REPORTER) for text in shown(m)]
    assert len(seen) > 20
    assert leaks(seen, step_ids, version) == []
    # (The scan does find them: a check that can't fail would prove nothing.)
    planted = [f"set SECBOT_ROUTING in the routing file, then {step_ids[0]}.", version]
    assert len(leaks(planted, step_ids, version)) == 4

    # An admin asking for the report also gets, privately, what failed and where it is
    # configured; the report itself is the same for everyone.
    theirs = await send(bot, ADMIN, f"compromised report {incident_id}")
    notes = theirs[-1]
    assert notes["private"] and notes["text"].startswith(f"For admins, paging on {incident_id}")
    assert "Could not page duty-sms (GOV.UK Notify text message)" in notes["text"]
    assert "Trying its fallback duty-email (email)." in notes["text"]
    assert "SECBOT_ROUTING" in notes["text"]
    assert not [m for m in await bot.web_messages(user=REPORTER) if m["id"] == notes["id"]]
