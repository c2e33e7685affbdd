"""Issue 16 items 4 and 5 end to end in Slack: the "Add to incident timeline" message
shortcut (``message_action``), a file shared in the incident's room fetched with the bot
token and kept with its SHA-256, and a fake account added from the takedown form (input
blocks, read from ``state.values``) and marked removed."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from urllib.parse import urlencode

from tests import incident_support
from tests.incident_support import buttons, desk
from tests.test_incident_natural import slack_answer, slack_start

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
env = incident_support.env
bot = incident_support.bot

CHANNEL = "C0NAT"
IMPERSONATION = ("symptoms|impersonation:on", "symptoms|next", "access|yes", "harmful|no",
                 "personal|no")  # fmt: skip


def shortcut_body(message: dict, *, user: str = "UREP", channel: str = CHANNEL) -> str:
    """A message shortcut, as Slack posts it to the interactivity URL."""
    payload = {
        "type": "message_action",
        "callback_id": "incident.timeline:add",
        "trigger_id": f"{uuid.uuid4().int % 10**10}.{uuid.uuid4().hex[:12]}",
        "action_ts": f"{time.time():.6f}",
        "message_ts": message["ts"],
        "response_url": "",
        "token": "legacy-token-unused",
        "team": {"id": "T111", "domain": "gov"},
        "channel": {"id": channel, "name": "comms"},
        "user": {"id": user, "name": f"user-{user.lower()}", "team_id": "T111"},
        "message": {"type": "message", **message},
    }
    return urlencode({"payload": json.dumps(payload)})


def file_event(files: list[dict], *, user: str = "UREP", channel: str = CHANNEL) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T111",
            "api_app_id": "A111",
            "event_id": f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "subtype": "file_share",
                "user": user,
                "text": "",
                "files": files,
                "channel": channel,
                "channel_type": "group",
                "ts": f"{time.time():.6f}",
            },
        }
    )


async def kinds(bot, incident_id: str) -> list[str]:
    """The timeline's kinds of entry, leaving out paging's: the paging worker records
    those on its own time, so where they fall among the clicks' entries varies."""
    events = await desk(bot).store.timeline.events(incident_id)
    return [e.kind for e in events if not e.kind.startswith("paging")]


async def test_message_shortcut_and_a_shared_file_in_slack(bot, fake_slack):
    fake_slack.users.update({"UREP": "Priya Reporter", "UAUTH": "Sam Author"})
    incident_id, ts, _ = await slack_start(bot, fake_slack, "x @govuk")
    await slack_answer(bot, fake_slack, incident_id, ts, *IMPERSONATION)

    said = {"user": "UAUTH", "ts": "1764842700.000100", "text": "They DMed us from <https://x.com/fake|x.com/fake> *now*"}  # noqa: E501
    before = len(fake_slack.responses())
    resp = await bot.slack_post(
        shortcut_body(said).replace("%22response_url%22%3A+%22%22",
                                    "%22response_url%22%3A+%22" + fake_slack.response_url().replace(":", "%3A").replace("/", "%2F") + "%22")  # noqa: E501
    )
    assert resp.status == 200
    await fake_slack.wait_for(lambda s: len(s.responses()) > before)
    reply = fake_slack.responses()[before]
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(f"Added to the {incident_id} timeline: the message from Sam Author")  # noqa: E501
    events = await desk(bot).store.timeline.events(incident_id)
    event = [e for e in events if not e.kind.startswith("paging")][-1]  # see kinds()
    assert event.kind == "message" and event.actor_name == "Priya Reporter"
    assert event.text.startswith("Message from Sam Author at Thu 4 Dec 2025, 10:05 GMT:")
    assert "“They DMed us from https://x.com/fake *now*”" in event.text
    assert f"(https://gov.slack.com/archives/{CHANNEL}/p1764842700000100)" in event.text

    # A file shared in the incident's room: fetched with the bot token, hashed, kept.
    content = b"%PDF-1.7 takedown evidence" * 40
    fake_slack.files["F0EVID"] = content
    files = [{"id": "F0EVID", "name": "fake-profile.pdf", "size": len(content),
              "url_private_download": fake_slack.file_url("F0EVID")}]  # fmt: skip
    resp = await bot.slack_post(file_event(files), content_type="application/json")
    assert resp.status == 200
    digest = hashlib.sha256(content).hexdigest()

    def noted(s):
        return [p for p in s.api_calls("chat.postMessage") if digest in p.get("text", "")]

    await fake_slack.wait_for(noted)
    (fetch,) = [c for c in fake_slack.calls if c.path == "/files/F0EVID"]
    assert fetch.headers["Authorization"] == "Bearer xoxb-test-token"
    assert (await kinds(bot, incident_id)).count("evidence-file") == 1
    last = (await desk(bot).store.timeline.events(incident_id))[-1]
    assert last.text == f"File fake-profile.pdf (1.0 KB): SHA-256 {digest}"
    assert last.actor_name == "Priya Reporter"
    # The same delivery again (Slack's retry) keeps nothing twice.
    await bot.slack_post(file_event(files), content_type="application/json")
    await bot.slash("/compromised", "status", user="UREP", channel=CHANNEL)
    await fake_slack.wait_for(lambda s: len(s.responses()) > before + 1)
    assert (await kinds(bot, incident_id)).count("evidence-file") == 1


async def test_takedown_form_in_slack(bot, fake_slack):
    incident_id, ts, _ = await slack_start(bot, fake_slack, "x @govuk")
    await slack_answer(bot, fake_slack, incident_id, ts, *IMPERSONATION)
    before = len(fake_slack.api_calls("chat.postMessage"))
    await bot.slash("/compromised", f"takedown {incident_id}", user="UREP", channel=CHANNEL)
    def trackers(s):
        return [
            p for p in s.api_calls("chat.postMessage")[before:]
            if p.get("text", "").startswith("Fake accounts reported")
        ]

    (tracker,) = await fake_slack.wait_for(trackers)
    inputs = [b for b in tracker["blocks"] if b["type"] == "input"]
    assert [b["element"]["action_id"] for b in inputs] == ["url", "platform", "reference",
                                                            "reported"]  # fmt: skip
    (add,) = buttons(tracker["blocks"], "incident.takedown:add")
    # The click carries what was typed in the input blocks (state.values).
    body = incident_support_click_with_state(
        add, {"url": "https://www.instagram.com/fake.dhsc", "reference": "IG-77"}
    )
    n = len(fake_slack.api_calls("chat.update"))
    await bot.slack_post(body)
    await fake_slack.wait_for(lambda s: len(s.api_calls("chat.update")) > n)
    (item,) = await desk(bot).takedowns.items.of(incident_id)
    assert (item.platform, item.url, item.reference) == ("instagram",
                                                         "https://www.instagram.com/fake.dhsc", "IG-77")  # noqa: E501
    redrawn = fake_slack.api_calls("chat.update")[-1]
    status = buttons(redrawn["blocks"], "incident.takedown:status")
    removed = next(v for v in status if v.endswith("|removed"))
    n = len(fake_slack.api_calls("chat.update"))
    await bot.click("incident.takedown:status", removed, user="UREP", channel=CHANNEL)
    await fake_slack.wait_for(lambda s: len(s.api_calls("chat.update")) > n)
    (item,) = await desk(bot).takedowns.items.of(incident_id)
    assert item.status == "removed"
    assert (await kinds(bot, incident_id))[-2:] == ["takedown", "takedown-status"]


def incident_support_click_with_state(value: str, typed: dict[str, str]) -> str:
    """A block_actions click on the Add button, with the inputs' state as Slack sends it."""
    from urllib.parse import parse_qs

    from tests.support import block_actions_body

    raw = block_actions_body("incident.takedown:add", value, user="UREP", channel=CHANNEL)
    payload = json.loads(parse_qs(raw)["payload"][0])
    payload["state"] = {
        "values": {
            f"in{i}": {name: {"type": "plain_text_input", "value": text}}
            for i, (name, text) in enumerate(typed.items())
        }
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_on_two_incidents_the_shortcut_asks_which_privately(bot, fake_slack):
    first, ts1, _ = await slack_start(bot, fake_slack, "x @one")
    second, ts2, _ = await slack_start(bot, fake_slack, "facebook @two")
    said = {"user": "UAUTH", "ts": "1764842800.000200", "text": "Screenshot saved"}
    url = fake_slack.response_url("pick")
    body = shortcut_body(said).replace(
        "%22response_url%22%3A+%22%22",
        "%22response_url%22%3A+%22" + url.replace(":", "%3A").replace("/", "%2F") + "%22",
    )
    before = len(fake_slack.responses())
    await bot.slack_post(body)
    await fake_slack.wait_for(lambda s: len(s.responses()) > before)
    ask = fake_slack.responses()[before]
    assert ask["response_type"] == "ephemeral" and "Which timeline" in ask["text"]
    choices = buttons(ask["blocks"], "incident.timeline:pick")
    assert sorted(v.split("|")[1] for v in choices) == sorted([first, second])
    pick = next(v for v in choices if v.endswith(first))
    await bot.click("incident.timeline:pick", pick, user="UREP", channel=CHANNEL,
                    is_ephemeral=True, response_url=url)  # fmt: skip
    await fake_slack.wait_for(lambda s: len(s.responses()) > before + 1)
    done = fake_slack.responses()[before + 1]
    assert done["replace_original"] is True
    assert done["text"].startswith(f"Added to the {first} timeline")
    assert (await kinds(bot, first))[-1] == "message"
    assert "message" not in await kinds(bot, second)
