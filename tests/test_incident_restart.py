"""Nothing is lost across a crash: the bot killed (SIGKILL) in the middle of an
escalation and restarted, and restarts inside the short windows where a triage
or a close was recorded but its paging work was not yet done."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bot.core.clock import FakeClock
from bot.core.model import Actor
from incidents.paging.store import PageStore
from incidents.store import IncidentStore
from incidents.triage import Facts
from tests import incident_support
from tests.fakes.pagerduty import PATIENCE
from tests.incident_support import buttons, desk, pager, routing_env
from tests.support import RunningBot, database_url_for, ready_db, start_bot, stop_bot
from tests.test_paging_harness import free_port

fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack
fake_connector = incident_support.fake_connector

ROOT = Path(__file__).resolve().parents[1]
REPORTER, TEAM = "web-reporter", "web-team"


async def poll(check, timeout: float = 60.0):
    """For state in another process, which can't signal us: look every 50 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


async def outbox(db_path: Path, incident_id: str) -> list[tuple[str, str]]:
    """The pages the other process recorded, read through the paging store."""
    db = await ready_db(db_path)
    try:
        return [(p.target_id, p.status) for p in await PageStore(db).all(incident_id)]
    finally:
        await db.close()


async def triage(bot: RunningBot, start: str, answers: list[str]) -> str:
    status, body = await bot.web_send(user=REPORTER, text=start)
    assert status == 200 and body["ok"], body
    card = (await bot.web_messages(user=REPORTER))[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for answer in answers:
        action = {"action_id": "incident:triage", "value": f"{incident_id}|{answer}",
                  "message_id": str(card["id"])}  # fmt: skip
        status, body = await bot.web_send(user=REPORTER, action=action)
        assert status == 200 and body["ok"], body
    return incident_id


async def test_killed_mid_escalation_the_next_step_fires_once_after_restart(
    tmp_path, fake_pd, fake_slack, fake_connector, content_library
):
    env = {
        "SECBOT_DB": str(tmp_path / "secbot.db"),
        "SECBOT_MODE": "development",  # the web chat with no sign-in; no platform credentials
        **routing_env(tmp_path, fake_pd.url),
    }
    if url := database_url_for(tmp_path / "secbot.db"):  # a PostgreSQL run: the process too
        env["SECBOT_DATABASE_URL"] = url
    port = free_port()
    log = (tmp_path / "bot.log").open("wb")  # a file, not a pipe: a full pipe would block it
    proc = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=tmp_path,  # no stray .env file
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("SECBOT_", "SLACK_"))},
            **env,
            "PYTHONPATH": str(ROOT),
            "HOST": "127.0.0.1",
            "PORT": str(port),
        },
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/"

            async def healthy() -> bool:
                try:
                    async with session.get(url + "healthz") as r:
                        return r.status == 200
                except aiohttp.ClientError:
                    return False

            async def wait_healthy() -> None:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 60
                while not await healthy():
                    assert proc.poll() is None, (tmp_path / "bot.log").read_text()[-2000:]
                    assert loop.time() < deadline, "the bot did not start"
                    await asyncio.sleep(0.1)

            await wait_healthy()
            remote = RunningBot(None, None, url, session, None)  # type: ignore[arg-type]
            incident_id = await triage(
                remote,
                "compromised linkedin @dept",
                [
                    "symptoms|settings-changed:on",
                    "symptoms|next",
                    "access|yes",
                    "harmful|no",
                    "personal|no",
                ],
            )
            (first,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
            assert first["routing_key"] == "duty-routing-key-0001"
            # Step 1 is fully recorded (the trigger and the chat page are sent); step 2
            # is due in five minutes. Kill the process now, with no chance to clean up.
            db = tmp_path / "secbot.db"

            async def recorded():
                return await outbox(db, incident_id) == [("duty-pd", "sent"), ("room", "sent")]

            await poll(recorded)
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        log.close()

    # Restarted (in this process, on the same database) six minutes later: step 2 was
    # due five minutes after step 1, which fired before the kill.
    killed_at = datetime.now(UTC)
    later = FakeClock(killed_at + timedelta(minutes=6))
    second = await start_bot(
        env, clock=later, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        await fake_pd.wait_for(lambda s: len(s.events("trigger")) == 2)  # fired at start-up
        await pager(second).flush()
        await later.advance(minutes=1)
        await pager(second).flush()
    finally:
        await stop_bot(second)

    third = await start_bot(
        env,
        clock=FakeClock(killed_at + timedelta(hours=2)),
        slack=fake_slack,
        connector=fake_connector,
        content=content_library,
    )
    try:
        await pager(third).flush()
        keys = [e["routing_key"] for e in fake_pd.events("trigger")]
        assert keys == ["duty-routing-key-0001", "backup-routing-key-002"]  # each once
        events = [e.text for e in await desk(third).store.timeline.events(incident_id)]
        assert events.count("Escalation step 2 of 2: paging backup-pd (PagerDuty).") == 1
        # The team can still acknowledge after all that.
        card = next(
            m for m in await third.web_messages(user=TEAM) if buttons(m["blocks"], "incident:ack")
        )
        action = {"action_id": "incident:ack", "value": incident_id, "message_id": str(card["id"])}
        await third.web_send(user=TEAM, action=action)
        await fake_pd.wait_for(lambda s: len(s.events("acknowledge")) == 2)
    finally:
        await stop_bot(third)


async def test_a_restart_after_triage_was_recorded_still_pages_and_posts(
    tmp_path, fake_pd, fake_slack, fake_connector, content_library
):
    """The process died just after the last triage answer was saved, before paging."""
    env = {
        "SECBOT_DB": str(tmp_path / "secbot.db"),
        "SECBOT_MODE": "development",  # the web chat with no sign-in; no platform credentials
        **routing_env(tmp_path, fake_pd.url),
    }
    first = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        incident_id = await triage(
            first,
            "compromised x @dept",
            ["symptoms|phished:on", "symptoms|next", "access|yes", "harmful|no"],
        )
        facts = Facts.of("x", ["phished"], 2, harmful="no")
        steps = desk(first).playbooks.steps_for(facts)
    finally:
        await stop_bot(first)
    db = await ready_db(tmp_path / "secbot.db")
    try:
        store = IncidentStore(db)
        assert await store.triage.finish(
            incident_id, facts=facts, steps=steps, actor=Actor("web", REPORTER, "Web User"),
            now=datetime.now(UTC), said="Direct messages or personal data exposed: No",
        )  # fmt: skip
    finally:
        await db.close()

    second = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        (trigger,) = await fake_pd.wait_for(lambda s: s.events("trigger"))
        assert trigger["dedup_key"] == incident_id

        async def finished():
            inc = await desk(second).store.get(incident_id)
            return inc.checklist_id is not None and inc

        inc = await poll(finished, PATIENCE)
        messages = await second.web_messages(user=REPORTER)
        card = next(m for m in messages if str(m["id"]) == inc.card_id)
        assert card["text"].startswith(f"{incident_id}: X account @dept. Severity 2")
        checklists = [m for m in messages if m["text"].startswith(f"{incident_id} checklist")]
        assert len(checklists) == 1
        await pager(second).flush()
    finally:
        await stop_bot(second)

    third = await start_bot(
        env, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        await pager(third).flush()
        messages = await third.web_messages(user=REPORTER)
        assert len([m for m in messages if m["text"].startswith(f"{incident_id} check")]) == 1
        assert len(fake_pd.events("trigger")) == 1  # nothing twice
    finally:
        await stop_bot(third)


async def test_a_restart_after_a_close_was_recorded_still_stops_paging(
    tmp_path, fake_pd, fake_slack, fake_connector, content_library
):
    """The process died just after the close was saved, before PagerDuty heard."""
    env = {
        "SECBOT_DB": str(tmp_path / "secbot.db"),
        "SECBOT_MODE": "development",  # the web chat with no sign-in; no platform credentials
        **routing_env(tmp_path, fake_pd.url),
    }
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    first = await start_bot(
        env, clock=FakeClock(t0), slack=fake_slack, connector=fake_connector,
        content=content_library,
    )  # fmt: skip
    try:
        incident_id = await triage(
            first,
            "compromised x @dept",
            ["symptoms|phished:on", "symptoms|next", "access|yes", "harmful|no", "personal|no"],
        )
        await fake_pd.wait_for(lambda s: s.events("trigger"))
        await pager(first).flush()
        assert await desk(first).store.close(incident_id, "Recovered", t0)
    finally:
        await stop_bot(first)

    clock = FakeClock(t0 + timedelta(minutes=1))
    second = await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector, content=content_library
    )
    try:
        (resolve,) = await fake_pd.wait_for(lambda s: s.events("resolve"))
        assert resolve["dedup_key"] == incident_id
        await clock.advance(hours=1)
        await pager(second).flush()
        assert len(fake_pd.events("trigger")) == 1  # step 2 never fired
        # Closing again says so, and does not resolve twice.
        status, _ = await second.web_send(
            user=REPORTER, text=f"compromised close {incident_id} Recovered"
        )
        assert status == 200
        assert "already closed" in (await second.web_messages(user=REPORTER))[-1]["text"]
        await pager(second).flush()
        assert len(fake_pd.events("resolve")) == 1
    finally:
        await stop_bot(second)
