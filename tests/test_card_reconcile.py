"""Card reconciliation (issue 14 item 6): an incident acknowledged in PagerDuty, its state
saved, and the process killed (SIGKILL) while the card's edit is on its way to Slack.
The instance started next (on the same database) finds the card owed and redraws it from
the saved state, once."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from bot.settings import load_settings
from bot.storage.redraws import Redraws
from incidents.desk.core import CARD
from incidents.store import Incident, IncidentStore
from tests import incident_support
from tests.fakes.pagerduty import PagerDutyWebhooks
from tests.fakes.slack_api import FakeSlack
from tests.incident_support import Patient, buttons, card_text, routing_env
from tests.support import RunningBot, database_url_for, slash_command_body
from tests.test_instances import Instance, poll, read

fake_pd = incident_support.fake_pd
CHANNEL = "C0INC"
TRIAGE = ("platform|facebook", "symptoms|phished:on", "symptoms|next", "access|yes",
          "harmful|no", "personal|no")  # fmt: skip


class GatedSlack(Patient, FakeSlack):
    """Slack whose answers to a gated method wait for the gate; a call whose caller died
    meanwhile never reaches "Slack" (it is not recorded), as with a real kill."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Event] = {}
        self.arrived: list[str] = []
        super().__init__()

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        gate = self.gates.get(method)
        if gate is not None:
            self.arrived.append(method)
            await gate.wait()
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the caller is gone: nothing happened
        return await super().api(request)


@pytest.fixture
async def fake_slack():
    server = await GatedSlack().start()
    yield server
    await server.close()


def card_updates(fake_slack, ts: str) -> list[dict]:
    return [u for u in fake_slack.api_calls("chat.update") if u.get("ts") == ts]


async def test_a_card_edit_lost_in_a_crash_is_made_by_the_next_instance(
    tmp_path, fake_pd, fake_slack, slack_env
):
    db = tmp_path / "shared.db"
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url), "SECBOT_DB": str(db)}
    if url := database_url_for(db):  # the suite's PostgreSQL run: one database for all
        env["SECBOT_DATABASE_URL"] = url
    settings = load_settings(env, env_file=None)
    first = Instance(env, tmp_path, "first")
    second = None
    async with aiohttp.ClientSession() as session:
        try:
            await poll(lambda: first.health(session), what="the first instance")
            remote = RunningBot(None, None, first.url, session, settings, fake_slack)  # type: ignore[arg-type]
            await remote.slack_post(
                slash_command_body("/compromised", "", user="UREP", channel=CHANNEL,
                                   response_url=fake_slack.response_url())
            )  # fmt: skip
            (card,) = await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"))
            incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]

            async def stored() -> Incident | None:
                return await read(db, lambda d: IncidentStore(d).get(incident_id))

            async def card_ts() -> str | None:
                # The incident row is written before its card's ts is: wait for both.
                incident = await stored()
                return incident.card_id if incident else None

            ts = await poll(card_ts, what="the incident's card")
            for answer in TRIAGE:
                n = len(fake_slack.api_calls("chat.update"))
                await remote.click("incident:triage", f"{incident_id}|{answer}", user="UREP",
                                   channel=CHANNEL, message_ts=ts)  # fmt: skip
                await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n)
            await fake_pd.wait_for(lambda s: s.events("trigger"))
            drawn_before = card_text(card_updates(fake_slack, ts)[-1]["blocks"])
            assert "Priya Shah" not in drawn_before

            # Acknowledged in PagerDuty: the state is saved, the card's edit is held at
            # Slack's door, and the process is killed with the edit still in the air.
            fake_slack.gates["chat.update"] = asyncio.Event()
            hook = PagerDutyWebhooks(remote)
            ack = asyncio.ensure_future(hook.send(hook.event("incident.acknowledged", incident_id)))
            await poll(lambda: "chat.update" in fake_slack.arrived, what="the card's edit")
            assert (await stored()).acked_by_name == "Priya Shah"  # the state is saved
            first.proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(first.proc.wait, 30)
            ack.cancel()
            await asyncio.gather(ack, return_exceptions=True)
            fake_slack.gates.pop("chat.update").set()
            await asyncio.sleep(0)
            assert "Priya Shah" not in card_text(card_updates(fake_slack, ts)[-1]["blocks"])

            # The next instance (a restart) brings the card up to date from the database.
            second = Instance(env, tmp_path, "second")
            await poll(lambda: second.health(session), what="the second instance")

            def acked_cards() -> list[dict]:
                return [
                    u for u in card_updates(fake_slack, ts)
                    if "By Priya Shah at" in card_text(u["blocks"])
                ]  # fmt: skip

            (redrawn,) = await poll(acked_cards, what="the card redrawn")
            assert redrawn["channel"] == CHANNEL

            # Brought up to date once: the next round finds nothing owed.
            async def settled() -> bool:
                due = await read(db, lambda d: Redraws(d).due_at(f"{CARD}:{incident_id}"))
                return due is not None and due > datetime.now(UTC) + timedelta(minutes=30)

            await poll(settled, what="nothing owed")
            assert len(acked_cards()) == 1
        finally:
            first.stop()
            if second is not None:
                second.stop()
