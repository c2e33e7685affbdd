"""Issue 16 items 4 and 5 end to end in Teams: the message action "Add to incident
timeline" (``composeExtension/submitAction`` with ``messagePayload``), a file attached in
a personal chat where an incident is worked, kept with its SHA-256, and the takedown
form (``Input.Text`` values in the Action.Execute data) with a fake account removed."""

from __future__ import annotations

import hashlib

import pytest

from tests import incident_support
from tests.incident_support import buttons, card_of, desk, routing_env
from tests.support import start_bot, stop_bot, teams_activity

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

REPORTER, STRANGER = "aad-reporter", "aad-stranger"
HIJACK = ("symptoms|rogue-posts:on", "symptoms|next", "access|no", "harmful|no", "personal|no")
IMPERSONATION = ("symptoms|impersonation:on", "symptoms|next", "access|yes", "harmful|no",
                 "personal|no")  # fmt: skip


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path):
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url)}
    running = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    yield running
    await stop_bot(running)


async def start(bot, fake_connector, answers, personal: bool = False) -> str:
    n = len(fake_connector.sent())
    kw = {"personal": True} if personal else {"mention": True}
    await bot.teams_say("compromised x @govuk", aad=REPORTER, name="Priya Reporter", **kw)
    sent = await fake_connector.wait_for(lambda s: s.sent()[n:])
    incident_id = buttons(sent, "incident:triage")[0].split("|")[0]
    card_id = await card_of(bot, incident_id)
    for a in answers:
        status, _ = await bot.teams_click(
            "incident:triage", f"{incident_id}|{a}", reply_to_id=card_id, aad=REPORTER,
            name="Priya Reporter", **({"personal": True} if personal else {}),
        )  # fmt: skip
        assert status == 200
    return incident_id


def message_action(bot, payload: dict, data: dict | None = None, **kw) -> dict:
    activity = teams_activity(
        service_url=bot.connector.url, activity_type="invoke",
        invoke_name="composeExtension/submitAction", aad=REPORTER, name="Priya Reporter", **kw,
    )  # fmt: skip
    activity["value"] = {
        "commandId": "incident.timeline:add",
        "commandContext": "message",
        "data": data or {},
        "messagePayload": payload,
    }
    return activity


PAYLOAD = {
    "id": "1764842700123",
    "messageType": "message",
    "createdDateTime": "2025-12-04T10:05:00.000Z",
    "linkToMessage": "https://teams.microsoft.com/l/message/19:chan@thread.tacv2/1764842700123",
    "from": {"user": {"id": "aad-author", "displayName": "Sam Author",
                      "userIdentityType": "aadUser"}},  # fmt: skip
    "body": {"contentType": "html", "content": "<p>The fake account &amp; its DMs</p>"},
}


async def test_message_action_adds_to_the_timeline(bot, fake_connector):
    incident_id = await start(bot, fake_connector, HIJACK)
    status, body = await bot.teams(message_action(bot, PAYLOAD))
    assert status == 200
    assert body["task"]["type"] == "message"
    assert body["task"]["value"].startswith(
        f"Added to the {incident_id} timeline: the message from Sam Author"
    )
    event = (await desk(bot).store.timeline.events(incident_id))[-1]
    assert event.kind == "message" and event.actor_name == "Priya Reporter"
    assert event.text == (
        "Message from Sam Author at Thu 4 Dec 2025, 10:05 GMT: “The fake account & its DMs”"
        f" ({PAYLOAD['linkToMessage']})"
    )
    # Someone on no incident gets a friendly answer in the dialog.
    activity = message_action(bot, PAYLOAD)
    activity["from"] = {"id": "29:s", "name": "Stranger", "aadObjectId": STRANGER}
    status, body = await bot.teams(activity)
    assert "not on any open incident" in body["task"]["value"]

    # On two incidents: asked which; the form's incident id answers it.
    second = await start(bot, fake_connector, HIJACK)
    other = dict(PAYLOAD, id="1764842799999")
    status, body = await bot.teams(message_action(bot, other))
    assert "type one of these ids in its Incident id box" in body["task"]["value"]
    assert f"{incident_id}: X @govuk" in body["task"]["value"]
    status, body = await bot.teams(message_action(bot, other, {"incident": second.lower()}))
    assert body["task"]["value"].startswith(f"Added to the {second} timeline")
    assert (await desk(bot).store.timeline.events(second))[-1].kind == "message"


async def test_a_file_in_a_personal_chat_incident_is_kept_with_its_hash(bot, fake_connector):
    incident_id = await start(bot, fake_connector, HIJACK, personal=True)
    content = b"evidence of the takeover " * 10
    fake_connector.files["F1"] = content
    activity = teams_activity(service_url=bot.connector.url, personal=True, aad=REPORTER,
                              name="Priya Reporter")  # fmt: skip
    activity["attachments"] = [
        {
            "contentType": "application/vnd.microsoft.teams.file.download.info",
            "contentUrl": "https://contoso.sharepoint.com/personal/x/Documents/login.png",
            "name": "login.png",
            "content": {"downloadUrl": f"{bot.connector.url}files/F1", "uniqueId": "U-F1",
                        "fileType": "png"},  # fmt: skip
        }
    ]
    status, _ = await bot.teams(activity)
    assert status in (200, 201)
    digest = hashlib.sha256(content).hexdigest()
    event = (await desk(bot).store.timeline.events(incident_id))[-1]
    assert event.kind == "evidence-file" and event.actor_name == "Priya Reporter"
    assert event.text == f"File login.png (250 bytes): SHA-256 {digest}"


async def test_takedown_form_in_teams(bot, fake_connector):
    incident_id = await start(bot, fake_connector, IMPERSONATION)
    n = len(fake_connector.sent())
    await bot.teams_say(f"compromised takedown {incident_id}", mention=True, aad=REPORTER)
    sent = await fake_connector.wait_for(lambda s: s.sent()[n:])
    card = sent[-1]["attachments"][0]["content"]
    ids = [b.get("id") for b in card["body"] if b.get("type") == "Input.Text"]
    assert ids == ["url", "platform", "reference", "reported"]
    activity = teams_activity(
        service_url=bot.connector.url, activity_type="invoke", invoke_name="adaptiveCard/action",
        reply_to_id="activity-9", aad=REPORTER,
    )  # fmt: skip
    activity["value"] = {
        "action": {
            "type": "Action.Execute",
            "verb": "incident.takedown:add",
            "data": {"action_id": "incident.takedown:add", "value": incident_id,
                     "url": "https://www.tiktok.com/@fake_dhsc", "platform": "",
                     "reference": "TT-9", "reported": "2025-12-01"},  # fmt: skip
        },
        "trigger": "manual",
    }
    status, _ = await bot.teams(activity)
    assert status == 200
    (item,) = await desk(bot).takedowns.items.of(incident_id)
    assert (item.platform, item.reference, str(item.reported_on)) == ("tiktok", "TT-9",
                                                                       "2025-12-01")  # fmt: skip
    status, _ = await bot.teams_click(
        "incident.takedown:status", f"{incident_id}|{item.id}|refused", aad=REPORTER
    )
    (item,) = await desk(bot).takedowns.items.of(incident_id)
    assert item.status == "refused" and item.chase_at is None
