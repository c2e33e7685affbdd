"""Assigned training in the local web chat, end to end over HTTP: a team lead assigns
the exam to a team, people are reminded on working days (once each, across a restart),
completion comes from the exam record, and the team report comes as a summary and a CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from bot.core.clock import FakeClock
from tests.support import eventually, stop_bot
from tests.training_support import (
    start_training_bot,
    training_of,
    web_bot_messages,
    web_pass_exam,
    web_say,
    write_teams,
)

TEAMS = """
version: 1
teams:
  social-media:
    leads: [web:web-head]
    members:
      - web:web-user-1
      - {id: web:web-user-2, name: Priya Shah}
      - web:web-user-3
      - slack:U0OTHER
  press-office:
    leads: [web:web-user-9]
    members: [web:web-user-9]
"""

# Wed 25 Nov 2026 10:00 (quiz_support.START); due Wed 2 Dec 2026. Reminders at 10:00
# London (GMT): Fri 27 Nov (three working days before), Wed 2 Dec, Thu 3 Dec, Tue 8 Dec
# and Fri 11 Dec.
BEFORE = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
AFTER_1 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def env(slack_env, tmp_path):
    return {**slack_env, "SECBOT_PEOPLE_TEAMS": write_teams(tmp_path, TEAMS)}


def reminders(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages if "ten questions, about ten minutes" in m["text"]]


async def test_a_lead_assigns_people_are_reminded_once_and_the_report_adds_up(
    env, fake_slack, fake_connector
):
    clock = FakeClock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    bot = await start_training_bot(env, clock=clock, slack=fake_slack, connector=fake_connector)
    try:
        # Someone who leads another team can't assign this one, nor name its people.
        refused = await web_say(
            bot, "training assign team social-media by 2026-12-02", "web-user-9"
        )
        assert "only do that for a team you lead" in refused["text"]
        refused = await web_say(bot, "training assign @web-user-1 by 2026-12-02", "web-user-9")
        assert "Only secbot admins can assign the exam to anyone" in refused["text"]
        # Bad dates get a friendly answer and assign nothing.
        bad = await web_say(bot, "training assign team social-media by 31/02/2026", "web-head")
        assert "isn't a date I understand" in bad["text"]
        past = await web_say(bot, "training assign team social-media by 2026-11-01", "web-head")
        assert "has passed already" in past["text"]
        assert await training_of(bot).store.of_team("web:local", "social-media") == []

        done = await web_say(bot, "training assign team social-media by 2026-12-02", "web-head")
        assert "Assigned the security exam to 3 people in social-media" in done["text"]
        assert "Wednesday 2 December 2026" in done["text"]
        assert "1 member is on another chat platform" in done["text"]
        # The same command again (a retry) assigns nobody twice and schedules nothing new.
        again = await web_say(bot, "training assign team social-media by 2026-12-02", "web-head")
        assert "(0 newly)" in again["text"]
        a = await training_of(bot).store.of_person("web:local", "web:web-user-2")
        assert a is not None and a.user_name and "web-user" not in a.user_name
        assert [m for m, _, _ in await training_of(bot).store.nudges(a.id)] == [
            "2026-12-02:before", "2026-12-02:on", "2026-12-02:after-1",
            "2026-12-02:after-2", "2026-12-02:after-3",
        ]  # fmt: skip

        mine = await web_say(bot, "training", "web-user-2")
        assert "due by Wednesday 2 December 2026" in mine["text"]

        # web-user-1 passes before the first reminder, so is never reminded.
        await web_pass_exam(bot, "web-user-1")
        await clock.set(BEFORE)
        for user in ("web-user-2", "web-user-3"):
            await eventually(lambda u=user: _reminded(bot, u, 1))
        assert reminders(await web_bot_messages(bot, "web-user-1")) == []
        text = reminders(await web_bot_messages(bot, "web-user-2"))[0]
        assert "A reminder: please take the security exam by Wednesday 2 December 2026" in text
        assert "Type quiz exam" in text
    finally:
        await stop_bot(bot)

    # A restart after the reminder went out sends it again to nobody. Down over the due
    # date, the day's reminder and the next (the day after) are both due: only the
    # latest is sent, once.
    later = FakeClock(AFTER_1)
    bot = await start_training_bot(env, clock=later, slack=fake_slack, connector=fake_connector)
    try:
        await eventually(lambda: _reminded(bot, "web-user-2", 2))  # before, after-1
        await eventually(lambda: _reminded(bot, "web-user-3", 2))
        texts = reminders(await web_bot_messages(bot, "web-user-2"))
        assert "is now overdue" in texts[-1]
        assert reminders(await web_bot_messages(bot, "web-user-1")) == []

        # web-user-3 passes late (6 of 10 right: a pass is 8, so first a fail, then a pass).
        await web_pass_exam(bot, "web-user-3", right=6)
        await web_pass_exam(bot, "web-user-3", right=9)
        await web_say(bot, "training report social-media", "web-head")
        report = [
            m
            for m in await web_bot_messages(bot, "web-head")
            if m["text"].startswith("Training report for social-media")
        ][-1]
        assert "3 people: 2 passed, 1 overdue, 0 due later, 0 not assigned." in report["text"]
        assert "Overdue: Priya Shah." in report["text"]  # the name the teams file gives
        assert "Weakest principles:" in report["text"] and "Weakest topics:" in report["text"]
        files = [m for m in await web_bot_messages(bot, "web-head") if m.get("attachment")]
        assert files, "the CSV was not sent"
        rows = list(csv.reader(io.StringIO(files[-1]["attachment"]["content"])))
        assert rows[0] == ["Name", "Status", "Due by", "Passed on", "Last score", "Refresher due"]
        by_status = sorted(r[1] for r in rows[1:])
        assert by_status == ["Overdue", "Passed", "Passed"]
        assert ["9/10"] == [r[4] for r in rows[1:] if r[4] == "9/10"]
        assert "web:" not in files[-1]["attachment"]["content"]  # names, not ids

        refused = await web_say(bot, "training report social-media", "web-user-1")
        assert "only do that for a team you lead" in refused["text"]
        await web_say(bot, "training report press-office", "web-admin")
        admin = (await web_bot_messages(bot, "web-admin"))[-2]
        assert "1 person: 0 passed, 0 overdue, 0 due later, 1 not assigned." in admin["text"]
    finally:
        await stop_bot(bot)


async def _reminded(bot, user: str, count: int) -> bool:
    found = reminders(await web_bot_messages(bot, user))
    assert len(found) <= count, found  # never more than due
    return len(found) == count


async def test_reminders_missed_in_downtime_wait_for_working_hours_and_come_once(
    env, fake_slack, fake_connector
):
    clock = FakeClock(datetime(2026, 11, 27, 16, 0, tzinfo=UTC))  # Friday afternoon
    bot = await start_training_bot(env, clock=clock, slack=fake_slack, connector=fake_connector)
    try:
        done = await web_say(bot, "training assign @web-user-7 by 2026-11-30", "web-admin")
        assert "Assigned the security exam to 1 person" in done["text"]
    finally:
        await stop_bot(bot)
    # Down until the small hours of a Saturday a week later: three reminders are due
    # (Monday's, Tuesday's and Friday's), but none goes at night or at the weekend.
    night = FakeClock(datetime(2026, 12, 5, 3, 0, tzinfo=UTC))
    bot = await start_training_bot(env, clock=night, slack=fake_slack, connector=fake_connector)
    try:
        a = await training_of(bot).store.of_person("web:local", "web:web-user-7")
        await night.advance(seconds=120)
        assert all(fired is None for _, _, fired in await training_of(bot).store.nudges(a.id))
        assert reminders(await web_bot_messages(bot, "web-user-7")) == []
        await night.set(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))  # Monday morning
        await eventually(lambda: _reminded(bot, "web-user-7", 1))
        assert "is now overdue" in reminders(await web_bot_messages(bot, "web-user-7"))[0]
        await night.advance(seconds=120)
        assert len(reminders(await web_bot_messages(bot, "web-user-7"))) == 1
    finally:
        await stop_bot(bot)
