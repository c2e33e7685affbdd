"""People's rights and the audit log in the web chat, end to end over loopback HTTP
(issue 18 items 6 and 7): an admin picks a person by name, exports everything secbot
holds about them as a JSON file, erases it after a confirmation, and finds every admin
action (acknowledging and closing for someone else among them) in ``audit`` and its CSV,
with the erased person named only by pseudonym."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests import incident_support
from tests.incident_support import buttons, desk, pager, routing_env, web_close
from tests.support import start_bot, stop_bot
from tests.test_incident_people import (
    NAMES,
    named_web_users,
    next_answer,
    web_click,
    web_incident,
)

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

ADMIN = "web-admin"
PSEUDONYM = re.compile(r"Person [0-9a-f]{6}")


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path):
    env = {
        **slack_env,
        **routing_env(tmp_path, fake_pd.url),
        "SECBOT_WEBCHAT_USERS_FILE": str(named_web_users(tmp_path)),
    }
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


async def say(bot, user: str, text: str, conversation: str = "dm") -> list[dict]:
    status, body = await bot.web_send(user=user, text=text, conversation=conversation)
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user, conversation=conversation)


async def pick(bot, user: str, messages: list[dict], person: str) -> list[dict]:
    """Choose ``person`` in the last message's person picker (the web chat's list)."""
    (picker,) = [b for b in messages[-1]["blocks"] if b.get("field") == "person"]
    assert picker["type"] == "select"
    assert {"label": NAMES[person], "value": person} in picker["choices"]
    act = {
        "action_id": picker["action_id"],
        "value": picker["value"],
        "message_id": str(messages[-1]["id"]),
        "form": {"person": person},
    }
    status, body = await bot.web_send(user=user, action=act, conversation="dm")
    assert status == 200 and body["ok"], body
    return await bot.web_messages(user=user, conversation="dm")


def attachment(messages: list[dict], ending: str) -> tuple[str, str]:
    (found,) = [
        m["attachment"]
        for m in messages
        if m.get("attachment") and m["attachment"]["filename"].endswith(ending)
    ]
    return found["filename"], found["content"]


async def test_export_erase_and_audit_in_the_web_chat(bot, fake_pd):
    # Rosa reports an incident (Priya's team is paged) and talks to secbot.
    incident_id, card_id = await web_incident(bot, "web-reporter")
    await pager(bot).flush()
    await say(bot, "web-reporter", "help")
    await say(bot, "web-reporter", "Rosa was here", conversation="general")
    # An admin, not in the paged team, acknowledges for it, hands Rosa's incident over to
    # Sam, then closes it.
    await web_click(bot, ADMIN, "incident:ack", incident_id, card_id)
    await fake_pd.wait_for(lambda s: s.events("acknowledge"))
    await web_click(bot, ADMIN, "incident.handover", incident_id, card_id,
                    form={"person": "web-helper"})  # fmt: skip
    assert (await desk(bot).store.get(incident_id)).commander_name == "Sam Helper"
    await web_close(bot, incident_id, "Recovered", ADMIN)
    assert not (await desk(bot).store.get(incident_id)).is_open

    # Only admins, and a file of personal data only in a direct conversation.
    refused = await say(bot, "web-team", "export-person")
    assert "Only secbot admins can export or erase" in refused[-1]["text"]
    in_room = await say(bot, ADMIN, "export-person", conversation="general")
    assert "only send it in a direct message" in in_room[-1]["text"]

    # Export: picked by name, a JSON file in the admin's direct conversation.
    messages = await say(bot, ADMIN, "export-person")
    messages = await pick(bot, ADMIN, messages, "web-reporter")
    filename, content = attachment(messages, ".json")
    assert re.fullmatch(r"secbot-person-[0-9a-f]{6}-\d{4}-\d{2}-\d{2}\.json", filename)
    doc = json.loads(content)
    assert doc["person"] == {
        "platform": "web", "workspace": "local", "id": "web-reporter", "name": "Rosa Reporter"
    }  # fmt: skip
    tables = doc["tables"]
    (inc,) = tables["incidents"]["rows"]
    assert inc["id"] == incident_id and inc["reporter_name"] == "Rosa Reporter"
    assert tables["incident_events"]["rows"]  # timeline entries she wrote
    assert tables["incident_people"]["rows"]
    said = [json.loads(r["payload"]).get("text") for r in tables["webchat_messages"]["rows"]]
    assert "help" in said and "Rosa was here" in said
    assert tables["incidents"]["on_erasure"].startswith("kept, with a pseudonym")
    assert "Only secbot admins" not in content

    # Erase: the confirmation says what will go; nothing happens until it is pressed.
    messages = await say(bot, ADMIN, "erase-person")
    messages = await pick(bot, ADMIN, messages, "web-reporter")
    confirm = messages[-1]
    assert confirm["private"] and "cannot be undone" in confirm["text"]
    assert "web chat messages: deleted" in confirm["text"]
    assert "incidents they reported, led or acknowledged: kept, with a pseudonym" in confirm["text"]
    assert (await desk(bot).store.get(incident_id)).reporter == "web:web-reporter"
    assert buttons(confirm["blocks"], "rights:confirm") == ["web-reporter"]
    act = {"action_id": "rights:confirm", "value": "web-reporter",
           "message_id": str(confirm["id"])}  # fmt: skip
    # A forged click from someone who is not an admin does nothing.
    status, _ = await bot.web_send(user="web-team", action=act, conversation="dm")
    assert (await desk(bot).store.get(incident_id)).reporter == "web:web-reporter"
    status, body = await bot.web_send(user=ADMIN, action=act, conversation="dm")
    assert status == 200 and body["ok"], body
    done = await bot.web_messages(user=ADMIN, conversation="dm")
    erased = next(m for m in done if m["id"] == confirm["id"])
    assert erased["text"].startswith("Erased.")
    pseudonym = PSEUDONYM.search(erased["text"]).group(0)

    # The incident keeps its shape, with the pseudonym in Rosa's place everywhere.
    inc = await desk(bot).store.get(incident_id)
    assert inc.reporter.startswith("erased:") and inc.reporter_name == pseudonym
    assert inc.commander_name == "Sam Helper"  # not her: stays
    events = await desk(bot).store.timeline.events(incident_id)
    assert events and not any("Rosa" in e.text or "Rosa" in e.actor_name for e in events)
    assert any(e.actor_name == pseudonym for e in events)
    # Her web chat history is gone; others' messages stay.
    assert await bot.web_messages(user="web-reporter", conversation="dm") == []
    room = await bot.web_messages(user=ADMIN, conversation="general")
    assert not any("Rosa was here" in m["text"] for m in room)
    # Exporting her again finds only what is kept under the pseudonym.
    messages = await say(bot, ADMIN, "export-person")
    messages = await pick(bot, ADMIN, messages, "web-reporter")
    assert "webchat_messages" not in json.loads(attachment(messages[-3:], ".json")[1])["tables"]

    # The audit log: every admin action, who, when (UK time) and which front door; the
    # erased person only by pseudonym.
    listing = (await say(bot, ADMIN, "audit"))[-1]
    text = listing["text"]
    assert listing["private"]
    for action in (
        "acknowledged a page for someone else",
        "handed over someone else's incident",
        "closed someone else's incident",
        "exported a person's data",
        "erased a person's data",
    ):
        assert f"Ada Admin (web:web-admin) via the web chat {action}" in text
    assert f"(about {pseudonym})" in text and "Rosa" not in text
    assert re.search(r"\w{3} \d{1,2} \w{3} \d{4}, \d{2}:\d{2} (GMT|BST)", text)
    assert (
        "Only secbot admins can read the audit log"
        in (await say(bot, "web-team", "audit"))[-1]["text"]
    )

    # Paged: two at a time, then the Older button shows the rest.
    page = (await say(bot, ADMIN, "audit 2"))[-1]
    assert len([b for b in page["blocks"] if b.get("type") == "section"]) == 2
    (older,) = buttons(page["blocks"], "audit:older")
    act = {"action_id": "audit:older", "value": older, "message_id": str(page["id"])}
    status, body = await bot.web_send(user=ADMIN, action=act, conversation="dm")
    assert status == 200 and body["ok"]
    rest = (await bot.web_messages(user=ADMIN, conversation="dm"))[-1]
    assert rest["text"].startswith("Older admin actions")

    # CSV: every entry, plain text, the same words; nothing in chat can change it.
    messages = await say(bot, ADMIN, "audit csv")
    filename, content = attachment(messages, ".csv")
    table = list(csv.reader(io.StringIO(content)))
    assert table[0][:3] == ["When (UK time)", "When (UTC)", "Who"]
    actions = [row[5] for row in table[1:]]
    assert "erased a person's data" in actions and "acknowledged a page for someone else" in actions
    assert all(row[4] == "web" for row in table[1:])
    assert "Rosa" not in content
    for words in ("audit delete 1", "audit edit 1", "audit clear"):
        reply = (await say(bot, ADMIN, words))[-1]
        assert reply["text"].startswith("Type audit for the latest")
    # The export of the log is itself in the log.
    assert "exported the audit log" in (await say(bot, ADMIN, "audit"))[-1]["text"]


async def test_erasure_takes_their_direct_chat_out_of_an_incident_reported_there(bot):
    """Rosa reports from her direct conversation with secbot, ``dm-web-reporter``, which the
    incident keeps as where it came from (its origin, and its room where the web chat
    works it there). Erasing her leaves the incident its shape with her id in neither."""
    me = {"user": "web-reporter", "conversation": "dm"}
    status, _ = await bot.web_send(**me, text="compromised x @govuk")
    assert status == 200
    card = (await bot.web_messages(**me))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    while values := buttons(
        next(m for m in await bot.web_messages(**me) if m["id"] == card["id"])["blocks"],
        "incident:triage",
    ):
        act = {"action_id": "incident:triage", "value": next_answer(values),
               "message_id": str(card["id"])}  # fmt: skip
        status, body = await bot.web_send(**me, action=act)
        assert status == 200 and body["ok"], body
    inc = await desk(bot).store.get(incident_id)
    assert inc.triage_step == "done" and inc.origin.channel == "dm-web-reporter"
    places = [p for p in (inc.origin, inc.room) if p is not None]

    messages = await say(bot, ADMIN, "erase-person")
    confirm = (await pick(bot, ADMIN, messages, "web-reporter"))[-1]
    act = {"action_id": "rights:confirm", "value": "web-reporter",
           "message_id": str(confirm["id"])}  # fmt: skip
    status, body = await bot.web_send(user=ADMIN, action=act, conversation="dm")
    assert status == 200 and body["ok"], body
    done = next(m for m in await bot.web_messages(user=ADMIN, conversation="dm")
                if m["id"] == confirm["id"])  # fmt: skip
    assert done["text"].startswith("Erased."), done["text"]

    inc = await desk(bot).store.get(incident_id)
    assert inc.reporter.startswith("erased:")
    after = [p for p in (inc.origin, inc.room) if p is not None]
    assert len(after) == len(places)  # the incident keeps its shape
    for before, now in zip(places, after, strict=True):
        assert "web-reporter" not in now.to_json()
        if before.channel == "dm-web-reporter":
            assert now.channel == "dm-" + inc.reporter  # the pseudonymous key
        else:
            assert now == before
    # Exporting her again finds no incident: nothing there names her any more.
    messages = await pick(bot, ADMIN, await say(bot, ADMIN, "export-person"), "web-reporter")
    assert "incidents" not in json.loads(attachment(messages[-3:], ".json")[1])["tables"]
