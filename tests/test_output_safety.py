"""Text people type is inert everywhere it goes out, every message fits its channel, and
the routing file's secrets stay out of the database. Each test drives the real app over
HTTP against the fakes: Slack's Web API, the Bot Connector, PagerDuty, GOV.UK Notify,
an SMTP server (aiosmtpd) and a webhook receiver.
"""

from __future__ import annotations

import asyncio
import json
import re
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from incidents.paging.routing import RoutingError
from tests import incident_support
from tests.fakes.notify import API_KEY
from tests.incident_support import buttons, card_of, card_text, checklist_of, desk
from tests.support import (
    database_url_for,
    every_row_text,
    in_a_thread,
    run_app,
    slack_typed,
    start_bot,
    stop_bot,
)

fake_slack = incident_support.fake_slack
fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd

CHANNEL = "C0SAFE"
# Bidi overrides and isolates, marks, zero-width and other invisible characters, C0 and
# C1 controls: none of these may leave the app in anything a person typed.
HIDDEN = re.compile(
    "[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad"
    "\x00-\x08\x0b-\x1f\x7f-\x9f]"
)
# A department name (limit 100) and a skip reason (limit 300), as an attacker types them.
DEPARTMENT = "<!channel> @here \u202eLATIGID\u202c <at>Boss</at> <b>x</b>\x07 \u200bX"
REASON = (
    "<!channel> <@U999|boss> @everyone \u202eesrever\u202c `code` *bold* _it_ ~s~ "
    "<script>alert(1)</script> [click](http://evil.example) \u2066iso\u2069 \x1b[2J \x85 end"
)
SECRET_PD_KEY = "pd-secret-7f3e1c9a-routing-key"
SECRET_HOOK = "hook-secret-41b6d2e8-signing-value"


def assert_inert(text: str) -> None:
    found = HIDDEN.findall(text)
    assert not found, (found, text[:200])


def mrkdwn_texts(body: dict) -> list[str]:
    """Every string Slack parses as mrkdwn in a message: its text and mrkdwn objects."""
    found = [body.get("text", "")]

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
                assert node.get("verbatim") is True, node  # no auto-linking of names or URLs
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body.get("blocks") or [])
    return found


def assert_slack_inert(body: dict) -> None:
    assert_inert(json.dumps(body, ensure_ascii=False))
    for text in mrkdwn_texts(body):
        # No mention, tag or disguised link: the only links show their own address.
        unlinked = re.sub(r"<https?://[^<>|\s]+>", "", text)
        assert "<" not in unlinked and ">" not in unlinked, text
        assert not re.search(r"(?<!\w)@(here|channel|everyone)\b", text, re.I), text
        assert "*bold*" not in text and "`code`" not in text and "~s~" not in text, text


# --- every channel: Slack, PagerDuty, Notify SMS and email, SMTP, webhook ----------------


ROUTING = """\
version: 1
default_team: duty
targets:
  pd:
    type: pagerduty
    {pd_key}
  sms:
    type: notify_sms
    phone: "07700 900123"
    template_id: tpl-sms
  nemail:
    type: notify_email
    email: duty@example.gov.uk
    template_id: tpl-email
  mail:
    type: email
    to: [duty@example.gov.uk]
  hook:
    type: webhook
    url: {hook}
    {hook_secret}
  room:
    type: chat
    origin: true
teams:
  duty:
    members: [slack:UTEAM]
    escalation:
      steps:
        - targets: [pd, sms, nemail, mail, hook, room]
"""


smtp = incident_support.smtp
notify = incident_support.notify


# The older form, "${SECBOT_NAME}", names a setting too (and works on older versions,
# so the inert-text test below fails there only for what it is about).
SETTING_FORM = {
    "pd_key": "routing_key: ${SECBOT_OUT_PD_KEY}",
    "hook_secret": "secret: ${SECBOT_OUT_HOOK_SECRET}",
}
ENV_FORM = {"pd_key": "routing_key_env: OUT_PD_KEY", "hook_secret": "secret_env: OUT_HOOK_SECRET"}


@pytest.fixture
def paging_env(slack_env, tmp_path, fake_pd, notify, smtp, hook, request) -> dict[str, str]:
    controller, _ = smtp
    path = tmp_path / "routing.yml"
    form = getattr(request, "param", SETTING_FORM)
    path.write_text(ROUTING.format(hook=hook.hook_url, **form), encoding="utf-8")
    return {
        **slack_env,
        "SECBOT_ROUTING": str(path),
        "SECBOT_PAGERDUTY_URL": fake_pd.url,
        "SECBOT_NOTIFY_API_KEY": API_KEY,
        "SECBOT_NOTIFY_URL": notify.url.rstrip("/"),
        "SECBOT_SMTP_HOST": "127.0.0.1",
        "SECBOT_SMTP_PORT": str(controller.port),
        "SECBOT_SMTP_FROM": "secbot@example.gov.uk",
        "SECBOT_SMTP_STARTTLS": "false",
        "OUT_PD_KEY": SECRET_PD_KEY,
        "OUT_HOOK_SECRET": SECRET_HOOK,
        "SECBOT_OUT_PD_KEY": SECRET_PD_KEY,
        "SECBOT_OUT_HOOK_SECRET": SECRET_HOOK,
    }


@pytest.fixture
async def paging_bot(paging_env, fake_slack, fake_connector, content_library):
    running = await start_bot(
        paging_env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


def slack_bodies(fake_slack) -> list[dict]:
    bodies = []
    for method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
        bodies += fake_slack.api_calls(method)
    return bodies + [b for b in fake_slack.responses() if isinstance(b, dict)]


async def slack_incident(bot, fake_slack, start: str, *answers: str) -> tuple[str, str]:
    """Start /compromised in Slack and answer triage; returns (incident id, card ts)."""
    before = len(fake_slack.api_calls("chat.postMessage"))
    await bot.slash("/compromised", slack_typed(start), user="UREP", channel=CHANNEL)
    posts = await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage")[before:])
    incident_id = buttons(posts[0]["blocks"], "incident:triage")[0].split("|")[0]
    ts = await card_of(bot, incident_id)
    for a in answers:
        n = len(fake_slack.api_calls("chat.update"))
        await bot.click(
            "incident:triage", f"{incident_id}|{a}", user="UREP", channel=CHANNEL, message_ts=ts
        )
        await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n)
    return incident_id, ts


TRIAGE = ("symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|yes", "personal|no")


async def test_typed_text_is_inert_in_slack_pages_sms_email_and_webhooks(
    paging_bot, fake_slack, fake_pd, notify, smtp, hook
):
    _, mailbox = smtp
    incident_id, _ = await slack_incident(
        paging_bot, fake_slack, f'x @dept_news dept="{DEPARTMENT}"', *TRIAGE
    )
    # PagerDuty: the summary is one bounded line; every typed field is inert.
    (trigger,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
    assert trigger["routing_key"] == SECRET_PD_KEY
    assert_inert(json.dumps(trigger, ensure_ascii=False))
    payload = trigger["payload"]
    assert len(payload["summary"]) <= 1024 and "\n" not in payload["summary"]
    assert "LATIGID" in payload["custom_details"]["department"]
    # GOV.UK Notify: one-line fields, the SMS message within its share of 918 characters,
    # and Notify asked to escape Markdown and drop URLs in the email's typed fields.
    (sms,) = await notify.wait_for(lambda s: s.sms_sent())
    (email,) = await notify.wait_for(lambda s: s.emails_sent())
    for body in (sms, email):
        for name, value in body["personalisation"].items():
            assert_inert(value)
            assert "\n" not in value, name
        assert "LATIGID" in body["personalisation"]["department"]
    assert len(sms["personalisation"]["message"]) <= 800
    assert {"message", "department", "summary"} <= set(email["sanitise_content_for"])
    # SMTP: a plain-text email, one-line subject of at most 200 characters.
    await asyncio.wait_for(_until(lambda: mailbox.envelopes), 30)
    mail = message_from_bytes(mailbox.envelopes[0].content, policy=default_policy)
    assert mail.get_content_type() == "text/plain" and not mail.is_multipart()
    subject = str(mail["Subject"])
    assert "\n" not in subject and len(subject) <= 200
    assert_inert(subject)
    content = mail.get_content()
    assert_inert(content.replace("\r\n", " ").replace("\n", " "))
    assert "LATIGID" in content
    # The webhook's JSON: typed fields inert.
    await hook.wait_for(lambda s: s.deliveries)
    delivered = json.loads(hook.deliveries[0].raw)
    assert_inert(json.dumps(delivered, ensure_ascii=False))
    assert "LATIGID" in delivered["incident"]["department"]

    # A hostile skip reason: shown in the reply, the checklist and the timeline, inert.
    await paging_bot.slash(
        # Step 1 is in the first phase, which the checklist shows (issue 15).
        "/compromised", slack_typed(f"skip {incident_id} 1 {REASON}"), user="UREP",
        channel=CHANNEL,
    )  # fmt: skip
    await fake_slack.wait_for(
        lambda s: [b for b in slack_bodies(s) if "esrever" in json.dumps(b, ensure_ascii=False)]
    )
    # A handle with hidden characters is refused; the refusal quotes it, inert.
    await paging_bot.slash(
        "/compromised", slack_typed("x @dept\u202e<!channel>"), user="UREP", channel=CHANNEL
    )
    await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "I didn't understand" in r.get("text", "")]
    )
    bodies = slack_bodies(fake_slack)
    shown = [b for b in bodies if "LATIGID" in json.dumps(b, ensure_ascii=False)]
    assert shown  # the department really was shown (the incident card, the chat page)
    for body in bodies:
        assert_slack_inert(body)
    assert any("\uff20everyone" in t for b in bodies for t in mrkdwn_texts(b))

    # The report: typed text on one line, Markdown and tags escaped.
    md_file, html_file = await desk(paging_bot).reports.messages(incident_id)
    report = md_file.attachment[1]
    assert_inert(report.replace("\n", " "))
    assert "\\<!channel\\>" in report and "<script>" not in report
    page = html_file.attachment[1]
    assert_inert(page.replace("\n", " "))
    assert "&lt;!channel&gt;" in page and "<!channel>" not in page


async def _until(check) -> None:
    while not check():
        await asyncio.sleep(0.02)


async def test_typed_text_and_names_are_inert_in_teams_cards(
    slack_env, fake_slack, fake_connector, fake_pd, content_library, tmp_path
):
    env = {**slack_env, **incident_support.routing_env(tmp_path, fake_pd.url)}
    bot = await start_bot(env, slack=fake_slack, connector=fake_connector, content=content_library)
    hostile_name = "Eve \u202eKCAH\u202c <at>Boss</at>\x07"
    try:
        await bot.teams_say(
            'compromised threads @dept dept="<at>Boss</at> \u2066hidden\u2069"',
            mention=True, aad="aad-rep", name=hostile_name,
        )  # fmt: skip
        sent = await fake_connector.wait_for(lambda s: s.sent())
        card = sent[0]["attachments"][0]["content"]
        incident_id = buttons(card, "incident:triage")[0].split("|")[0]
        card_id = await card_of(bot, incident_id)
        for a in (
            "symptoms|rogue-posts:on",
            "symptoms|next",
            "access|no",
            "harmful|no",
            "personal|no",
        ):
            await bot.teams_click(
                "incident:triage", f"{incident_id}|{a}", reply_to_id=card_id, aad="aad-rep",
                name=hostile_name,
            )  # fmt: skip
        await bot.teams_say(
            f"compromised skip {incident_id} 1 {REASON}",  # in the phase shown
            mention=True, aad="aad-rep", name=hostile_name,
        )  # fmt: skip
        checklist_id = await checklist_of(bot, incident_id)
        await fake_connector.wait_for(
            lambda s: [u for u in s.updates() if u.get("id") == checklist_id and
                       "esrever" in card_text(u)]
        )  # fmt: skip
        activities = fake_connector.sent() + fake_connector.updates()
        assert any("KCAH" in card_text(a) for a in activities)  # the name was shown
        for activity in activities:
            assert len(json.dumps(activity, separators=(",", ":"))) <= 28_000
            shown = {k: activity.get(k) for k in ("text", "summary", "attachments")}
            assert_inert(json.dumps(shown, ensure_ascii=False))
            for content in [a.get("content") for a in activity.get("attachments") or []]:
                if not isinstance(content, dict):
                    continue
                for block in content.get("body", []):
                    texts = [block.get("text", "")] + [
                        f["title"] + f["value"] for f in block.get("facts", [])
                    ]
                    for text in texts:
                        # Every "<", "*" and "[" is backslash-escaped: no tag, mention,
                        # formatting or link can form.
                        assert not re.search(r"(?<!\\)[<*\[]", text), text
            if activity.get("textFormat") == "plain":
                assert "<at" not in activity.get("text", "").lower()
    finally:
        await stop_bot(bot)


async def test_typed_text_is_inert_in_the_web_chat(running):
    await running.web_send(user="web-reporter", text="compromised x @dept")
    messages = await running.web_messages(user="web-reporter")
    incident_id = buttons(messages[-1]["blocks"], "incident:triage")[0].split("|")[0]
    await running.web_send(user="web-reporter", text=f"compromised evidence {incident_id} {REASON}")
    messages = await running.web_messages(user="web-reporter")
    shown = [m for m in messages if "esrever" in json.dumps(m, ensure_ascii=False)]
    assert shown
    for message in messages:
        assert_inert(json.dumps(message, ensure_ascii=False))


# --- bounded output -------------------------------------------------------------------


async def many_steps(bot, incident_id: str, count: int = 150) -> None:
    """A playbook far longer than any shipped one: every step repeated, with long text."""
    d = desk(bot)
    base = next(iter(d.playbooks.steps_for("x", {"rogue-posts"}, 1, set())))
    long_text = base.text.model_copy(update={"en": "Check the account settings. " * 12})
    steps = [
        base.model_copy(update={"id": f"extra-{n:03d}", "text": long_text}) for n in range(count)
    ]
    await d.store.steps.add(incident_id, steps)


def checklist_in(bodies: list[dict], incident_id: str) -> list[dict]:
    return [b for b in bodies if b.get("text", "").startswith(f"{incident_id} checklist")]


async def test_a_very_long_checklist_fits_slack_and_teams(
    slack_env, fake_slack, fake_connector, fake_pd, content_library, tmp_path
):
    env = {**slack_env, **incident_support.routing_env(tmp_path, fake_pd.url)}
    bot = await start_bot(env, slack=fake_slack, connector=fake_connector, content=content_library)
    try:
        incident_id, _ = await slack_incident(bot, fake_slack, "x @dept", *TRIAGE)
        await many_steps(bot, incident_id)
        checklist_ts = await checklist_of(bot, incident_id)
        await bot.click(
            "incident:done", f"{incident_id}|contain-password", user="UREP", channel=CHANNEL,
            message_ts=checklist_ts,
        )  # fmt: skip
        redrawn = await fake_slack.wait_for(
            lambda s: [u for u in checklist_in(slack_bodies(s), incident_id) if
                       u["text"].startswith(f"{incident_id} checklist: 1 of")]
        )  # fmt: skip
        body = redrawn[-1]
        assert len(body["blocks"]) <= 50
        assert len(body["text"]) <= 4000
        for block in body["blocks"]:
            if block["type"] == "section" and block.get("text"):
                assert len(block["text"]["text"]) <= 3000
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    assert len(element["text"]["text"]) <= 75
        # Nothing silently lost: a pointer to the report, which lists every step; and
        # one phase at a time keeps it to 15 controls (issue 15).
        assert "Every step is in the report" in card_text(body["blocks"])
        rows = [b for b in body["blocks"] if b["type"] == "actions"]
        assert sum(len(b["elements"]) for b in rows) <= 15
        assert f"/compromised report {incident_id}" in card_text(body["blocks"])

        # The same in Teams: the card stays under 28 KB.
        await bot.teams_say("compromised threads @dept", mention=True, aad="aad-rep")
        sent = await fake_connector.wait_for(lambda s: s.sent())
        card = sent[-1]["attachments"][0]["content"]
        teams_id = buttons(card, "incident:triage")[0].split("|")[0]
        card_id = await card_of(bot, teams_id)
        for a in (
            "symptoms|rogue-posts:on",
            "symptoms|next",
            "access|no",
            "harmful|no",
            "personal|no",
        ):
            await bot.teams_click(
                "incident:triage", f"{teams_id}|{a}", reply_to_id=card_id, aad="aad-rep"
            )
        await many_steps(bot, teams_id)
        checklist_id = await checklist_of(bot, teams_id)
        await bot.teams_click(
            "incident:done", f"{teams_id}|contain-password", reply_to_id=checklist_id,
            aad="aad-rep",
        )  # fmt: skip
        updates = [u for u in fake_connector.updates() if u.get("id") == checklist_id]
        assert updates
        for activity in updates:
            assert len(json.dumps(activity, separators=(",", ":")).encode()) <= 28_000
        assert "Every step is in the report" in card_text(updates[-1])
    finally:
        await stop_bot(bot)


async def test_a_5000_character_reason_is_refused_with_the_limit(
    slack_env, fake_slack, fake_connector, fake_pd, content_library, tmp_path
):
    env = {**slack_env, **incident_support.routing_env(tmp_path, fake_pd.url)}
    bot = await start_bot(env, slack=fake_slack, connector=fake_connector, content=content_library)
    try:
        incident_id, _ = await slack_incident(bot, fake_slack, "x @dept", *TRIAGE)
        n = len(fake_slack.responses())
        await bot.slash(
            "/compromised", f"skip {incident_id} contain-password {'r' * 5000}", user="UREP",
            channel=CHANNEL,
        )  # fmt: skip
        (reply,) = await fake_slack.wait_for(lambda s: s.responses()[n:])
        assert "5,000 characters" in reply["text"] and "the limit is 300" in reply["text"]
        step = await desk(bot).store.steps.get(incident_id, "contain-password")
        assert step.status == "open" and not step.reason  # nothing half-kept
    finally:
        await stop_bot(bot)


@pytest.mark.parametrize(
    ("command", "limit"),
    [
        # (the web chat itself takes at most 2,000 characters a message)
        ("evidence {id} " + "e" * 1500, "1,000"),
        ("close {id} " + "s" * 1200, "500"),
        ('x @other dept="' + "d" * 150 + '"', "100"),
    ],
)
async def test_other_long_entries_are_refused_with_their_limit(running, command, limit):
    await running.web_send(user="web-reporter", text="compromised x @dept")
    messages = await running.web_messages(user="web-reporter")
    incident_id = buttons(messages[-1]["blocks"], "incident:triage")[0].split("|")[0]
    before = len(await desk(running).store.timeline.events(incident_id))
    text = "compromised " + command.format(id=incident_id)
    await running.web_send(user="web-reporter", text=text)
    reply = (await running.web_messages(user="web-reporter"))[-1]
    assert f"the limit is {limit}" in reply["text"]
    assert len(await desk(running).store.timeline.events(incident_id)) == before
    assert (await desk(running).store.get(incident_id)).status != "closed"


# --- secrets --------------------------------------------------------------------------


def db_bytes(db_path: str) -> bytes:
    url = database_url_for(db_path)
    if url is not None:  # PostgreSQL: every row of every table, as text
        return in_a_thread(every_row_text(url)).encode()
    return b"".join(
        Path(db_path + suffix).read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(db_path + suffix).exists()
    )


@pytest.mark.parametrize("paging_env", [ENV_FORM, SETTING_FORM], indirect=True)
async def test_the_database_holds_no_routing_secret(
    paging_env, fake_slack, fake_connector, content_library, fake_pd, hook
):
    bot = await start_bot(
        paging_env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        incident_id, _ = await slack_incident(bot, fake_slack, "x @dept", *TRIAGE)
        (trigger,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
        assert trigger["routing_key"] == SECRET_PD_KEY  # the key was used...
        await hook.wait_for(lambda s: s.deliveries)
        # Steps are still open, so closing asks first (issue 15).
        await incident_support.slack_close(bot, fake_slack, incident_id, "Recovered", "UREP",
                                           CHANNEL)  # fmt: skip
        await fake_pd.wait_for(lambda s: s.events("resolve"))
    finally:
        await stop_bot(bot)
    data = db_bytes(paging_env["SECBOT_DB"])
    assert b"OUT_PD_KEY" in data  # ...the database names it...
    for secret in (SECRET_PD_KEY, SECRET_HOOK, API_KEY):
        assert secret.encode() not in data  # ...and never holds it


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("{type: pagerduty, routing_key: R0UT1NGKEY0001}", "routing_key_env: PD_ROUTING_KEY"),
        (
            "{type: webhook, url: 'https://soc.example/h', secret: a-long-inline-secret-1}",
            "secret_env: SOC_WEBHOOK_SECRET",
        ),
        (
            "{type: webhook, url: 'https://hooks.slack.com/services/T1/B2/abc',"
            " secret_env: HOOK_SECRET}",
            "url_env: SOC_WEBHOOK_URL",
        ),
        (
            "{type: webhook, url: 'https://soc.example/h?token=abc', secret_env: HOOK_SECRET}",
            "url_env: SOC_WEBHOOK_URL",
        ),
    ],
)
async def test_a_secret_written_in_the_routing_file_is_refused_at_start(tmp_path, target, says):
    path = tmp_path / "routing.yml"
    path.write_text(
        f"default_team: duty\ntargets:\n  t: {target}\n"
        "teams:\n  duty:\n    escalation: {steps: [{targets: [t]}]}\n"
    )
    env = {"SECBOT_DB": str(tmp_path / "x.db"), "SECBOT_ROUTING": str(path),
           "HOOK_SECRET": "h" * 20}  # fmt: skip
    with pytest.raises(RoutingError) as e:
        await start_bot(env, features=["incidents.feature"], content=False)
    assert says in str(e.value) and "targets.t" in str(e.value)


def test_a_missing_secret_variable_is_one_clear_line_at_start(tmp_path):
    """Outside development mode, with a routing file of its own, a variable the file
    names but nobody set stops start-up: one line naming it, exit status 2."""
    path = tmp_path / "routing.yml"
    path.write_text(
        "default_team: duty\ntargets:\n  pd: {type: pagerduty, routing_key_env: PD_KEY_UNSET}\n"
        "teams:\n  duty:\n    escalation: {steps: [{targets: [pd]}]}\n"
    )
    proc = run_app({"SECBOT_ROUTING": str(path), "PORT": "0", "PD_KEY_UNSET": ""}, tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"secbot can't start: routing file {path}")
    assert "targets.pd.routing_key_env names PD_KEY_UNSET, which is not set" in last
