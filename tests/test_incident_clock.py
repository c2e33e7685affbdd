"""The ICO 72-hour clock and status reminders (issue 16 items 2 and 3), end to end over
loopback HTTP in the web chat, Slack and Teams, with a controllable clock: the
deadline on the card, the DPO brought in, reminders at 24, 48 and 66 hours until the
decision, status reminders at the configured interval after acknowledgement until
monitoring, and durable timers that fire once across a restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core.clock import FakeClock
from bot.storage.leases import LEASE_SECONDS
from incidents.clock import ClockStore
from tests import incident_support
from tests.incident_support import ROUTING, buttons, card_of, card_text, desk, routing_env
from tests.support import eventually, ready_db, run_app, start_bot, stop_bot, web_chat_env

fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd
fake_slack = incident_support.fake_slack

REPORTER, TEAM, DPO = "web-reporter", "web-team", "web-user-9"
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # a Friday, GMT
DPO_ROUTING = ROUTING + (
    "data_protection_officer:\n"
    "  name: Dana Protection\n"
    "  people: [slack:UDPO, teams:aad-dpo, web:web-user-9]\n"
)
PERSONAL = ["symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|no"]


async def until(running, incident_id: str, kind: str, count: int = 1) -> None:
    """Wait for the worker (woken by the clock) to have put ``count`` entries of
    ``kind`` on the timeline."""

    async def done() -> bool | None:
        return len(await kinds(running, incident_id, kind)) == count or None

    await eventually(done)


async def kinds(running, incident_id: str, kind: str) -> list[str]:
    events = await desk(running).store.timeline.events(incident_id)
    return [e.text for e in events if e.kind == kind]


async def start(env, clock, fake_slack, fake_connector, content_library):
    return await start_bot(
        env, clock=clock, slack=fake_slack, connector=fake_connector, content=content_library
    )


async def web(running, user: str = REPORTER, conversation: str = "general", **send):
    status, body = await running.web_send(user=user, conversation=conversation, **send)
    assert status == 200 and body["ok"], body
    return await running.web_messages(user=user, conversation=conversation)


async def web_triage(
    running, answers: list[str], start: str = "compromised x @dept"
) -> tuple[str, int]:
    messages = await web(running, text=start)
    card = messages[-1]
    incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
    for a in answers:
        action = {"action_id": "incident:triage", "value": f"{incident_id}|{a}",
                  "message_id": str(card["id"])}  # fmt: skip
        await web(running, action=action)
    return incident_id, card["id"]


def web_env(tmp_path, fake_pd, routing: str = DPO_ROUTING, **extra: str) -> dict[str, str]:
    return {
        **web_chat_env(tmp_path),
        "SECBOT_MODE": "development",
        "SECBOT_DB": str(tmp_path / "secbot.db"),
        **routing_env(tmp_path, fake_pd.url, routing),
        **extra,
    }


async def test_web_personal_data_starts_the_clock_reminds_and_stops_when_reported(
    tmp_path, fake_slack, fake_connector, content_library, fake_pd
):
    clock = FakeClock(T0)
    running = await start(web_env(tmp_path, fake_pd), clock, None, None, content_library)
    try:
        incident_id, card_id = await web_triage(running, [*PERSONAL, "personal|yes"])
        card = next(m for m in await running.web_messages(user=REPORTER) if m["id"] == card_id)
        # The deadline on the card, in Europe/London with the zone, and the two buttons.
        assert "ICO deadline: Mon 7 Dec 2026, 10:00 GMT" in card_text(card["blocks"])
        assert "UK GDPR Article 33" in card_text(card["blocks"])
        assert buttons(card["blocks"], "incident.ico:reported") == [incident_id]
        # The DPO is one of the incident's people and got a direct message.
        people = await desk(running).store.people.all(incident_id)
        assert ("web:web-user-9", "Dana Protection", "dpo") in people
        dm = await running.web_messages(user=DPO, conversation="dm")
        assert any("data protection officer" in m["text"] for m in dm)
        assert await kinds(running, incident_id, "ico_clock")

        for hours, seen in ((24, 1), (48, 2), (66, 3)):
            await clock.set(T0 + timedelta(hours=hours, seconds=1))
            await until(running, incident_id, "ico_reminder", seen)
            dm = await running.web_messages(user=DPO, conversation="dm")
            said = f"{incident_id}: {hours} hours since becoming aware"
            assert sum(said in m["text"] for m in dm) == 1
        reminder = [m for m in await running.web_messages(user=REPORTER)
                    if "66 hours since" in m["text"]][-1]  # fmt: skip
        # The paged team may see it but not record the decision; the commander may.
        action = {"action_id": "incident.ico:reported", "value": incident_id,
                  "message_id": str(reminder["id"])}  # fmt: skip
        said = await web(running, user=TEAM, action=action)
        assert said[-1]["text"].startswith("Only the incident commander")
        assert not await kinds(running, incident_id, "ico_decision")
        said = await web(running, user="web-user-3", action=action)  # not on the incident
        assert said[-1]["text"].startswith(f"I can't find incident {incident_id}")
        await web(running, action=action)
        (decision,) = await kinds(running, incident_id, "ico_decision")
        assert decision.startswith("Reported to the ICO (recorded by")
        card = next(m for m in await running.web_messages(user=REPORTER) if m["id"] == card_id)
        assert "ICO: Reported to the ICO by" in card_text(card["blocks"])
        assert not buttons(card["blocks"], "incident.ico:reported")
        await clock.advance(hours=10)
        await desk(running).reminders.step()
        assert len(await kinds(running, incident_id, "ico_reminder")) == 3

        # The report tells the whole story of the clock, in London time.
        await web(running, text=f"compromised report {incident_id}")
        md = (await running.web_messages(user=REPORTER))[-1]["attachment"]["content"]
        ico = md.split("## ICO decision (personal data breach)\n", 1)[1].split("\n## ", 1)[0]
        assert "Fri 4 Dec 2026, 10:00" in ico and "Mon 7 Dec 2026, 10:00" in ico
        assert "Dana Protection" in ico
        assert "Reported to the ICO" in ico and "Within 72 hours" in ico
        assert "ICO decision: Aware" in md  # the SIRO summary carries it too
    finally:
        await stop_bot(running)


async def test_web_not_reportable_needs_a_reason_typed_in_the_form(
    tmp_path, content_library, fake_pd
):
    clock = FakeClock(T0)
    running = await start(web_env(tmp_path, fake_pd), clock, None, None, content_library)
    try:
        incident_id, card_id = await web_triage(running, [*PERSONAL, "personal|unsure"])
        await clock.set(T0 + timedelta(hours=24, seconds=1))
        await until(running, incident_id, "ico_reminder")
        # The DPO answers from their own direct message: the form asks for the reason.
        dm = await running.web_messages(user=DPO, conversation="dm")
        assess = {"action_id": "incident.ico:assess", "value": incident_id,
                  "message_id": str(dm[-1]["id"])}  # fmt: skip
        messages = await web(running, user=DPO, conversation="dm", action=assess)
        form = messages[-1]
        assert [b for b in form["blocks"] if b["type"] == "input"][0]["name"] == "reason"
        save = {"action_id": "incident.ico:notreportable", "value": incident_id,
                "message_id": str(form["id"]), "form": {"reason": "  "}}  # fmt: skip
        messages = await web(running, user=DPO, conversation="dm", action=save)
        assert "Type the reason" in messages[-1]["text"]
        save["form"] = {"reason": "x" * 301}
        messages = await web(running, user=DPO, conversation="dm", action=save)
        assert "That reason is 301 characters long; the limit is 300" in messages[-1]["text"]
        assert not await kinds(running, incident_id, "ico_decision")
        save["form"] = {"reason": "Only public posts were seen <b>"}
        await web(running, user=DPO, conversation="dm", action=save)
        (decision,) = await kinds(running, incident_id, "ico_decision")
        assert decision.startswith("Assessed as not reportable: Only public posts were seen <b>")
        await clock.set(T0 + timedelta(hours=70))
        await desk(running).reminders.step()
        assert len(await kinds(running, incident_id, "ico_reminder")) == 1  # 48 and 66 never came
    finally:
        await stop_bot(running)


async def test_a_drill_keeps_the_clock_but_never_disturbs_the_real_dpo(
    tmp_path, content_library, fake_pd
):
    running = await start(web_env(tmp_path, fake_pd), FakeClock(T0), None, None, content_library)
    try:
        incident_id, card_id = await web_triage(
            running, [*PERSONAL, "personal|yes"], start="compromised drill x @dept"
        )
        card = next(m for m in await running.web_messages(user=REPORTER) if m["id"] == card_id)
        assert "ICO deadline: Mon 7 Dec 2026, 10:00 GMT" in card_text(card["blocks"])
        assert await running.web_messages(user=DPO, conversation="dm") == []
        assert all(role != "dpo" for *_, role in await desk(running).store.people.all(incident_id))
    finally:
        await stop_bot(running)


async def test_web_status_reminders_after_ack_until_monitoring(tmp_path, content_library, fake_pd):
    clock = FakeClock(T0)
    env = web_env(
        tmp_path,
        fake_pd,
        SECBOT_STATUS_REMINDER_MINUTES_SEV1="20",
        SECBOT_STAKEHOLDER_CHANNEL="stakeholders",
    )
    running = await start(env, clock, None, None, content_library)
    try:
        # Harmful content live: severity 1, so the 20-minute setting applies.
        answers = ["symptoms|rogue-posts:on", "symptoms|next", "access|yes", "harmful|yes",
                   "personal|no"]  # fmt: skip
        incident_id, card_id = await web_triage(running, answers)
        assert (await desk(running).store.get(incident_id)).severity == 1
        await clock.set(T0 + timedelta(hours=2))
        await desk(running).reminders.step()
        assert not await kinds(running, incident_id, "status_reminder")  # not acknowledged yet
        ack = {"action_id": "incident:ack", "value": incident_id, "message_id": str(card_id)}
        await web(running, user=TEAM, action=ack)
        acked = T0 + timedelta(hours=2)
        await clock.set(acked + timedelta(minutes=20, seconds=1))
        await until(running, incident_id, "status_reminder")
        reminder = [m for m in await running.web_messages(user=REPORTER)
                    if "time to post an update" in m["text"]][-1]  # fmt: skip
        open_form = {"action_id": "incident.update:form", "value": incident_id,
                     "message_id": str(reminder["id"])}  # fmt: skip
        form = (await web(running, action=open_form))[-1]
        assert [b for b in form["blocks"] if b["type"] == "input"][0]["name"] == "update"
        # Whoever types it is told it goes wider than the room.
        assert "the incident room, the timeline and the stakeholder channel" in card_text(
            form["blocks"]
        )
        await clock.set(acked + timedelta(minutes=30))
        post = {"action_id": "incident.update:post", "value": incident_id,
                "message_id": str(form["id"]), "form": {"update": "Passwords reset"}}  # fmt: skip
        too_long = {**post, "form": {"update": "y" * 1001}}
        refused = await web(running, action=too_long)
        assert "That update is 1,001 characters long; the limit is 1,000" in refused[-1]["text"]
        messages = await web(running, action=post)
        await web(running, action=post)  # a second click on the same form posts nothing
        assert await kinds(running, incident_id, "status_update") == ["Passwords reset"]
        assert any(m["text"].endswith(": Passwords reset") for m in messages)
        told = await running.web_messages(user=REPORTER, conversation="stakeholders")
        said = f"Update on {incident_id} from Web User: Passwords reset"
        assert [m["text"] for m in told] == [said]
        # The update restarts the wait: nothing at 40 minutes, a reminder at 50.
        await clock.set(acked + timedelta(minutes=40, seconds=1))
        await desk(running).reminders.step()
        assert len(await kinds(running, incident_id, "status_reminder")) == 1
        await clock.set(acked + timedelta(minutes=50, seconds=1))
        await until(running, incident_id, "status_reminder", 2)
        # Every contain and recover step done: monitoring, and the reminders stop.
        for step in await desk(running).store.steps.all(incident_id):
            if step.phase in ("first", "contain", "recover") and step.is_open:
                done = {"action_id": "incident:done", "value": f"{incident_id}|{step.step_id}",
                        "message_id": str(card_id)}  # fmt: skip
                await web(running, user=TEAM, action=done)
        assert (await desk(running).store.get(incident_id)).status == "monitoring"
        await clock.set(acked + timedelta(hours=3))
        await desk(running).reminders.step()
        assert len(await kinds(running, incident_id, "status_reminder")) == 2
    finally:
        await stop_bot(running)


async def test_a_restart_in_the_middle_of_a_pending_reminder_fires_it_once(
    tmp_path, content_library, fake_pd
):
    env = web_env(tmp_path, fake_pd)
    first = await start(env, FakeClock(T0), None, None, content_library)
    try:
        incident_id, _ = await web_triage(first, [*PERSONAL, "personal|yes"])
    finally:
        await stop_bot(first)
    # Down over the 24-hour mark: two processes come up on the same file at once.
    late = T0 + timedelta(hours=25)
    second = await start(env, FakeClock(late), None, None, content_library)
    third = await start(env, FakeClock(late), None, None, content_library)
    try:
        await until(second, incident_id, "ico_reminder")
        await asyncio.gather(desk(second).reminders.step(), desk(third).reminders.step())
        assert len(await kinds(third, incident_id, "ico_reminder")) == 1
        dm = await second.web_messages(user=DPO, conversation="dm")
        assert sum(f"{incident_id}: 24 hours since" in m["text"] for m in dm) == 1
    finally:
        await stop_bot(third)
        await stop_bot(second)


async def test_a_timer_is_claimed_by_one_caller_only_and_retried_after_its_lease(tmp_path):
    db = await ready_db(tmp_path / "t.db")
    store = ClockStore(db)
    assert await store.schedule("SEC-1", "status", "1", T0)
    assert not await store.schedule("SEC-1", "status", "1", T0)  # scheduled once
    claims = await asyncio.gather(*(store.claim_due(T0, f"instance-{i}") for i in range(5)))
    assert sorted(len(c) for c in claims) == [0, 0, 0, 0, 1]  # one caller holds it
    (timer,) = next(c for c in claims if c)
    assert await store.claim_due(T0, "another") == []  # held: nobody else takes it
    # Its holder died before marking it fired: once the lease runs out, another takes it.
    later = T0 + timedelta(seconds=LEASE_SECONDS + 1)
    assert [t.id for t in await store.claim_due(later, "survivor")] == [timer.id]
    await store.done(timer.id, later)
    assert await store.claim_due(later + timedelta(hours=1), "another") == []  # fired once
    assert await store.next_due() is None
    await db.close()


async def test_slack_deadline_dpo_reminder_and_not_reportable(
    slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path
):
    clock = FakeClock(T0)
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url, DPO_ROUTING)}
    running = await start(env, clock, fake_slack, fake_connector, content_library)
    try:
        await running.slash("/compromised", "x @dept", user="UREP", channel="C0INC")
        await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"))
        card = fake_slack.api_calls("chat.postMessage")[0]
        incident_id = buttons(card["blocks"], "incident:triage")[0].split("|")[0]
        ts = await card_of(running, incident_id)
        for a in [*PERSONAL, "personal|yes"]:
            n = len(fake_slack.api_calls("chat.update"))
            await running.click("incident:triage", f"{incident_id}|{a}", user="UREP",
                                channel="C0INC", message_ts=ts)  # fmt: skip
            await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n)
        final = [u for u in fake_slack.api_calls("chat.update") if u["ts"] == ts][-1]
        assert "ICO deadline: Mon 7 Dec 2026, 10:00 GMT" in card_text(final["blocks"])
        await fake_slack.wait_for(
            lambda s: [p for p in s.api_calls("chat.postMessage") if p["channel"] == "UDPO"]
        )
        await clock.set(T0 + timedelta(hours=24, seconds=1))
        await until(running, incident_id, "ico_reminder")
        # "Not reportable" opens the form; the reason comes back in the click's state.
        await running.click("incident.ico:assess", incident_id, user="UREP", channel="C0INC",
                            message_ts=ts)  # fmt: skip
        form = await fake_slack.wait_for(
            lambda s: [r for r in s.responses() if "not reportable" in r.get("text", "")]
        )
        assert any(b["type"] == "input" for b in form[-1]["blocks"])
        await running.click("incident.ico:notreportable", incident_id, user="UREP",
                            channel="C0INC", message_ts="1700000050.000001", is_ephemeral=True,
                            typed={"reason": "No personal data in the messages"})  # fmt: skip
        await until(running, incident_id, "ico_decision")
        assert (
            "No personal data in the messages"
            in (await kinds(running, incident_id, "ico_decision"))[0]
        )
        await clock.set(T0 + timedelta(hours=70))
        await desk(running).reminders.step()
        assert len(await kinds(running, incident_id, "ico_reminder")) == 1
    finally:
        await stop_bot(running)


async def test_teams_deadline_reminder_and_reported(
    slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path
):
    clock = FakeClock(T0)
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url, DPO_ROUTING)}
    running = await start(env, clock, fake_slack, fake_connector, content_library)
    try:
        await running.teams_say("compromised x @dept", mention=True, aad="aad-reporter")
        sent = await fake_connector.wait_for(lambda s: s.sent())
        incident_id = buttons(sent, "incident:triage")[0].split("|")[0]
        card_id = await card_of(running, incident_id)
        for a in [*PERSONAL, "personal|yes"]:
            await running.teams_click("incident:triage", f"{incident_id}|{a}",
                                      reply_to_id=card_id, aad="aad-reporter")  # fmt: skip
        puts = [u for u in fake_connector.updates() if u.get("id") == card_id]
        assert "ICO deadline: Mon 7 Dec 2026, 10:00 GMT" in card_text(puts[-1])
        assert ("teams:aad-dpo", "Dana Protection", "dpo") in await desk(running).store.people.all(
            incident_id
        )
        await clock.set(T0 + timedelta(hours=24, seconds=1))
        await until(running, incident_id, "ico_reminder")
        status, _ = await running.teams_click("incident.ico:reported", incident_id,
                                              reply_to_id=card_id, aad="aad-reporter")  # fmt: skip
        assert status == 200
        (decision,) = await kinds(running, incident_id, "ico_decision")
        assert decision.startswith("Reported to the ICO")
        puts = [u for u in fake_connector.updates() if u.get("id") == card_id]
        assert "ICO: Reported to the ICO by" in card_text(puts[-1])
        await clock.set(T0 + timedelta(hours=70))
        await desk(running).reminders.step()
        assert len(await kinds(running, incident_id, "ico_reminder")) == 1
    finally:
        await stop_bot(running)


def test_a_reminder_setting_that_is_not_a_positive_number_refuses_start(tmp_path):
    for value in ("0", "-5", "soon"):
        proc = run_app({"SECBOT_STATUS_REMINDER_MINUTES": value}, tmp_path)
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [
            "secbot can't start: SECBOT_STATUS_REMINDER_MINUTES must be a whole number"
            f" from 1 to 1440, not {value!r}"
        ]


async def test_people_names_the_dpo_in_words(tmp_path, content_library, fake_pd):
    running = await start(web_env(tmp_path, fake_pd), FakeClock(T0), None, None, content_library)
    try:
        incident_id, _ = await web_triage(running, [*PERSONAL, "personal|yes"])
        said = await web(running, text=f"compromised people {incident_id}")
        assert "Dana Protection (data protection officer)" in said[-1]["text"]
        assert "(dpo)" not in said[-1]["text"]
    finally:
        await stop_bot(running)


async def test_teams_a_second_update_from_the_same_reminder_card_is_posted(
    slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path
):
    # In Teams the form opens on the reminder's own card, so every form from one
    # reminder comes back with that card's id. A new update from it is a new update;
    # only the same words twice (a double click) are posted once.
    clock = FakeClock(T0)
    env = {**slack_env, **routing_env(tmp_path, fake_pd.url, ROUTING)}
    running = await start(env, clock, fake_slack, fake_connector, content_library)
    try:
        await running.teams_say("compromised x @dept", mention=True, aad="aad-reporter")
        sent = await fake_connector.wait_for(lambda s: s.sent())
        incident_id = buttons(sent, "incident:triage")[0].split("|")[0]
        card_id = await card_of(running, incident_id)
        for a in [*PERSONAL, "personal|no"]:
            await running.teams_click("incident:triage", f"{incident_id}|{a}",
                                      reply_to_id=card_id, aad="aad-reporter")  # fmt: skip
        await running.teams_click("incident:ack", incident_id, reply_to_id=card_id,
                                  aad="aad-team")  # fmt: skip
        await clock.set(T0 + timedelta(hours=1, seconds=1))
        await until(running, incident_id, "status_reminder")
        reminder = "activity-reminder"  # the card the reminder was posted as
        for words in ("Passwords reset", "Passwords reset", "The platform has replied"):
            await running.teams_click("incident.update:form", incident_id,
                                      reply_to_id=reminder, aad="aad-reporter")  # fmt: skip
            status, body = await running.teams_click(
                "incident.update:post", incident_id, reply_to_id=reminder,
                aad="aad-reporter", typed={"update": words},
            )  # fmt: skip
            assert status == 200
        assert "Update posted." in card_text(body)
        assert await kinds(running, incident_id, "status_update") == [
            "Passwords reset", "The platform has replied",
        ]  # fmt: skip
    finally:
        await stop_bot(running)


async def test_asking_for_the_ico_clock_again_shows_where_it_stands_with_its_buttons(
    tmp_path, content_library, fake_pd
):
    running = await start(web_env(tmp_path, fake_pd), FakeClock(T0), None, None, content_library)
    try:
        incident_id, _ = await web_triage(running, [*PERSONAL, "personal|no"])
        started = await web(running, text=f"compromised ico {incident_id}")
        assert "the ICO 72-hour clock has started" in started[-1]["text"]
        again = (await web(running, text=f"compromised ico {incident_id}"))[-1]
        assert again["private"]
        assert again["text"].startswith("ICO deadline: Mon 7 Dec 2026, 10:00 GMT.")
        assert "Record the decision: The whole story" not in again["text"]
        assert buttons(again["blocks"], "incident.ico:reported") == [incident_id]
        assert f"compromised report {incident_id}" in card_text(again["blocks"])
    finally:
        await stop_bot(running)
