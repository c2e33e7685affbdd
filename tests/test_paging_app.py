"""Paging through the real app: the background worker as the app runs it, chat pages
with a working Acknowledge button, and a bot stopped and restarted mid-escalation.

This module is also a feature (``setup`` below): a stand-in for the incident
feature, which calls ``paging_setup`` and handles the ``incident:ack`` button.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import yaml

from app import SERVICES
from bot.core import Turn
from bot.core.clock import FakeClock
from bot.core.features import FeatureHost
from incidents.paging import Pager, RoutingError, paging_setup
from tests.fakes.pagerduty import PATIENCE, RESPONDER, WEBHOOK_SECRET, PagerDutyWebhooks
from tests.support import eventually, start_bot, stop_bot
from tests.test_paging_harness import SECRETS, T0, hook_target, info, pd_target, routing

FEATURES = ["bot.commands.help", "tests.test_paging_app"]


class PagingEvents(list[tuple[str, str]]):
    """What the pager told the incident side, kept for the assertions."""


def setup(host: FeatureHost) -> None:
    pager = paging_setup(host)
    events = PagingEvents()
    host.services.provide(events)

    async def on_event(incident_id: str, text: str) -> None:
        events.append((incident_id, text))

    pager.on_event = on_event

    async def incident_action(turn: Turn) -> None:
        iid = turn.incoming.value
        if not await pager.can_acknowledge(iid, turn.actor.key, turn.services.is_admin(turn.actor)):
            await turn.reply(f"Only the paged team can acknowledge {iid}.", private=True)
            return
        if await pager.acknowledge(iid, turn.actor.key):
            await turn.reply(f"{iid} acknowledged. Paging has stopped.")
        else:
            await turn.reply(f"{iid} was already acknowledged.", private=True)

    host.registry.add_action("incident", incident_action)


def env_for(tmp_path, config: dict, **extra: str) -> dict[str, str]:
    path = tmp_path / "routing.yml"
    path.write_text(yaml.safe_dump(config))
    return {
        "SECBOT_DB": str(tmp_path / "secbot.db"),
        "SECBOT_ROUTING": str(path),
        "SECBOT_ADMINS": "web-admin",
        "SECBOT_MODE": "development",  # the web chat with no sign-in; no platform credentials
        **SECRETS,
        **extra,
    }


def pager_of(bot) -> Pager:
    return bot.app[SERVICES].feature(Pager)


async def test_web_chat_page_acknowledged_with_its_button(tmp_path, pd, hook):
    config = routing(
        {
            "room": {"type": "chat", "platform": "web", "channel": "incidents"},
            "pd": pd_target(pd),
            "hook": hook_target(hook),
        },
        [{"targets": ["room", "pd"], "wait_minutes": 5}, {"targets": ["hook"]}],
    )
    clock = FakeClock(T0)
    bot = await start_bot(env_for(tmp_path, config), clock=clock, features=FEATURES, content=False)
    try:
        pager = pager_of(bot)
        await pager.start(info())

        async def page_in_room():
            msgs = await bot.web_messages(user="duty-officer", conversation="incidents")
            return [m for m in msgs if m["sender"] == "bot"]

        (page,) = await eventually(page_in_room, PATIENCE)
        (actions,) = [b for b in page["blocks"] if b["type"] == "actions"]
        (button,) = actions["buttons"]
        assert (button["label"], button["action_id"], button["value"]) == (
            "Acknowledge",
            "incident:ack",
            "INC-1",
        )
        await pd.wait_for(lambda s: s.events("trigger"))

        click = {"action_id": "incident:ack", "value": "INC-1", "message_id": str(page["id"])}
        await bot.web_send(user="stranger", conversation="incidents", action=click)
        assert await pager.state("INC-1") == "active"  # not in the team, not an admin

        status, _ = await bot.web_send(user="duty-officer", conversation="incidents", action=click)
        assert status == 200
        assert await pager.state("INC-1") == "acknowledged"
        assert await pager.acknowledged_by("INC-1") == "web:duty-officer"
        await pd.wait_for(lambda s: s.events("acknowledge"))

        async def page_updated():
            msgs = await page_in_room()
            mine = [m for m in msgs if m["id"] == page["id"]]
            return mine and "Acknowledged by web:duty-officer" in mine[0]["text"] and mine[0]

        updated = await eventually(page_updated, PATIENCE)
        assert not [b for b in updated["blocks"] if b["type"] == "actions"]  # no button now

        await clock.advance(hours=1)
        await pager.flush()
        assert hook.deliveries == []
        events = [t for _, t in bot.app[SERVICES].feature(PagingEvents)]
        assert any("step 1 of 2: paging room (chat), pd (PagerDuty)" in t for t in events)
    finally:
        await stop_bot(bot)


async def test_acknowledged_in_pagerduty_the_chat_page_says_the_name_pagerduty_gave(tmp_path, pd):
    """Paging keeps the name PagerDuty's webhook gave with the acknowledgement, so the
    chat page it updates names the person even when no other part of the bot knows
    them (here there is no incident desk at all): people see names, not ids."""
    config = routing(
        {"room": {"type": "chat", "platform": "web", "channel": "incidents"}, "pd": pd_target(pd)},
        [{"targets": ["room", "pd"]}],
    )
    env = env_for(tmp_path, config, SECBOT_PAGERDUTY_WEBHOOK_SECRETS=WEBHOOK_SECRET)
    bot = await start_bot(env, clock=FakeClock(T0), features=FEATURES, content=False)
    try:
        pager = pager_of(bot)
        await pager.start(info())
        await pd.wait_for(lambda s: s.events("trigger"))

        async def page_in_room():
            msgs = await bot.web_messages(user="duty-officer", conversation="incidents")
            return [m for m in msgs if m["sender"] == "bot"]

        (page,) = await eventually(page_in_room, PATIENCE)
        status, body = await PagerDutyWebhooks(bot).send(
            PagerDutyWebhooks(bot).event("incident.acknowledged", "INC-1")
        )
        assert (status, body["outcome"]) == (200, "applied")
        assert await pager.acknowledged_by("INC-1") == f"pagerduty:{RESPONDER[0]}"

        async def page_updated():
            await pager.flush()
            mine = [m for m in await page_in_room() if m["id"] == page["id"]]
            return mine and "Acknowledged by" in mine[0]["text"] and mine[0]

        updated = await eventually(page_updated, PATIENCE)
        assert f"Acknowledged by {RESPONDER[1]} at " in updated["text"]
        assert RESPONDER[0] not in updated["text"]
        assert pd.events("acknowledge") == []  # PagerDuty is not told what it told us
    finally:
        await stop_bot(bot)


async def test_slack_page_and_acknowledge_over_http(tmp_path, slack_env, fake_slack, pd):
    config = routing(
        {"duty": {"type": "chat", "platform": "slack", "channel": "CDUTY"}, "pd": pd_target(pd)},
        [{"targets": ["duty", "pd"]}],
        members=["slack:UDUTY"],
    )
    env = {**slack_env, **env_for(tmp_path, config, SECBOT_MODE="production")}
    bot = await start_bot(
        env, clock=FakeClock(T0), slack=fake_slack, features=FEATURES, content=False
    )
    try:
        pager = pager_of(bot)
        await pager.start(info())
        (post,) = await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"))
        assert post["channel"] == "CDUTY"
        buttons = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert [(b["action_id"].split("#")[0], b["value"]) for b in buttons] == [
            ("incident:ack", "INC-1")
        ]
        await pager.flush()
        ts = (await pager.store.pages.all("INC-1"))[0].ref["id"]

        await bot.click("incident:ack", "INC-1", user="UDUTY", channel="CDUTY", message_ts=ts)

        async def check():
            return await pager.state("INC-1") == "acknowledged"

        await eventually(check, PATIENCE)
        (update,) = await fake_slack.wait_for(lambda s: s.api_calls("chat.update"))
        assert update["channel"] == "CDUTY" and update["ts"] == ts
        assert not [b for b in update["blocks"] if b["type"] == "actions"]
        await pd.wait_for(lambda s: s.events("acknowledge"))
    finally:
        await stop_bot(bot)


async def test_restart_mid_escalation_fires_the_next_step_once(tmp_path, pd, hook):
    config = routing(
        {"pd": pd_target(pd), "hook": hook_target(hook)},
        [{"targets": ["pd"], "wait_minutes": 5}, {"targets": ["hook"], "wait_minutes": 5}],
    )
    env = env_for(tmp_path, config)
    first = await start_bot(env, clock=FakeClock(T0), features=FEATURES, content=False)
    try:
        await pager_of(first).start(info())
        await pd.wait_for(lambda s: s.events("trigger"))
        await pager_of(first).flush()
    finally:
        await stop_bot(first)  # the process stops with step 2 due in 5 minutes

    # It comes back 7 minutes later (step 2 is overdue) on the same database.
    second = await start_bot(
        env, clock=FakeClock(T0 + timedelta(minutes=7)), features=FEATURES, content=False
    )
    try:
        await hook.wait_for(lambda s: len(s.deliveries) == 1)  # fired by the worker at start-up
        await pager_of(second).flush()
    finally:
        await stop_bot(second)

    # And once more, later still: nothing is sent again.
    third = await start_bot(
        env, clock=FakeClock(T0 + timedelta(hours=2)), features=FEATURES, content=False
    )
    try:
        pager = pager_of(third)
        await pager.flush()
        assert len(pd.events()) == 1 and len(hook.deliveries) == 1
        pages = [(p.target, p.step, p.status, p.attempts) for p in await pager.pages("INC-1")]
        assert pages == [("pd", 1, "sent", 1), ("hook", 2, "sent", 1)]
        assert await pager.state("INC-1") == "active"
    finally:
        await stop_bot(third)


async def test_killed_while_sending_the_page_is_sent_again_after_restart(tmp_path, pd, hook):
    """At-least-once: a page whose provider call was cut off is resent at start-up;
    PagerDuty's dedup key (the incident id) makes the repeat harmless."""
    config = routing({"pd": pd_target(pd)}, [{"targets": ["pd"]}])
    env = env_for(tmp_path, config)
    pd.hold = asyncio.Event()
    first = await start_bot(env, clock=FakeClock(T0), features=FEATURES, content=False)
    try:
        await pager_of(first).start(info())
        await pd.wait_for(lambda s: s.events("trigger"))  # the call is in the air
    finally:
        await stop_bot(first)
    pd.hold.set()
    pd.hold = None

    second = await start_bot(env, clock=FakeClock(T0), features=FEATURES, content=False)
    try:
        pager = pager_of(second)
        await pd.wait_for(lambda s: len(s.events()) == 2)
        await pager.flush()
        first_event, second_event = pd.events()
        assert first_event["dedup_key"] == second_event["dedup_key"] == "INC-1"
        ((status, attempts),) = [(p.status, p.attempts) for p in await pager.pages("INC-1")]
        assert (status, attempts) == ("sent", 2)
    finally:
        await stop_bot(second)


async def test_drill_through_the_app_pages_only_drill_safe_targets(tmp_path, pd, hook):
    config = routing(
        {"pd": pd_target(pd), "hook": hook_target(hook, drill_safe=True)},
        [{"targets": ["pd", "hook"]}],
    )
    bot = await start_bot(
        env_for(tmp_path, config), clock=FakeClock(T0), features=FEATURES, content=False
    )
    try:
        pager = pager_of(bot)
        await pager.start(info("DRILL-2", drill=True))
        await hook.wait_for(lambda s: len(s.deliveries) == 1)
        await pager.flush()
        assert pd.events() == []
    finally:
        await stop_bot(bot)


async def test_a_bad_routing_file_stops_start_up(tmp_path):
    path = tmp_path / "routing.yml"
    path.write_text("default_team: duty\ntargets: {}\nteams: {}\n")
    env = {"SECBOT_DB": str(tmp_path / "x.db"), "SECBOT_ROUTING": str(path)}
    with pytest.raises(RoutingError, match=r"routing\.yml: targets: "):
        await start_bot(env, features=FEATURES, content=False)
