"""Assigned training, access reviews and leavers on Slack, end to end over HTTP: signed
slash commands and button clicks, reminders and owners' messages through the fake Web
API (a user id posts as a direct message), the team CSV through files_upload_v2."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from app import SERVICES
from bot.core.actions import button_value
from bot.core.clock import FakeClock
from bot.core.model import Actor
from incidents.register.model import Access, Details, Person
from tests.support import stop_bot
from tests.training_support import register_of, reviews_of, start_people_bot, write_teams

TEAMS = """
version: 1
teams:
  social-media:
    leads: [slack:ULEAD]
    members: [slack:UANN, slack:UBOB]
"""
CHANNEL = "C0PEOPLE"
TENANT = "slack:T111"


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector, tmp_path):
    fake_slack.users.update({"UANN": "Ann Editor", "UBOB": "Bob Writer", "ULEAD": "Lee Lead",
                             "UOWN": "Olu Owner"})  # fmt: skip
    env = {**slack_env, "SECBOT_PEOPLE_TEAMS": write_teams(tmp_path, TEAMS)}
    clock = FakeClock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))  # Wednesday, before 10:00
    b = await start_people_bot(env, clock=clock, slack=fake_slack, connector=fake_connector)
    yield b
    await stop_bot(b)


async def said(fake_slack, n: int) -> str:
    """The text of the next private answer (through response_url) after ``n`` of them."""
    found = await fake_slack.wait_for(lambda s: len(s.responses()) > n and s.responses())
    return found[n]["text"]


def posted_to(fake_slack, channel: str, words: str) -> list[dict]:
    return [
        c for c in fake_slack.api_calls("chat.postMessage")
        if c.get("channel") == channel and words in (c.get("text") or "")
    ]  # fmt: skip


async def test_training_on_slack(bot, fake_slack):
    await bot.slash("/secbot", "training assign team social-media by 2026-12-02", user="ULEAD",
                    channel=CHANNEL)  # fmt: skip
    assert "Assigned the security exam to 2 people in social-media" in await said(fake_slack, 0)
    await bot.slash("/secbot", "training assign team social-media by 2026-12-02", user="UANN",
                    channel=CHANNEL)  # fmt: skip
    assert "only do that for a team you lead" in await said(fake_slack, 1)
    clock = bot.app[SERVICES].clock
    await clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))  # three working days before
    for user in ("UANN", "UBOB"):
        await fake_slack.wait_for(lambda s, u=user: posted_to(s, u, "A reminder"))
    assert "Type /quiz exam" in posted_to(fake_slack, "UANN", "A reminder")[0]["text"]

    await bot.slash("/secbot", "training report social-media", user="ULEAD", channel=CHANNEL)
    summary = await said(fake_slack, 2)
    assert "2 people: 0 passed, 0 overdue, 2 due later, 0 not assigned." in summary
    assert "ask in your direct chat with secbot" in summary  # no CSV of names in a channel
    await bot.slash("/secbot", "training report social-media", user="ULEAD", channel="D0LEAD")
    assert "Every person is in training-social-media-2026-11-27.csv" in await said(fake_slack, 3)
    await fake_slack.wait_for(lambda s: s.api_calls("files.completeUploadExternal"))
    # One file, from the direct chat only (the channel's report sent none).
    (uploaded,) = [c for c in fake_slack.calls if c.path.startswith("/upload/")]
    rows = list(csv.reader(io.StringIO(uploaded.body)))
    assert sorted(r[0] for r in rows[1:]) == ["Ann Editor", "Bob Writer"]
    assert {r[1] for r in rows[1:]} == {"Due"}


async def test_access_review_and_leaver_on_slack(bot, fake_slack):
    now = bot.app[SERVICES].clock.now()
    account = await register_of(bot).add(
        TENANT,
        Details(
            platform="instagram",
            handle="@deptpics",
            owner=Person("Olu Owner", "UOWN"),
            access=(
                Access(Person("Ann Editor", "UANN"), "admin"),
                Access(Person("Bob Writer", "UBOB"), "editor"),
            ),
        ),  # fmt: skip
        by=Actor("slack", "UADMIN", "Ada"),
        now=now,
    )
    await bot.slash("/secbot", "access review", user="UADMIN", channel=CHANNEL)
    assert "Opened 1 access review" in await said(fake_slack, 0)
    (sent,) = await fake_slack.wait_for(lambda s: posted_to(s, "UOWN", "please check"))
    assert "Instagram @deptpics" in sent["text"] and "Keep" in json.dumps(sent["blocks"])
    (review,) = await reviews_of(bot).store.open_reviews(TENANT)

    await bot.click("access:keep", button_value(review.id, 0), user="UANN", channel="UOWN")
    assert "Only the account's owner" in await said(fake_slack, 1)
    await bot.click("access:keep", button_value(review.id, 0), user="UOWN", channel="UOWN")
    await bot.click("access:keep", button_value(review.id, 0), user="UOWN", channel="UOWN")
    await bot.click("access:remove", button_value(review.id, 1), user="UOWN", channel="UOWN")
    assert "already marked keep" in await said(fake_slack, 2)
    updates = await fake_slack.wait_for(
        lambda s: [u for u in s.api_calls("chat.update") if "complete:" in u["text"]]
    )
    assert "complete: 1 kept, 1 removed. Attested by" in updates[0]["text"]
    assert len(await reviews_of(bot).store.decisions(review.id)) == 2

    await bot.slash("/secbot", "leaver <@UANN|ann>", user="UADMIN", channel=CHANNEL)
    listed = await fake_slack.wait_for(
        lambda s: [r["text"] for r in s.responses() if "registered account" in r["text"]]
    )
    assert "Ann Editor can reach 1 registered account" in listed[0]
    (task,) = await fake_slack.wait_for(lambda s: posted_to(s, "UOWN", "is leaving"))
    value = json.dumps(task["blocks"]).split('"value": "')[1].split('"')[0]
    await bot.click("leaver:confirm", value, user="UOWN", channel="UOWN")
    await fake_slack.wait_for(
        lambda s: [u for u in s.api_calls("chat.update") if "removed from Instagram" in u["text"]]
    )
    kept = await register_of(bot).get(TENANT, account.id)
    assert kept is not None and kept.access == ()

    await bot.slash("/secbot", "access check", user="UADMIN", channel=CHANNEL)
    check = await fake_slack.wait_for(
        lambda s: [r["text"] for r in s.responses() if "haven't passed" in r["text"]]
    )
    assert "1 of 1 people with access" in check[0] and "Olu Owner" in check[0]


async def test_each_quarter_secbot_opens_the_reviews_itself_on_slack(bot, fake_slack):
    """No admin asks: at the first working hour of a new quarter the worker opens the
    review of every account registered before it, and its owner gets it directly."""
    await register_of(bot).add(
        TENANT,
        Details(platform="youtube", handle="DeptVideo", owner=Person("Olu Owner", "UOWN"),
                access=(Access(Person("Ann Editor", "UANN"), "manager"),)),
        by=Actor("slack", "UADMIN", "Ada"), now=bot.app[SERVICES].clock.now(),
    )  # fmt: skip
    # Monday 4 January 2027, 10:00 (Friday the 1st was a bank holiday).
    await bot.app[SERVICES].clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    (sent,) = await fake_slack.wait_for(lambda s: posted_to(s, "UOWN", "please check"))
    assert "YouTube DeptVideo" in sent["text"] and "Reminder" not in sent["text"]
    (review,) = await reviews_of(bot).store.open_reviews(TENANT)
    assert review.period == "2027-01-01" and review.owner_name == "Olu Owner"
