"""Issue 15 items 1 and 2 end to end, in Slack, Teams and the web chat: starting from
everyday words, the offer when someone says they were hacked, "Did you mean" for a
mistyped command, "Not sure" answers, impersonation, and the personal data question."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests import incident_support
from tests.incident_support import buttons, card_of, card_text, desk, routing_env
from tests.support import start_bot, stop_bot

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

CHANNEL = "C0NAT"
WEB_USER = "web-reporter"


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path):
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url)}
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


def store(bot):
    return desk(bot).store


async def timeline(bot, incident_id: str) -> list[str]:
    return [e.text for e in await store(bot).timeline.events(incident_id)]


# --- Slack ----------------------------------------------------------------------------


def posts(fake_slack) -> list[dict]:
    return fake_slack.api_calls("chat.postMessage")


async def slack_mention(bot, text: str, user: str = "UREP", channel: str = CHANNEL):
    """A signed app_mention event, as Slack sends when someone writes @secbot."""
    body = {
        "type": "event_callback",
        "team_id": "T111",
        "api_app_id": "A111",
        "event_id": f"Ev{uuid.uuid4().hex[:10]}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": user,
            "text": f"<@UBOT> {text}",
            "channel": channel,
            "ts": f"{time.time():.6f}",
            "event_ts": f"{time.time():.6f}",
        },
    }
    resp = await bot.slack_post(json.dumps(body), content_type="application/json")
    assert resp.status == 200


async def slack_start(bot, fake_slack, text: str) -> tuple[str, str, dict]:
    before = len(posts(fake_slack))
    await bot.slash("/compromised", text, user="UREP", channel=CHANNEL)
    await fake_slack.wait_for(lambda s: len(posts(s)) > before)
    card = posts(fake_slack)[before]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    return incident_id, await card_of(bot, incident_id), card


async def slack_answer(bot, fake_slack, incident_id: str, ts: str, *answers: str) -> None:
    for a in answers:
        n = len(fake_slack.api_calls("chat.update"))
        await bot.click(
            "incident:triage", f"{incident_id}|{a}", user="UREP", channel=CHANNEL, message_ts=ts
        )
        await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n)


async def test_slack_free_text_start_fills_in_platform_and_account(bot, fake_slack):
    incident_id, _, card = await slack_start(bot, fake_slack, "we've been hacked on X, @dhsc")
    inc = await store(bot).get(incident_id)
    assert (inc.platform, inc.account, inc.triage_step) == ("x", "@dhsc", "symptoms")
    assert "Question 2 of 5. What is happening?" in card_text(card["blocks"])
    assert "In their words: “we've been hacked on”" in await timeline(bot, incident_id)
    # A single mistyped sub-command is not an incident: it gets a suggestion.
    await bot.slash("/compromised", "stauts", user="UREP", channel=CHANNEL)
    (reply,) = await fake_slack.wait_for(lambda s: s.responses())
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("Did you mean /compromised status?")
    assert await store(bot).get(incident_id.replace("0001", "0002")) is None


async def test_slack_mention_saying_hacked_offers_to_start(bot, fake_slack):
    await slack_mention(bot, "help, our Facebook page was taken over")
    (offer,) = await fake_slack.wait_for(lambda s: posts(s))
    assert offer["channel"] == CHANNEL and "Report it now" in card_text(offer["blocks"])
    assert "report the account on Facebook" in offer["text"]
    (value,) = buttons(offer["blocks"], "incident:offer")
    assert value == "facebook|"
    for _ in range(2):  # a double click starts one incident
        await bot.click("incident:offer", value, user="UREP", channel=CHANNEL, message_ts="9.1")
    await fake_slack.wait_for(lambda s: len(posts(s)) > 1)
    await bot.slash("/compromised", "status", user="UREP", channel=CHANNEL)  # a barrier
    await fake_slack.wait_for(lambda s: [r for r in s.responses() if "SEC-" in r["text"]])
    (inc,) = await store(bot).open_incidents()
    assert inc.platform == "facebook" and inc.triage_step == "symptoms"
    assert len([p for p in posts(fake_slack) if inc.id in p["text"]]) == 1
    spent = await fake_slack.wait_for(
        lambda s: [u for u in s.api_calls("chat.update") if f"Report {inc.id} started" in u["text"]]
    )
    assert spent[0]["ts"] == "9.1"  # the offer itself, its button gone


async def test_slack_mistyped_commands_get_did_you_mean(bot, fake_slack):
    for typed in ("comprimised", "compromise", "hacked"):
        await bot.slash("/secbot", typed, user="UREP", channel=CHANNEL)
    replies = await fake_slack.wait_for(lambda s: s.responses() if len(s.responses()) >= 3 else [])
    for reply in replies:
        assert "Did you mean /compromised?" in reply["text"]
        assert "Type help" in reply["text"]
    await bot.slash("/secbot", "frobnicate", user="UREP", channel=CHANNEL)
    last = await fake_slack.wait_for(lambda s: s.responses() if len(s.responses()) >= 4 else [])
    assert "Did you mean" not in last[-1]["text"]  # nothing close: no guess


async def test_slack_not_sure_everywhere_is_treated_cautiously(bot, fake_slack):
    incident_id, ts, card = await slack_start(bot, fake_slack, "")
    assert "Not sure" in card_text(card["blocks"])
    await slack_answer(
        bot, fake_slack, incident_id, ts,
        "platform|unsure", "symptoms|unsure", "access|unsure", "harmful|unsure", "personal|unsure",
    )  # fmt: skip
    inc = await store(bot).get(incident_id)
    assert (inc.platform, inc.symptoms) == ("unsure", ("unsure",))
    assert (inc.access, inc.harmful, inc.personal_data) == ("unsure", "unsure", "unsure")
    assert inc.severity == 1 and inc.kind == "hijack"  # not sure we can log in: locked out
    final = fake_slack.api_calls("chat.update")[-1]
    assert "Not sure what is happening" in card_text(final["blocks"])
    assert "personal data may have been exposed" in card_text(final["blocks"])
    ids = [s.step_id for s in await store(bot).steps.all(incident_id)]
    assert "recover-route" in ids  # the locked-out route is on the checklist


# --- Teams ----------------------------------------------------------------------------


def teams_cards(activities: list[dict]) -> list[dict]:
    return [
        a["attachments"][0]["content"]
        for a in activities
        if a.get("attachments") and a["attachments"][0].get("contentType", "").endswith("adaptive")
    ]


async def test_teams_free_text_start_and_impersonation(bot, fake_connector, fake_pd):
    await bot.teams_say(
        "compromised someone made a fake twitter account pretending to be @dept_news",
        mention=True,
        aad="aad-rep",
    )
    (card,) = teams_cards(await fake_connector.wait_for(lambda s: s.sent()))
    incident_id = buttons(card, "incident:triage")[0].split("|")[0]
    inc = await store(bot).get(incident_id)
    assert (inc.platform, inc.account) == ("x", "@dept_news")
    for a in ("symptoms|impersonation:on", "symptoms|next"):
        await bot.teams_click(
            "incident:triage", f"{incident_id}|{a}", reply_to_id=inc.card_id, aad="aad-rep"
        )
    asked = [u for u in fake_connector.updates() if u.get("id") == inc.card_id][-1]
    assert "our own account (not the fake one)" in card_text(asked)
    for a in ("access|yes", "harmful|no", "personal|no"):
        await bot.teams_click(
            "incident:triage", f"{incident_id}|{a}", reply_to_id=inc.card_id, aad="aad-rep"
        )
    inc = await store(bot).get(incident_id)
    assert (inc.kind, inc.severity) == ("impersonation", 3)  # a fake account alone is not 1
    final = [u for u in fake_connector.updates() if u.get("id") == inc.card_id][-1]
    assert "A fake account is pretending to be ours" in card_text(final)
    from incidents.triage import Facts

    expected = desk(bot).playbooks.steps_for(
        Facts("x", "impersonation", frozenset({"impersonation"}), "yes", "no", "no",
              frozenset(), 3)
    )  # fmt: skip
    steps = await store(bot).steps.all(incident_id)
    assert [s.step_id for s in steps] == [s.id for s in expected]
    assert "recover-impersonation" in [s.step_id for s in steps]
    (trigger,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
    assert "A fake account is pretending to be ours." in trigger["payload"]["summary"]


async def test_teams_message_saying_hacked_offers_to_start(bot, fake_connector):
    await bot.teams_say("I think our LinkedIn has been hacked", personal=True, aad="aad-rep")
    (offer,) = teams_cards(await fake_connector.wait_for(lambda s: s.sent()))
    (value,) = buttons(offer, "incident:offer")
    assert value == "linkedin|"
    n = len(fake_connector.sent())
    await bot.teams_click("incident:offer", value, personal=True, aad="aad-rep")
    sent = await fake_connector.wait_for(lambda s: s.sent()[n:])
    (card,) = teams_cards(sent)
    assert "LinkedIn" in card_text(card) and "Question 2 of 5" in card_text(card)


async def test_teams_mistyped_command_gets_did_you_mean(bot, fake_connector):
    await bot.teams_say("comprimised", personal=True, aad="aad-rep")
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert "Did you mean compromised?" in json.dumps(sent[-1])
    n = len(sent)
    await bot.teams_say("compromise", mention=True, aad="aad-rep")
    sent = await fake_connector.wait_for(lambda s: s.sent()[n:])
    assert "Did you mean @secbot compromised?" in json.dumps(sent[-1])


async def test_teams_personal_data_question_adds_caution(bot, fake_connector):
    await bot.teams_say("compromised instagram @dept", personal=True, aad="aad-rep")
    (card,) = teams_cards(await fake_connector.wait_for(lambda s: s.sent()))
    incident_id = buttons(card, "incident:triage")[0].split("|")[0]
    card_id = await card_of(bot, incident_id)
    answers = ("symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|no")
    for a in answers:
        await bot.teams_click(
            "incident:triage", f"{incident_id}|{a}", reply_to_id=card_id, personal=True,
            aad="aad-rep",
        )  # fmt: skip
    asked = [u for u in fake_connector.updates() if u.get("id") == card_id][-1]
    assert "Question 5 of 5. Could someone else have read the account's direct messages" in (
        card_text(asked)
    )
    assert [v.split("|")[-1] for v in buttons(asked, "incident:triage")] == ["yes", "no", "unsure"]
    await bot.teams_click(
        "incident:triage", f"{incident_id}|personal|yes", reply_to_id=card_id, personal=True,
        aad="aad-rep",
    )  # fmt: skip
    inc = await store(bot).get(incident_id)
    assert inc.personal_data == "yes" and inc.severity == 2  # rogue posts alone would be 4
    assert "Direct messages or personal data exposed: Yes. Triage done: severity 2" in (
        await timeline(bot, incident_id)
    )


# --- Web chat --------------------------------------------------------------------------


async def web_say(bot, text: str) -> list[dict]:
    status, body = await bot.web_send(user=WEB_USER, text=text)
    assert status == 200 and body["ok"]
    return await bot.web_messages(user=WEB_USER)


async def web_click(bot, action: str, value: str, message_id) -> list[dict]:
    status, body = await bot.web_send(
        user=WEB_USER,
        action={"action_id": action, "value": value, "message_id": str(message_id)},
    )
    assert status == 200 and body["ok"]
    return await bot.web_messages(user=WEB_USER)


async def web_triage(bot, start: str, *answers: str) -> str:
    card = (await web_say(bot, start))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for a in answers:
        await web_click(bot, "incident:triage", f"{incident_id}|{a}", card["id"])
    return incident_id


async def test_web_free_text_offer_and_did_you_mean(bot):
    card = (await web_say(bot, "compromised our facebook page was taken over"))[-1]
    assert "Facebook" in card_text(card["blocks"]) and "Question 2 of 5" in card_text(card)
    mine = await web_say(bot, "/compromise")
    assert mine[-1]["private"] and "Did you mean compromised?" in mine[-1]["text"]
    mine = await web_say(bot, "comprimised")
    assert "Did you mean compromised?" in mine[-1]["text"]
    offer = (await web_say(bot, "we've been hacked on twitter, @dhsc"))[-1]
    assert not offer["private"] and "Report it now" in card_text(offer["blocks"])
    assert "report the account on X and get it back" in offer["text"]
    (value,) = buttons(offer["blocks"], "incident:offer")
    messages = await web_click(bot, "incident:offer", value, offer["id"])
    card = messages[-1]
    spent = next(m for m in messages if m["id"] == offer["id"])
    assert "started" in spent["text"] and not buttons(spent["blocks"], "incident:offer")
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    inc = await store(bot).get(incident_id)
    assert (inc.platform, inc.account) == ("x", "@dhsc")
    plain = await web_say(bot, "hello there")
    assert "Report it now" not in card_text(plain[-1])  # only hacked words get the offer


async def test_web_not_sure_answers_and_harmful_impersonation(bot):
    # A fake account spreading harmful content: impersonation, and severity 1.
    fake = await web_triage(
        bot, "compromised tiktok @dept", "symptoms|impersonation:on", "symptoms|next",
        "access|yes", "harmful|yes", "personal|no",
    )  # fmt: skip
    inc = await store(bot).get(fake)
    assert (inc.kind, inc.severity) == ("impersonation", 1)
    # Not sure whether harmful content is live: as a confirmed hijack (2), never lower.
    unsure = await web_triage(
        bot, "compromised youtube @dept", "symptoms|impersonation:on", "symptoms|next",
        "access|yes", "harmful|unsure", "personal|no",
    )  # fmt: skip
    inc = await store(bot).get(unsure)
    assert (inc.kind, inc.severity, inc.harmful) == ("impersonation", 2, "unsure")
    # "Next" with nothing picked asks again, mentioning Not sure.
    card = (await web_say(bot, "compromised linkedin @dept"))[-1]
    third = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    mine = await web_click(bot, "incident:triage", f"{third}|symptoms|next", card["id"])
    assert "or press Not sure" in mine[-1]["text"]
    mine = await web_click(bot, "incident:triage", f"{third}|symptoms|unsure", card["id"])
    assert "Question 3 of 5" in card_text(next(m for m in mine if m["id"] == card["id"]))
    assert "What is happening: Not sure what is happening" in await timeline(bot, third)


async def test_web_report_gives_the_answers_as_the_reporter_gave_them(bot):
    """The report says "not sure" where the reporter said so, never a dash, and names the
    kind of incident and the personal data answer."""
    incident_id = await web_triage(
        bot, "compromised youtube @dept", "symptoms|impersonation:on", "symptoms|next",
        "access|yes", "harmful|unsure", "personal|unsure",
    )  # fmt: skip
    md = (await web_say(bot, f"compromised report {incident_id}"))[-1]["attachment"]["content"]
    assert "| Kind | impersonation (a fake account) |" in md
    assert "| Still had admin access | yes |" in md
    assert "| Harmful content live | not sure |" in md
    assert "| Direct messages or personal data exposed | not sure |" in md
