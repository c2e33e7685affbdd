"""A delivery answered in the request (a Teams invoke, the web chat) and resent after its
process died mid-handler is handled, once (issue 13 item 4, issue 14); a copy sent while
the first is still being handled is not handled twice.

The de-duplication middleware (``bot/core/middleware/dedup.py``) claims such a delivery
with a lease while its handler runs and marks it finished afterwards
(``bot/storage/deliveries.py``). A copy that finds the claim finished is a repeat; one that
finds it still held waits a moment, then hears it is still being worked on; one that
finds the lease run out (nobody renews it: the process is gone) takes the claim over.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bot.core.middleware.dedup import WORKING
from bot.settings import load_settings
from bot.storage.deliveries import Claim, DeliveryStore
from incidents.store import IncidentStore
from tests import incident_support
from tests.incident_support import buttons
from tests.support import RunningBot, teams_activity, teams_invoke
from tests.test_instances import Instance, poll, read
from tests.test_instances_kill import LAUNCHER, cluster_env

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

REPORTER = {"aad": "aad-reporter", "name": "Priya Reporter", "user": "29:reporter"}
CHANNEL = "19:resend@thread.tacv2"
HIJACK = ("symptoms|rogue-posts:on", "symptoms|next", "access|no", "harmful|no", "personal|no")


def add_to_timeline(url: str, message_id: str, activity_id: str) -> dict:
    """ "Add to incident timeline" on a message by someone secbot has not named yet (so the
    handler first asks the Bot Connector's roster for their name)."""
    activity = teams_activity(
        service_url=url, conversation=CHANNEL, activity_type="invoke",
        invoke_name="composeExtension/submitAction", activity_id=activity_id, **REPORTER,
    )  # fmt: skip
    activity["value"] = {
        "commandId": "incident.timeline:add",
        "commandContext": "message",
        "data": {},
        "messagePayload": {
            "id": message_id,
            "messageType": "message",
            "createdDateTime": "2026-12-04T10:05:00.000Z",
            "from": {
                "user": {
                    "id": f"aad-author-{message_id}",
                    "displayName": "Sam Author",
                    "userIdentityType": "aadUser",
                }
            },  # fmt: skip
            "body": {"contentType": "text", "content": "The fake account posted again"},
        },
    }
    return activity


def author(message_id: str) -> str:
    """The roster look-up of that message's author, as the fake connector records it."""
    return f"/v3/conversations/{CHANNEL}/members/aad-author-{message_id}"


async def open_incident(remote: RunningBot, db: Path, fake_connector) -> str:
    """``@secbot compromised`` in a Teams channel, triaged to an open incident."""
    n = len(fake_connector.sent())
    status, _ = await remote.teams(teams_activity(
        "compromised x @govuk", service_url=fake_connector.url, conversation=CHANNEL,
        mention=True, **REPORTER,
    ), handled=False)  # fmt: skip
    assert status == 202
    values = await fake_connector.wait_for(lambda s: buttons(s.sent()[n:], "incident:triage"))
    incident_id = values[0].split("|")[0]

    async def card() -> str | None:
        found = await read(db, lambda d: IncidentStore(d).get(incident_id))
        return found.card_id if found else None

    card_id = await poll(card, what="the incident's card")
    for answer in HIJACK:
        status, _ = await remote.teams(teams_invoke(
            "incident:triage", f"{incident_id}|{answer}", service_url=fake_connector.url,
            reply_to_id=card_id, conversation=CHANNEL, **REPORTER,
        ))  # fmt: skip
        assert status == 200
    return incident_id


async def timeline_messages(db: Path, incident_id: str) -> list[str]:
    events = await read(db, lambda d: IncidentStore(d).timeline.events(incident_id))
    return [e.text for e in events if e.kind == "message"]


async def test_a_teams_action_resent_after_its_process_died_mid_handler_is_handled_once(
    tmp_path, fake_slack, fake_connector, fake_pd, botframework, slack_env
):
    env = cluster_env(tmp_path, slack_env, botframework,
                      **incident_support.routing_env(tmp_path, fake_pd.url))  # fmt: skip
    db = Path(env["SECBOT_DB"])
    settings = load_settings(env, env_file=None)
    timeout = aiohttp.ClientTimeout(total=60)
    instances: list[Instance] = []

    async def start(name: str) -> RunningBot:
        inst = Instance(env, tmp_path, name, module=LAUNCHER)
        instances.append(inst)
        health = await poll(lambda: inst.health(session), what=f"{name} starting")
        assert health["database"], health
        return RunningBot(None, None, inst.url, session, settings, fake_slack, fake_connector)  # type: ignore[arg-type]

    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            first = await start("first")
            incident_id = await open_incident(first, db, fake_connector)

            # The handler is waiting for the author's name when its process is killed.
            fake_connector.lookup_gate = asyncio.Event()
            resent = add_to_timeline(fake_connector.url, "1764842700123", "act-resent")
            request = asyncio.create_task(first.teams(resent))
            await fake_connector.wait_for(lambda s: author("1764842700123") in s.lookups())

            key = f"teams:{CHANNEL}:act-resent"
            # Claimed before the handler ran, as every delivery is.
            assert await read(db, lambda d: DeliveryStore(d).seen(key))
            instances[0].proc.kill()
            await asyncio.to_thread(instances[0].proc.wait, 30)
            fake_connector.lookup_gate.set()
            fake_connector.lookup_gate = None
            try:
                await request
                raise AssertionError("the killed instance answered")
            except aiohttp.ClientError:
                pass  # the request died with the process: Teams sends the activity again
            assert await timeline_messages(db, incident_id) == []

            # A new process on the same database; the Bot Framework sends the same activity
            # again. Until the dead claim's lease runs out it hears the delivery is still
            # being worked on; then it is handled.
            second = await start("second")
            answers: list[str] = []

            async def handled() -> bool:
                status, body = await second.teams(resent)
                assert status == 200, body
                answers.append(body["task"]["value"])
                return answers[-1].startswith(f"Added to the {incident_id} timeline")

            await poll(handled, what="the resent activity handled")
            assert set(answers[:-1]) <= {WORKING}, answers
            assert await timeline_messages(db, incident_id) == [
                "Message from Sam Author at Fri 4 Dec 2026, 10:05 GMT:"
                " “The fake account posted again”"
            ]

            # Sent again once handled: a repeat, with no second effect.
            status, body = await second.teams(resent)
            assert status == 200 and body["task"]["value"] == "Done", body
            # A plain double send while the process is alive: handled once.
            fake_connector.lookup_gate = asyncio.Event()
            twice = add_to_timeline(fake_connector.url, "1764842799999", "act-twice")
            both = asyncio.gather(second.teams(twice), second.teams(twice))
            await fake_connector.wait_for(lambda s: author("1764842799999") in s.lookups())
            fake_connector.lookup_gate.set()
            fake_connector.lookup_gate = None
            said = sorted(body["task"]["value"] for status, body in await both)
            # The copy waits a moment for the first; on a slow machine it may hear that the
            # first is still being worked on instead of the plain repeat's "Done".
            assert said[0].startswith("Added to the") and said[1] in ("Done", WORKING), said
            assert len(await timeline_messages(db, incident_id)) == 2
        finally:
            for inst in instances:
                inst.stop()


async def test_a_web_chat_message_whose_claim_ran_out_is_handled_and_one_still_held_is_not(
    running,
):
    """The page sends a message again with the same request id when it got no answer.
    A claim whose lease ran out (the instance that made it is gone) is taken over and
    handled; one another instance still holds is answered as still being worked on."""
    from app import SERVICES

    services = running.app[SERVICES]
    store = DeliveryStore(services.db)
    now = services.clock.now()
    long_ago = now.replace(year=now.year - 1)
    assert await store.begin("web:web-user-1:died1", long_ago, "dead-instance") is Claim.NEW
    assert await store.begin("web:web-user-1:busy1", now, "live-instance") is Claim.NEW

    status, body = await running.web_send(text="help", request_id="died1")
    assert status == 200 and body == {"ok": True}
    answered = [m for m in await running.web_messages() if m["sender"] == "bot"]
    assert len(answered) == 1 and "quiz" in answered[0]["text"]

    status, body = await running.web_send(text="help", request_id="busy1")
    assert status == 200 and body == {"ok": True, "repeat": True}
    said = [m["text"] for m in await running.web_messages() if m["sender"] == "bot"]
    assert said[1:] == [WORKING]

    # The handled one is now finished: a repeat, with no second answer.
    status, body = await running.web_send(text="help", request_id="died1")
    assert status == 200 and body == {"ok": True, "repeat": True}
    assert len([m for m in await running.web_messages() if m["sender"] == "bot"]) == 2
