"""Assigned training's whole loop on Slack and in Teams (issue 19 items 4 and 7), end to
end over HTTP, as tests/test_training_web.py and test_training_xapi.py have it in the
web chat: a lead assigns the exam to a team, one person passes it through the exam's own
buttons (completion comes from the exam record, nothing else to tick), the other is
reminded after the due date that it is overdue, the team report counts both with the
score and the weakest topics, the CSV names them, and the pass reaches a fake learning
record store as an xAPI statement naming the person's account on that platform."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from app import SERVICES
from bot.core.actions import value_parts
from bot.core.clock import FakeClock
from tests.fakes.lrs import FakeLrs
from tests.incident_support import card_text
from tests.quiz_support import button_values, card_values, session_choice
from tests.support import stop_bot
from tests.training_support import start_people_bot, write_teams

SLACK_TEAMS = """
version: 1
teams:
  social-media:
    leads: [slack:ULEAD]
    members: [slack:UANN, slack:UBOB]
"""
TEAMS_TEAMS = """
version: 1
teams:
  social-media:
    leads: [teams:aad-lead]
    members: [teams:aad-ann, teams:aad-bob]
"""
ASSIGNED = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday, before 10:00
PASSED = ASSIGNED + timedelta(minutes=5)
OVERDUE = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # the working day after the due date
ASSIGN = "training assign team social-media by 2026-12-02"


@pytest.fixture
async def lrs():
    fake = await FakeLrs().start()
    yield fake
    await fake.close()


async def _bot(slack_env, fake_slack, fake_connector, lrs, tmp_path, teams: str):
    env = {
        **slack_env,
        "SECBOT_PEOPLE_TEAMS": write_teams(tmp_path, teams),
        "SECBOT_LRS_URL": lrs.endpoint,
        "SECBOT_LRS_USERNAME": "lrs-key",
        "SECBOT_LRS_PASSWORD": "lrs-secret",
    }
    clock = FakeClock(ASSIGNED)
    return await start_people_bot(env, clock=clock, slack=fake_slack, connector=fake_connector)


@pytest.fixture
async def slack_bot(slack_env, fake_slack, fake_connector, lrs, tmp_path):
    fake_slack.users.update({"UANN": "Ann Editor", "UBOB": "Bob Writer", "ULEAD": "Lee Lead",
                             "UCAR": "Cat Agency"})  # fmt: skip
    bot = await _bot(slack_env, fake_slack, fake_connector, lrs, tmp_path, SLACK_TEAMS)
    yield bot
    await stop_bot(bot)


@pytest.fixture
async def teams_bot(slack_env, fake_slack, fake_connector, lrs, tmp_path):
    fake_connector.members.update(
        {"aad-ann": "Ann Editor", "aad-bob": "Bob Writer", "aad-lead": "Lee Lead"}
    )
    bot = await _bot(slack_env, fake_slack, fake_connector, lrs, tmp_path, TEAMS_TEAMS)
    yield bot
    await stop_bot(bot)


def _blocks(body: dict) -> list[dict]:
    blocks = body.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _to(fake_slack, channel: str, words: str) -> list[dict]:
    return [
        c for c in fake_slack.api_calls("chat.postMessage")
        if c.get("channel") == channel and words in (c.get("text") or "")
    ]  # fmt: skip


async def _slack_exam(bot, fake_slack, user: str, channel: str, right: int) -> str:
    """The exam in a Slack direct chat, clicking its buttons; the final words."""
    await bot.slash("/quiz", "exam", user=user, channel=channel)
    (first,) = await fake_slack.wait_for(lambda s: _to(s, channel, "Exam: question 1 of 10"))
    session_id = int(value_parts(button_values(_blocks(first), "quiz:session")[0])[0])
    for position in range(10):
        n = len(fake_slack.api_calls("chat.update"))
        value = await session_choice(bot, session_id, position, right=position < right)
        await bot.click("quiz:session", value, user=user, channel=channel)
        await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n)
    return fake_slack.api_calls("chat.update")[-1]["text"]


async def test_training_passed_reminded_reported_and_recorded_on_slack(slack_bot, fake_slack, lrs):
    bot = slack_bot
    await bot.slash("/secbot", ASSIGN, user="ULEAD", channel="C0PEOPLE")
    await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Assigned the security exam to 2" in r["text"]]
    )
    # An admin assigns it to someone by name, outside any team.
    await bot.slash("/secbot", "training assign <@UCAR|cat> by 2026-12-02", user="UADMIN",
                    channel="D0ADMIN")  # fmt: skip
    await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "the security exam to 1 person" in r["text"]]
    )
    clock = bot.app[SERVICES].clock
    await clock.set(PASSED)
    final = await _slack_exam(bot, fake_slack, "UANN", "D0ANN", right=8)
    assert final.startswith("Exam complete: passed. You scored 8 out of 10")

    # The day after the due date: Bob is told it is overdue; Ann, who passed, is not.
    await clock.set(OVERDUE)
    (late,) = await fake_slack.wait_for(lambda s: _to(s, "UBOB", "is now overdue"))
    assert "/quiz exam" in late["text"]
    await fake_slack.wait_for(lambda s: _to(s, "UCAR", "is now overdue"))
    assert not _to(fake_slack, "UANN", "exam")

    await bot.slash("/secbot", "training report social-media", user="ULEAD", channel="D0LEAD")
    (summary,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Training report" in card_text(r)]
    )
    text = card_text(summary)
    assert "2 people: 1 passed, 1 overdue, 0 due later, 0 not assigned." in text
    assert "Overdue: Bob Writer." in text and "Weakest topics:" in text
    await fake_slack.wait_for(lambda s: s.api_calls("files.completeUploadExternal"))
    (uploaded,) = [c for c in fake_slack.calls if c.path.startswith("/upload/")]
    rows = {r[0]: r for r in csv.reader(io.StringIO(uploaded.body.lstrip("\ufeff")))}
    assert rows["Ann Editor"][1] == "Passed" and rows["Ann Editor"][4] == "8/10"
    assert rows["Bob Writer"][1] == "Overdue"
    # The admins' exam report reads the exam record: her name there too.
    await bot.slash("/quiz", "report", user="UADMIN", channel="D0ADMIN")
    (completions,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Exam completions" in card_text(r)]
    )
    assert "Ann Editor: 8/10, pass" in card_text(completions)
    assert "slack:UANN" not in card_text(completions)
    assert "user-uann" not in card_text(completions)
    # An admin asking from another workspace sees that workspace's exams only: none.
    n = len(fake_slack.responses())
    await bot.slash("/quiz", "report", user="UADMIN", channel="D0ADMIN", team="T222")
    (elsewhere,) = await fake_slack.wait_for(lambda s: s.responses()[n:])
    assert "Nobody has completed the exam yet." in card_text(elsewhere)
    assert "Ann Editor" not in card_text(elsewhere)

    # The pass reaches the learning record store, as the Slack account that took it.
    await clock.advance(seconds=60)
    found = await lrs.wait_for(lambda s: s.statements)
    (statement,) = found.values()
    assert statement["actor"]["account"] == {"homePage": "https://slack.com", "name": "UANN"}
    # Named as Slack shows her (users.info's display name), not by her handle
    # ("user-uann", what Slack's clicks and slash commands carry).
    assert statement["actor"]["name"] == "Ann Editor"
    assert statement["verb"]["display"] == {"en-GB": "passed"}
    assert statement["result"]["score"]["raw"] == 8


async def test_a_rate_limited_name_lookup_does_not_hold_up_the_exam(slack_bot, fake_slack):
    """Slack rate limits users.info and asks for ten minutes' patience: the answer that
    completes the exam stops waiting for the name (a few seconds), keeps the one Slack's
    click gave, and records the result."""
    bot = slack_bot
    fake_slack.rate_limits["users.info"] = 1000
    fake_slack.retry_after = "600"
    await bot.app[SERVICES].clock.set(PASSED)
    final = await _slack_exam(bot, fake_slack, "UANN", "D0ANN", right=8)
    assert final.startswith("Exam complete: passed. You scored 8 out of 10")
    assert fake_slack.api_calls("users.info")  # it was asked, and did not answer in time
    await bot.slash("/quiz", "report", user="UADMIN", channel="D0ADMIN")
    (completions,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Exam completions" in card_text(r)]
    )
    # Her Slack handle from the click stands in for the name it could not look up.
    assert "user-uann: 8/10, pass" in card_text(completions)


def _saying(fake_connector, words: str, since: int = 0) -> list[dict]:
    return [a for a in fake_connector.sent()[since:] if words in card_text(a)]


async def _teams_exam(bot, fake_connector, aad: str, right: int) -> str:
    """Ann's exam in her Teams personal chat, clicking its card's buttons; the final words."""
    conv = {"conversation": f"a:personal-{aad}", "personal": True, "aad": aad,
            "user": f"29:{aad}", "name": "Ann Editor"}  # fmt: skip
    n = len(fake_connector.sent())
    await bot.teams_say("quiz exam", **conv)
    (first,) = await fake_connector.wait_for(lambda s: _saying(s, "Exam: question 1 of 10", n))
    content = first["attachments"][0]["content"]
    session_id = int(value_parts(card_values(content, "quiz:session")[0])[0])
    for position in range(10):
        n = len(fake_connector.updates())
        value = await session_choice(bot, session_id, position, right=position < right)
        await bot.teams_click("quiz:session", value, reply_to_id=f"exam-{aad}", **conv)
        await fake_connector.wait_for(lambda s, n=n: len(s.updates()) > n)
    return card_text(fake_connector.updates()[-1])


async def test_training_passed_reminded_reported_and_recorded_in_teams(
    teams_bot, fake_connector, lrs
):
    bot = teams_bot
    await bot.teams_say(ASSIGN, mention=True, aad="aad-lead")
    await fake_connector.wait_for(lambda s: _saying(s, "Assigned the security exam to 2 people"))
    clock = bot.app[SERVICES].clock
    await clock.set(PASSED)
    looked_up = len(fake_connector.lookups())
    final = await _teams_exam(bot, fake_connector, "aad-ann", right=9)
    assert "Exam complete: passed. You scored 9 out of 10" in final
    # Teams gives the display name with every click: no roster look-up to name her.
    assert len(fake_connector.lookups()) == looked_up

    n = len(fake_connector.sent())
    await clock.set(OVERDUE)
    (late,) = await fake_connector.wait_for(lambda s: _saying(s, "is now overdue", n))
    assert "@secbot quiz exam" not in card_text(late)  # typed as is in a personal chat
    assert len(_saying(fake_connector, "is now overdue")) == 1  # Bob only: Ann passed

    n = len(fake_connector.sent())
    await bot.teams_say("training report social-media", personal=True, aad="aad-lead")
    (report,) = await fake_connector.wait_for(lambda s: _saying(s, "Training report", n))
    text = card_text(report)
    assert "2 people: 1 passed, 1 overdue, 0 due later, 0 not assigned." in text
    assert "Overdue: Bob Writer." in text and "Weakest topics:" in text
    (file,) = await fake_connector.wait_for(
        lambda s: [f for a in s.sent()[n:] for f in a.get("attachments") or [] if f.get("name")]
    )
    data = base64.b64decode(file["contentUrl"].split(",", 1)[1]).decode("utf-8-sig")
    rows = {r[0]: r for r in csv.reader(io.StringIO(data))}
    assert rows["Ann Editor"][1] == "Passed" and rows["Ann Editor"][4] == "9/10"
    assert rows["Bob Writer"][1] == "Overdue"

    await clock.advance(seconds=60)
    found = await lrs.wait_for(lambda s: s.statements)
    (statement,) = found.values()
    assert statement["actor"]["account"] == {
        "homePage": "https://teams.microsoft.com",
        "name": "aad-ann",
    }
    assert statement["actor"]["name"] == "Ann Editor"
    assert statement["result"]["score"]["raw"] == 9
