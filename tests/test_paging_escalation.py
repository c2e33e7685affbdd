"""Escalation with the real background worker and a FakeClock: timing, repeat,
acknowledge, resolve, retries, fallbacks, drills and duplicate jobs."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.core.clock import FakeClock
from incidents.paging.routing import RoutingError
from tests.fakes.pagerduty import FakePagerDuty
from tests.test_paging_harness import (
    closed_port_url,
    hook_target,
    info,
    pd_target,
    routing,
    start_paging,
)


def two_steps(pd, hook, repeat=0, **kw):
    return routing(
        {"pd": pd_target(pd), "hook": hook_target(hook)},
        [{"targets": ["pd"], "wait_minutes": 5}, {"targets": ["hook"], "wait_minutes": 10}],
        repeat=repeat,
        **kw,
    )


async def test_trigger_reaches_pagerduty_with_the_right_event(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_steps(pd, hook))
    try:
        await h.pager.start(info("INC-7", severity=1))
        (event,) = await pd.wait_for(lambda s: s.events("trigger"))
        assert event["routing_key"] == "R0UT1NGKEY"
        assert event["event_action"] == "trigger"
        assert event["dedup_key"] == "INC-7"
        payload = event["payload"]
        assert payload["severity"] == "critical"
        assert "@ExampleDept" in payload["summary"] and "Password changed" in payload["summary"]
        assert payload["source"] == "x:@ExampleDept"
        details = payload["custom_details"]
        assert details["incident_id"] == "INC-7" and details["escalation_step"] == 1
        assert details["department"] == "Department for Examples"
        await h.pager.flush()
        (page,) = await h.pager.pages("INC-7")
        assert (page.target, page.provider, page.step, page.status, page.attempts) == (
            "pd",
            "pagerduty",
            1,
            "sent",
            1,
        )
        assert page.sent_at == h.clock.now()
        assert any("step 1 of 2: paging pd (PagerDuty)" in t for t in h.texts("INC-7"))
    finally:
        await h.stop()


@pytest.mark.parametrize("severity,expected", [(2, "error"), (3, "warning"), (4, "info")])
async def test_severity_maps_to_pagerduty(tmp_path, pd, hook, severity, expected):
    h = await start_paging(tmp_path, two_steps(pd, hook))
    try:
        await h.pager.start(info(severity=severity))
        (event,) = await pd.wait_for(lambda s: s.events("trigger"))
        assert event["payload"]["severity"] == expected
    finally:
        await h.stop()


async def test_step_two_waits_then_the_chain_repeats_and_stops(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_steps(pd, hook, repeat=1))
    try:
        await h.pager.start(info())
        await pd.wait_for(lambda s: len(s.events()) == 1)

        await h.clock.advance(minutes=4, seconds=59)
        await h.pager.flush()
        assert hook.deliveries == []  # not before wait_minutes

        await h.clock.advance(seconds=2)
        await hook.wait_for(lambda s: len(s.deliveries) == 1)  # the worker fired step 2 itself

        await h.clock.advance(minutes=9)
        await h.pager.flush()
        assert len(pd.events()) == 1
        await h.clock.advance(minutes=1, seconds=1)  # round 2, step 1
        await pd.wait_for(lambda s: len(s.events()) == 2)
        await h.clock.advance(minutes=5, seconds=1)  # round 2, step 2
        await hook.wait_for(lambda s: len(s.deliveries) == 2)

        await h.clock.advance(minutes=10, seconds=1)  # the end of the chain
        await h.pager.flush()
        await h.clock.advance(hours=3)
        await h.pager.flush()
        assert len(pd.events()) == 2 and len(hook.deliveries) == 2
        steps = [(p.target, p.step, p.round) for p in await h.pager.pages("INC-1")]
        assert steps == [("pd", 1, 1), ("hook", 2, 1), ("pd", 1, 2), ("hook", 2, 2)]
        assert all(p.status == "sent" for p in await h.pager.pages("INC-1"))
        assert any("Escalation finished" in t for t in h.texts())
        assert pd.events()[1]["dedup_key"] == "INC-1"
        assert await h.pager.state("INC-1") == "active"  # still acknowledgeable
    finally:
        await h.stop()


async def test_acknowledge_stops_escalation_and_tells_pagerduty(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_steps(pd, hook))
    try:
        await h.pager.start(info())
        await pd.wait_for(lambda s: s.events("trigger"))
        # The send recorded before time jumps: two minutes at once would outrun the
        # lease of a send still being recorded, and another round would send it again.
        await h.pager.flush()
        await h.clock.advance(minutes=2)

        assert await h.pager.can_acknowledge("INC-1", "slack:UDUTY", is_admin=False)
        assert await h.pager.can_acknowledge("INC-1", "web:duty-officer", is_admin=False)
        assert not await h.pager.can_acknowledge("INC-1", "slack:USTRANGER", is_admin=False)
        assert await h.pager.can_acknowledge("INC-1", "slack:USTRANGER", is_admin=True)

        assert await h.pager.acknowledge("INC-1", "slack:UDUTY") is True
        assert await h.pager.acknowledge("INC-1", "web:duty-officer") is False
        (ack,) = await pd.wait_for(lambda s: s.events("acknowledge"))
        assert ack == {
            "routing_key": "R0UT1NGKEY",
            "event_action": "acknowledge",
            "dedup_key": "INC-1",
        }
        assert await h.pager.acknowledged_at("INC-1") == h.clock.now()
        assert await h.pager.acknowledged_by("INC-1") == "slack:UDUTY"

        await h.clock.advance(hours=1)
        await h.pager.flush()
        assert hook.deliveries == []  # step 2 never fired
        assert len(pd.events("trigger")) == 1 and len(pd.events("acknowledge")) == 1
    finally:
        await h.stop()


async def test_resolve_sends_resolve_and_cancels_what_is_left(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_steps(pd, hook))
    try:
        await h.pager.start(info())
        await pd.wait_for(lambda s: s.events("trigger"))
        await h.pager.resolve("INC-1")
        (res,) = await pd.wait_for(lambda s: s.events("resolve"))
        assert res["dedup_key"] == "INC-1" and "payload" not in res
        await h.pager.resolve("INC-1")  # repeating it does nothing more
        assert await h.pager.acknowledge("INC-1", "slack:UDUTY") is False
        await h.clock.advance(hours=1)
        await h.pager.flush()
        assert hook.deliveries == [] and len(pd.events()) == 2
        assert await h.pager.state("INC-1") == "resolved"
        assert [(p.action, p.status) for p in await h.pager.pages("INC-1")] == [
            ("trigger", "sent"),
            ("resolve", "sent"),
        ]
    finally:
        await h.stop()


async def test_acknowledge_then_resolve_sends_both(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_steps(pd, hook))
    try:
        await h.pager.start(info())
        await h.pager.flush()
        await h.pager.acknowledge("INC-1", "slack:UDUTY")
        await h.pager.flush()
        await h.pager.resolve("INC-1")
        await h.pager.flush()
        assert [e["event_action"] for e in pd.events()] == ["trigger", "acknowledge", "resolve"]
    finally:
        await h.stop()


async def test_acknowledged_while_the_page_is_in_flight(tmp_path, pd, hook):
    """The trigger is still being sent when someone acknowledges: PagerDuty still
    gets the acknowledge once the trigger is through."""
    h = await start_paging(tmp_path, two_steps(pd, hook))
    try:
        await h.pager.start(info())
        await pd.wait_for(lambda s: s.events("trigger"))  # received, answer not yet read
        assert await h.pager.acknowledge("INC-1", "slack:UDUTY")
        await pd.wait_for(lambda s: s.events("acknowledge"))
        await h.pager.flush()
        assert [e["event_action"] for e in pd.events()] == ["trigger", "acknowledge"]
    finally:
        await h.stop()


async def test_429_then_202_delivers_one_page_after_a_retry(tmp_path, hook):
    pd = await FakePagerDuty(responses=[429, 202]).start()
    h = await start_paging(tmp_path, two_steps(pd, hook))
    try:
        await h.pager.start(info())
        await pd.wait_for(lambda s: len(s.events()) == 1)
        await h.pager.flush()
        (page,) = await h.pager.pages("INC-1")
        assert (page.status, page.attempts) == ("pending", 1) and "429" in page.detail

        await h.clock.advance(seconds=13)  # backoff: 10 s plus at most 25% jitter
        await pd.wait_for(lambda s: len(s.events()) == 2)
        await h.pager.flush()
        (page,) = await h.pager.pages("INC-1")
        assert (page.status, page.attempts) == ("sent", 2)
        await h.clock.advance(minutes=3)
        await h.pager.flush()
        assert len(pd.events("trigger")) == 2  # the retry, then nothing more
        first, second = pd.events()
        assert first["dedup_key"] == second["dedup_key"] == "INC-1"
        assert first["payload"]["summary"] == second["payload"]["summary"]
        assert not any("Could not page" in t for t in h.texts())
    finally:
        await h.stop()
        await pd.close()


async def test_retry_after_is_honoured(tmp_path, hook):
    pd = await FakePagerDuty(responses=[429, 202]).start()
    pd.retry_after = "60"
    h = await start_paging(tmp_path, two_steps(pd, hook))
    try:
        await h.pager.start(info())
        await pd.wait_for(lambda s: len(s.events()) == 1)
        await h.pager.flush()  # the 429 is recorded at 10:00:00, retry due at 10:01:00
        await h.clock.advance(seconds=30)
        await h.pager.flush()
        assert len(pd.events()) == 1
        await h.clock.advance(seconds=31)
        await pd.wait_for(lambda s: len(s.events()) == 2)
    finally:
        await h.stop()
        await pd.close()


async def _advance_through_retries(h, attempts=4):
    for _ in range(attempts):
        await h.clock.advance(seconds=200)
        await h.pager.flush()


async def test_provider_down_falls_back_and_reports_it(tmp_path, hook):
    config = routing(
        {
            "pd": {
                "type": "pagerduty",
                "routing_key_env": "PD_KEY",
                "base_url": closed_port_url(),
                "fallback": "hook",
            },
            "hook": hook_target(hook),
        },
        [{"targets": ["pd"], "wait_minutes": 30}],
    )
    h = await start_paging(tmp_path, config)
    try:
        await h.pager.start(info())
        await h.pager.flush()
        assert hook.deliveries == []  # retrying PagerDuty first
        await _advance_through_retries(h)
        await hook.wait_for(lambda s: len(s.deliveries) == 1)
        pages = await h.pager.pages("INC-1")
        assert [(p.target, p.status, p.attempts) for p in pages] == [
            ("pd", "failed", 4),
            ("hook", "sent", 1),
        ]
        assert pages[1].fallback_for == "pd" and pages[1].step == 1
        (report,) = [t for t in h.texts() if "Could not page" in t]
        assert "pd (PagerDuty) after 4 attempts" in report
        assert "could not connect" in report and "Trying its fallback hook (webhook)" in report
    finally:
        await h.stop()


async def test_500s_fall_back_and_a_400_falls_back_at_once(tmp_path, hook):
    pd = await FakePagerDuty(responses=[500, 500, 503, 500, 400]).start()
    config = routing(
        {"pd": pd_target(pd, fallback="hook"), "hook": hook_target(hook)},
        [{"targets": ["pd"], "wait_minutes": 30}],
    )
    h = await start_paging(tmp_path, config)
    try:
        await h.pager.start(info())
        await _advance_through_retries(h)
        await hook.wait_for(lambda s: len(s.deliveries) == 1)
        assert len(pd.events()) == 4
        assert any("answered HTTP 500" in t for t in h.texts())

        await h.pager.start(info("INC-2"))  # the next event gets the 400: no retry
        await hook.wait_for(lambda s: len(s.deliveries) == 2)
        assert len(pd.events()) == 5
        (failed, _) = await h.pager.pages("INC-2")
        assert (failed.status, failed.attempts) == ("failed", 1)
        assert "Event object is invalid" in failed.detail
    finally:
        await h.stop()
        await pd.close()


async def test_failure_without_fallback_is_reported(tmp_path):
    refusing = await FakePagerDuty(default=400).start()
    config = routing({"pd": pd_target(refusing)}, [{"targets": ["pd"]}])
    h = await start_paging(tmp_path, config)
    try:
        await h.pager.start(info())
        await h.pager.flush()
        (page,) = await h.pager.pages("INC-1")
        assert page.status == "failed" and "PagerDuty answered HTTP 400" in page.detail
        assert any("No fallback is set up" in t for t in h.texts())
    finally:
        await h.stop()
        await refusing.close()


async def test_a_missing_secret_stops_start_up_naming_the_variable(tmp_path):
    """The routing file names the variable; if it is not set, start-up says which one
    (not the first page, in the middle of an incident)."""
    config = routing(
        {"pd": {"type": "pagerduty", "routing_key_env": "NOT_SET_PD_KEY"}},
        [{"targets": ["pd"]}],
    )
    with pytest.raises(RoutingError) as e:
        await start_paging(tmp_path, config)
    assert "targets.pd.routing_key_env names NOT_SET_PD_KEY, which is not set" in str(e.value)


async def test_a_missing_secret_in_development_fails_only_that_page(tmp_path):
    config = routing(
        {"pd": {"type": "pagerduty", "routing_key_env": "NOT_SET_PD_KEY"}},
        [{"targets": ["pd"]}],
    )
    h = await start_paging(tmp_path, config, env={"SECBOT_MODE": "development"})
    try:
        await h.pager.start(info())
        await h.pager.flush()
        (page,) = await h.pager.pages("INC-1")
        assert page.status == "failed"
        assert "the environment variable NOT_SET_PD_KEY is not set" in page.detail
    finally:
        await h.stop()


async def test_secrets_come_from_settings(tmp_path, pd):
    config = routing({"pd": pd_target(pd, routing_key="${SECBOT_PD_KEY}")}, [{"targets": ["pd"]}])
    h = await start_paging(tmp_path, config, env={"SECBOT_PD_KEY": "from-the-env"})
    try:
        await h.pager.start(info())
        (event,) = await pd.wait_for(lambda s: s.events())
        assert event["routing_key"] == "from-the-env"
    finally:
        await h.stop()


async def test_drill_pages_only_drill_safe_targets(tmp_path, pd, hook):
    config = routing(
        {
            "pd": pd_target(pd),
            "hook": hook_target(hook, drill_safe=True, fallback="pd"),
        },
        [{"targets": ["pd", "hook"], "wait_minutes": 5}, {"targets": ["pd"]}],
    )
    h = await start_paging(tmp_path, config)
    try:
        await h.pager.start(info("DRILL-1", drill=True, summary="DRILL: practice"))
        await hook.wait_for(lambda s: len(s.deliveries) == 1)
        await h.clock.advance(minutes=6)
        await h.pager.flush()
        assert pd.events() == []
        assert [(p.target, p.step, p.status) for p in await h.pager.pages("DRILL-1")] == [
            ("pd", 1, "skipped"),
            ("hook", 1, "sent"),
            ("pd", 2, "skipped"),
        ]
        texts = h.texts("DRILL-1")
        assert any("drill" in t.lower() and "not paging pd" in t for t in texts)
        body = json.loads(hook.deliveries[0].raw)
        assert body["incident"]["drill"] is True and body["text"].startswith("DRILL: ")
        assert "DRILL: DRILL" not in body["text"]
    finally:
        await h.stop()


async def test_drill_fallback_that_is_not_drill_safe_is_skipped(tmp_path, pd):
    config = routing(
        {
            "dead": {
                "type": "webhook",
                "url": closed_port_url(),
                "secret_env": "HOOK_SECRET",
                "drill_safe": True,
                "fallback": "pd",
            },
            "pd": pd_target(pd),
        },
        [{"targets": ["dead"]}],
    )
    h = await start_paging(tmp_path, config)
    try:
        await h.pager.start(info(drill=True))
        await _advance_through_retries(h)
        assert pd.events() == []
        assert [(p.target, p.status) for p in await h.pager.pages("INC-1")] == [
            ("dead", "failed"),
            ("pd", "skipped"),
        ]
        assert any("not drill-safe, so it was skipped" in t for t in h.texts())
    finally:
        await h.stop()


async def test_duplicate_start_and_duplicate_jobs_have_no_second_effect(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_steps(pd, hook), worker=False)
    try:
        await h.pager.start(info())
        await h.pager.start(info())  # a repeated start
        (job,) = await h.pager.store.due_jobs(h.clock.now())
        results = await asyncio.gather(*(h.pager.engine.run_job(job) for _ in range(3)))
        assert sorted(results) == [False, False, True]
        assert await h.pager.engine.run_job(job) is False  # a job marked done never re-runs
        await h.pager.flush()
        assert len(pd.events()) == 1
        assert len(await h.pager.pages("INC-1")) == 1
    finally:
        await h.stop()


async def test_flush_racing_the_worker_sends_each_page_once(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_steps(pd, hook, repeat=2))
    try:
        for n in range(5):
            await h.pager.start(info(f"INC-{n}"))
        await asyncio.gather(h.pager.flush(), h.pager.flush())
        await h.clock.advance(minutes=5, seconds=1)
        await asyncio.gather(h.pager.flush(), h.pager.flush(), h.clock.advance(seconds=1))
        await hook.wait_for(lambda s: len(s.deliveries) == 5)
        await h.pager.flush()
        assert sorted(e["dedup_key"] for e in pd.events()) == [f"INC-{n}" for n in range(5)]
        assert len(hook.deliveries) == 5
    finally:
        await h.stop()


async def test_routing_rules_pick_the_team(tmp_path, pd, hook):
    config = routing(
        {"pd": pd_target(pd), "hook": hook_target(hook)},
        [{"targets": ["pd"]}],
        extra_teams={
            "dfe": {"members": ["slack:UDFE"], "escalation": {"steps": [{"targets": ["hook"]}]}}
        },
        rules=[{"team": "dfe", "department": "department for education", "min_severity": 2}],
    )
    h = await start_paging(tmp_path, config)
    try:
        dfe = info("INC-D", department="Department for Education", severity=1)
        assert h.pager.team_for(dfe).name == "dfe"
        assert h.pager.team_for(info(department="Department for Education", severity=3)).name == (
            "duty"
        )
        await h.pager.start(dfe)
        await hook.wait_for(lambda s: len(s.deliveries) == 1)
        assert await h.pager.can_acknowledge("INC-D", "slack:UDFE", False)
        assert not await h.pager.can_acknowledge("INC-D", "slack:UDUTY", False)
    finally:
        await h.stop()


async def test_config_edits_do_not_change_a_running_incident(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_steps(pd, hook))
    try:
        await h.pager.start(info())
        await pd.wait_for(lambda s: s.events())
        # An admin edits the routing file and the app restarts with a different chain:
        from incidents.paging import load_routing

        (tmp_path / "routing.yml").write_text(
            "default_team: duty\n"
            "targets: {pd: {type: pagerduty, routing_key_env: PD_KEY,"
            " base_url: 'http://127.0.0.1:9'}}\n"
            "teams: {duty: {members: [slack:UOTHER], escalation: {steps: [{targets: [pd]}]}}}\n"
        )
        h.pager.routing = load_routing(tmp_path / "routing.yml")
        await h.clock.advance(minutes=5, seconds=1)
        await hook.wait_for(lambda s: len(s.deliveries) == 1)  # the snapshot's step 2
        assert await h.pager.can_acknowledge("INC-1", "slack:UDUTY", False)
        assert not await h.pager.can_acknowledge("INC-1", "slack:UOTHER", False)
    finally:
        await h.stop()


async def test_on_event_errors_do_not_stop_paging(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_steps(pd, hook))

    async def broken(incident_id, text):
        raise RuntimeError("timeline down")

    h.pager.on_event = broken
    try:
        await h.pager.start(info())
        await pd.wait_for(lambda s: s.events())
        await h.clock.advance(minutes=5, seconds=1)
        await hook.wait_for(lambda s: len(s.deliveries) == 1)
    finally:
        await h.stop()


def two_teams(pd, hook, **major):
    """duty pages PagerDuty, then the webhook; severity 1 goes to "major", whose
    PagerDuty service has its own routing key."""
    return routing(
        {
            "pd": pd_target(pd),
            "hook": hook_target(hook),
            "pd-major": pd_target(pd, routing_key_env="MAJOR_PD_KEY"),
        },
        [{"targets": ["pd"], "wait_minutes": 5}, {"targets": ["hook"], "wait_minutes": 5}],
        extra_teams={
            "major": {
                "members": ["web:head"],
                "escalation": {
                    "steps": [{"targets": ["pd-major"], "wait_minutes": 10}],
                    **major,
                },
            }
        },
        rules=[{"team": "major", "min_severity": 1}],
    )


async def test_raised_severity_pages_the_newly_matched_team(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_teams(pd, hook, repeat=1))
    try:
        await h.pager.start(info(severity=3))
        await pd.wait_for(lambda s: s.events("trigger"))
        await h.pager.flush()  # recorded before time jumps (see the acknowledge test)
        await h.clock.advance(minutes=2)
        assert await h.pager.update(info(severity=1)) == "major"
        (major,) = await pd.wait_for(
            lambda s: [e for e in s.events("trigger") if e["routing_key"] == "MAJ0RKEY"]
        )
        assert major["dedup_key"] == "INC-1" and major["payload"]["severity"] == "critical"
        assert await h.pager.team("INC-1") == "major" and await h.pager.state("INC-1") == "active"
        assert await h.pager.members("INC-1") == ["web:head"]
        assert not await h.pager.can_acknowledge("INC-1", "slack:UDUTY", is_admin=False)
        assert await h.pager.can_acknowledge("INC-1", "web:head", is_admin=False)
        assert await h.pager.update(info(severity=1)) is None  # repeating it does nothing

        await h.clock.advance(minutes=5)
        await h.pager.flush()
        assert hook.deliveries == []  # duty's step 2 was superseded
        await h.clock.advance(minutes=5, seconds=1)  # major's round 2
        await pd.wait_for(lambda s: len(s.events("trigger")) == 3)
        await h.clock.advance(minutes=10, seconds=1)  # the end of major's chain
        await h.pager.flush()
        await h.clock.advance(hours=2)
        await h.pager.flush()
        assert [e["routing_key"] for e in pd.events("trigger")] == [
            "R0UT1NGKEY",
            "MAJ0RKEY",
            "MAJ0RKEY",
        ]
        pages = [(p.target, p.step, p.round, p.team) for p in await h.pager.pages("INC-1")]
        assert pages == [
            ("pd", 1, 1, "duty"),
            ("pd-major", 1, 1, "major"),
            ("pd-major", 1, 2, "major"),
        ]
        texts = h.texts()
        (moved,) = [t for t in texts if t.startswith("Severity raised")]
        assert moved == (
            "Severity raised from 3 (moderate) to 1 (critical): paging team major (1 step)"
            " instead of duty."
            " Only major or an admin can acknowledge now."
        )
        assert any(t.startswith("Escalation step 1 of 1 for team major (round 2 of 2)")
                   for t in texts)  # fmt: skip
        assert any(t.startswith("Escalation finished") for t in texts)

        # Acknowledging tells both PagerDuty services.
        assert await h.pager.acknowledge("INC-1", "web:head")
        await pd.wait_for(lambda s: len(s.events("acknowledge")) == 2)
        assert {e["routing_key"] for e in pd.events("acknowledge")} == {"R0UT1NGKEY", "MAJ0RKEY"}
    finally:
        await h.stop()


async def test_after_an_acknowledge_a_raise_needs_the_new_team_to_acknowledge(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_teams(pd, hook))
    try:
        await h.pager.start(info(severity=2))
        await h.pager.flush()
        assert await h.pager.acknowledge("INC-1", "slack:UDUTY")
        await h.pager.flush()
        assert await h.pager.update(info(severity=1)) == "major"
        assert (
            await h.pager.state("INC-1") == "active"
            and await h.pager.acknowledged_at("INC-1") is None
        )
        await pd.wait_for(lambda s: [e for e in s.events() if e["routing_key"] == "MAJ0RKEY"])
        assert await h.pager.acknowledge("INC-1", "web:head")
        await h.pager.flush()
        # duty's service was told once (at the first acknowledge), major's once now.
        acks = sorted(e["routing_key"] for e in pd.events("acknowledge"))
        assert acks == ["MAJ0RKEY", "R0UT1NGKEY"]
        await h.pager.resolve("INC-1")
        await h.pager.flush()
        assert sorted(e["routing_key"] for e in pd.events("resolve")) == ["MAJ0RKEY", "R0UT1NGKEY"]
        assert await h.pager.update(info(severity=1)) is None  # resolved: nothing happens
    finally:
        await h.stop()


async def test_a_change_that_keeps_the_team_only_updates_later_pages(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_teams(pd, hook))
    try:
        await h.pager.start(info(severity=3))
        await pd.wait_for(lambda s: s.events("trigger"))
        assert await h.pager.update(info(severity=2)) is None  # no rule for 2: same team
        await h.clock.advance(minutes=5, seconds=1)
        (delivery,) = await hook.wait_for(lambda s: s.deliveries)
        body = json.loads(delivery.raw)
        assert body["incident"]["severity"] == 2 and "Severity 2 (high)" in body["text"]
        assert await h.pager.team("INC-1") == "duty"
        assert not any(t.startswith("Severity raised") for t in h.texts())
    finally:
        await h.stop()


async def test_a_lowered_severity_does_not_page_a_lesser_team(tmp_path, pd, hook):
    h = await start_paging(tmp_path, two_teams(pd, hook))
    try:
        await h.pager.start(info(severity=1))
        await pd.wait_for(lambda s: s.events("trigger"))
        assert await h.pager.team("INC-1") == "major"
        assert await h.pager.update(info(severity=3)) is None
        assert await h.pager.team("INC-1") == "major"
        await h.pager.flush()
        assert len(pd.events()) == 1
    finally:
        await h.stop()


async def test_a_restart_after_re_routing_carries_on_with_the_new_chain(tmp_path, pd, hook):
    config = two_teams(pd, hook)
    config["teams"]["major"]["escalation"]["steps"].append({"targets": ["hook"]})
    h = await start_paging(tmp_path, config)
    try:
        await h.pager.start(info(severity=3))
        await h.pager.flush()
        await h.pager.update(info(severity=1))
        await h.pager.flush()
    finally:
        await h.stop()
    # Back 11 minutes later: major's step 2 (the webhook) is due, once.
    from datetime import timedelta

    clock = FakeClock(h.clock.now() + timedelta(minutes=11))
    again = await start_paging(tmp_path, config, clock=clock)
    try:
        await hook.wait_for(lambda s: len(s.deliveries) == 1)
        await again.pager.flush()
        await clock.advance(hours=1)
        await again.pager.flush()
        assert len(hook.deliveries) == 1
        assert [(p.target, p.step, p.team) for p in await again.pager.pages("INC-1")] == [
            ("pd", 1, "duty"),
            ("pd-major", 1, "major"),
            ("hook", 2, "major"),
        ]
    finally:
        await again.stop()
