"""GET /metrics: requests and deliveries by front door and command, the stores read at
scrape time (inbox, dead letters, database, pages, escalations, tips), build info, a
separate port, and no message text or people's ids in any label."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import SERVICES
from bot.core.clock import FakeClock
from bot.storage.inbox import Inbox
from tests.fakes.pagerduty import PATIENCE
from tests.support import eventually, run_app, start_bot, stop_bot
from tests.test_paging_app import FEATURES, env_for, pager_of
from tests.test_paging_harness import T0, info, pd_target, routing

HOST = {"Host": "127.0.0.1"}
SECRET_TEXT = "my-password-is-Tr0ub4dor-and-3"


async def scrape(bot) -> dict[tuple[str, tuple], float]:
    async with bot.session.get(bot.url + "metrics", headers=HOST) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=")
        text = await r.text()
    return samples(text)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict, name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


async def test_requests_and_deliveries_by_front_door_and_command(running):
    await running.slash("/quiz", "", user="U123SECRET", channel="C1")
    await running.slash("/secbot", SECRET_TEXT, user="U123SECRET", channel="C1")
    status, _ = await running.teams_say("help", personal=True)
    assert status in (200, 202)
    status, _ = await running.web_send(text="help")
    assert status == 200

    async def counted():
        found = await scrape(running)
        turns = {
            (dict(k[1])["front_door"], dict(k[1])["command"]): v
            for k, v in found.items()
            if k[0] == "secbot_turns_total"
        }
        want = {("slack", "quiz"), ("teams", "help"), ("web", "help")}
        return want <= set(turns) and (found, turns)

    found, turns = await eventually(counted)
    assert value(found, "secbot_turns_total", front_door="web", command="help", outcome="handled")
    # What was typed after /secbot is never a label: an unknown command is "unknown".
    assert ("slack", "unknown") in turns
    assert value(
        found, "secbot_http_requests_total",
        front_door="web", route="/webchat/api/send", status="200",
    ) >= 1  # fmt: skip
    assert value(found, "secbot_http_requests_total",
                 front_door="slack", route="/slack/events", status="200") >= 2  # fmt: skip
    assert value(found, "secbot_http_request_seconds_count", front_door="teams") >= 1
    assert value(found, "secbot_turn_seconds_count", front_door="slack", command="quiz") >= 1
    assert value(found, "secbot_database_ready") == 1
    assert value(found, "secbot_dead_letters") == 0
    assert ("secbot_database_query_seconds", ()) in found
    (build,) = [k for k in found if k[0] == "secbot_build_info"]
    assert dict(build[1])["version"]

    async with running.session.get(running.url + "metrics", headers=HOST) as r:
        text = await r.text()
    for private in (SECRET_TEXT, "U123SECRET", "C1", "web-user-1", "xoxb-test-token"):
        assert private not in text


async def test_a_missing_route_is_one_label_not_the_path(running):
    async with running.session.get(running.url + "no/such/U999PERSON", headers=HOST) as r:
        assert r.status == 404
    found = await scrape(running)
    assert value(
        found, "secbot_http_requests_total", front_door="other", route="(no route)", status="404"
    ) == 1
    assert not [k for k in found if "U999PERSON" in str(k)]


async def test_inbox_depth_and_age_are_read_from_the_store(running):
    services = running.app[SERVICES]
    kept = Inbox(services.db)
    await kept.add("metrics-test", "event", {"x": 1}, services.clock.now() - timedelta(minutes=7))
    found = await scrape(running)
    assert value(found, "secbot_inbox_depth", source="metrics-test") == 1
    assert value(found, "secbot_inbox_oldest_age_seconds", source="metrics-test") >= 7 * 60


async def test_pages_and_escalation_lag_by_provider(tmp_path, pd):
    config = routing(
        {"pd": pd_target(pd), "room": {"type": "chat", "platform": "web", "channel": "ops"}},
        [{"targets": ["pd"], "wait_minutes": 5}, {"targets": ["room"]}],
    )
    clock = FakeClock(T0)
    bot = await start_bot(env_for(tmp_path, config), clock=clock, features=FEATURES, content=False)
    try:
        pager = pager_of(bot)
        await pager.start(info())
        await pd.wait_for(lambda s: s.events("trigger"))
        await pager.flush()

        async def sent():
            found = await scrape(bot)
            key = ("secbot_pages", (("provider", "pagerduty"), ("status", "sent")))
            return found.get(key) == 1 and found

        found = await eventually(sent, PATIENCE)
        assert value(found, "secbot_escalation_overdue_seconds") == 0
        # Step 2 is due five minutes on. Seven minutes on, before the worker wakes, it is
        # two minutes late; once it fires, the lag says how late it was.
        clock.jump(T0 + timedelta(minutes=7))
        found = await scrape(bot)
        assert value(found, "secbot_escalation_overdue_seconds") == 120
        await clock.advance(seconds=0)

        async def fired():
            found = await scrape(bot)
            return value(found, "secbot_escalation_lag_seconds") >= 120 and found

        found = await eventually(fired, PATIENCE)
        assert value(found, "secbot_escalation_overdue_seconds") == 0
        text = str(found)
        assert "INC-1" not in text and "R0UT1NGKEY" not in text
    finally:
        await stop_bot(bot)


def test_metrics_port_in_use_is_one_line_and_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_app({"SECBOT_MODE": "development", "SECBOT_METRICS_PORT": str(port)}, tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith(f"secbot can't start: SECBOT_METRICS_PORT {port}")
    assert "free port" in lines[-1]


async def test_metrics_on_their_own_port(tmp_path):
    from bot.metrics.web import METRICS, metrics_handler, start_metrics_site

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"SECBOT_MODE": "development", "SECBOT_DB": str(tmp_path / "x.db"),
           "SECBOT_METRICS_PORT": str(port)}  # fmt: skip
    bot = await start_bot(env)
    try:
        async with bot.session.get(bot.url + "metrics", headers=HOST) as r:
            assert r.status == 404  # not on the main port
        handler = metrics_handler(bot.app[METRICS], bot.app[SERVICES].clock)
        runner = await start_metrics_site(handler, "127.0.0.1", port)
        try:
            async with aiohttp.ClientSession() as s, s.get(
                f"http://127.0.0.1:{port}/metrics"
            ) as r:
                assert r.status == 200
                assert "secbot_build_info" in await r.text()
        finally:
            await runner.cleanup()
    finally:
        await stop_bot(bot)


METRICS_TOKEN = "metrics-token-0001-for-prometheus"


async def test_a_metrics_token_keeps_the_figures_from_anyone_without_it(slack_env, caplog):
    """/metrics tells an attacker which teams have accounts with weak 2FA and an incident
    open right now, so a deployment whose PORT faces the internet can ask for a bearer
    token (SECBOT_METRICS_TOKEN), on PORT and on SECBOT_METRICS_PORT alike; the network
    position of the caller grants nothing."""
    from bot.metrics.web import METRICS, metrics_handler, start_metrics_site

    caplog.set_level(logging.INFO)
    bot = await start_bot({**slack_env, "SECBOT_METRICS_TOKEN": METRICS_TOKEN})
    try:
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Basic {METRICS_TOKEN}"},
            {"Authorization": f"Bearer {METRICS_TOKEN}x"},
            {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"},
        ):
            async with bot.session.get(bot.url + "metrics", headers={**HOST, **headers}) as r:
                assert r.status == 401
                assert r.headers["WWW-Authenticate"].startswith("Bearer")
                text = await r.text()
            assert "secbot_" not in text and METRICS_TOKEN not in text
        ok = {**HOST, "Authorization": f"Bearer {METRICS_TOKEN}"}
        async with bot.session.get(bot.url + "metrics", headers=ok) as r:
            assert r.status == 200
            assert "secbot_build_info" in await r.text()

        # The same on a port of its own.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        handler = metrics_handler(bot.app[METRICS], bot.app[SERVICES].clock, METRICS_TOKEN)
        runner = await start_metrics_site(handler, "127.0.0.1", port)
        try:
            async with aiohttp.ClientSession() as client:
                async with client.get(f"http://127.0.0.1:{port}/metrics") as r:
                    assert r.status == 401
                async with client.get(f"http://127.0.0.1:{port}/metrics", headers=ok) as r:
                    assert r.status == 200
        finally:
            await runner.cleanup()
    finally:
        await stop_bot(bot)
    assert "metrics: on PORT, bearer token (SECBOT_METRICS_TOKEN)" in caplog.text
    assert METRICS_TOKEN not in caplog.text


@pytest.mark.parametrize("token", ["short", "sixteen chars ok", "caf\u00e9-token-0001-long"])
def test_a_weak_or_odd_metrics_token_stops_start_up(tmp_path, token):
    env = {"SECBOT_MODE": "development", "SECBOT_DB": str(tmp_path / "x.db"),
           "SECBOT_METRICS_TOKEN": token}  # fmt: skip
    done = run_app(env, tmp_path)
    assert done.returncode == 2
    assert "SECBOT_METRICS_TOKEN" in done.stderr and token not in done.stderr
    assert "Traceback" not in done.stderr
