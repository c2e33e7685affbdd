"""Answers to a daily tip's "Quiz me on this" question are quiz answers too: recorded once
per question shown, with the context ``tip``, and fed to spaced repetition. Over HTTP in
Slack, Teams and the web chat."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.core.actions import value_parts
from bot.core.clock import FakeClock
from tests.quiz_support import (
    LIBRARY,
    START,
    TIP_ID,
    WAIT,
    button_values,
    card_values,
    clock_of,
    store_of,
    tip_library,
    web_values,
)
from tests.support import block_actions_body, start_bot, stop_bot

FEATURES = ["bot.commands.help", "content.tips.feature", "content.quiz.feature"]


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector):
    """The quiz with the daily tips switched on as well."""
    b = await start_bot(
        slack_env,
        clock=FakeClock(START),
        slack=fake_slack,
        connector=fake_connector,
        features=FEATURES,
        content=tip_library(),
    )
    yield b
    await stop_bot(b)


async def response(fake_slack, n: int) -> dict:
    """The ``n``th private reply (1-based), once it has arrived."""
    await fake_slack.wait_for(lambda s: len(s.responses()) >= n, timeout=WAIT)
    return fake_slack.responses()[n - 1]


def answer_values(item_id: str) -> tuple[str, str]:
    """The button values of the right option and of a wrong one (``item|original``)."""
    item = LIBRARY.item(item_id)
    assert item is not None
    return f"{item_id}|{item.correct_index}", f"{item_id}|{(item.correct_index + 1) % 4}"


async def test_slack_tip_answers_are_recorded_once_and_feed_practice(bot, fake_slack):
    await bot.click("tip:quiz", TIP_ID, user="U1", channel="C1")
    question = await response(fake_slack, 1)
    assert question["response_type"] == "ephemeral" and "Quick question" in question["text"]
    item_id = button_values(question["blocks"], "tip:quizanswer")[0].split("|")[0]
    right, wrong = answer_values(item_id)

    await clock_of(bot).advance(seconds=12)
    body = block_actions_body(
        "tip:quizanswer",
        right,
        user="U1",
        channel="C1",
        response_url=fake_slack.response_url("tip-answer"),
        action_ts="1700000400.000001",
    )
    await bot.slack_post(body)
    reply = await response(fake_slack, 2)
    assert reply["text"].startswith("Right!") and reply["response_type"] == "ephemeral"
    [row] = await store_of(bot).stats.answers(context="tip")
    assert (row["user_key"], row["item_id"], row["correct"], row["seconds"]) == (
        "slack:U1",
        item_id,
        1,
        12.0,
    )
    assert (row["platform"], row["channel"], row["choice"]) == ("slack", "C1", 0)
    assert await store_of(bot).practice.card("slack:U1", item_id) is not None

    # Slack's retry of that click is dropped; a second click, on another option, still
    # explains it but is not counted.
    await bot.slack_post(body, headers={"X-Slack-Retry-Num": "1"})
    await bot.click("tip:quizanswer", wrong, user="U1", channel="C1")
    second = await response(fake_slack, 3)
    assert second["text"].startswith("Not quite. The answer is")
    assert "only your first answer counts" in second["text"]
    assert len(await store_of(bot).stats.answers(context="tip")) == 1

    # A new question on the tip is a new chance to answer. Answered wrongly, that item
    # comes back first in the person's next practice session, an hour later.
    await bot.click("tip:quiz", TIP_ID, user="U1", channel="C1")
    again = await response(fake_slack, 4)
    next_item = button_values(again["blocks"], "tip:quizanswer")[0].split("|")[0]
    await bot.click("tip:quizanswer", answer_values(next_item)[1], user="U1", channel="C1")
    assert (await response(fake_slack, 5))["text"].startswith("Not quite.")
    rows = await store_of(bot).stats.answers(context="tip")
    assert [(r["item_id"], r["correct"]) for r in rows] == [(item_id, 1), (next_item, 0)]

    await bot.slash("/quiz", "stats", user="U1", channel="C1")
    stats = await response(fake_slack, 6)
    assert "You've answered 2 questions and got 1 right (50%)." in stats["text"]

    await clock_of(bot).advance(hours=1)
    await bot.slash("/quiz", "me", user="U1", channel="C1")
    practice = await response(fake_slack, 7)
    session_id = int(value_parts(button_values(practice["blocks"], "quiz:session")[0])[0])
    assert (await store_of(bot).practice.session(session_id)).questions[0].item_id == next_item


async def test_web_chat_tip_answer_is_recorded_once(bot):
    status, _ = await bot.web_send(action={"action_id": "tip:quiz", "value": TIP_ID})
    assert status == 200
    question = [m for m in await bot.web_messages() if m["sender"] == "bot"][-1]
    assert question["private"] is True
    values = web_values(question, "tip:quizanswer")
    right, wrong = answer_values(values[0].split("|")[0])
    for value in (wrong, wrong, right):  # a double click, then a change of mind
        await bot.web_send(
            action={"action_id": "tip:quizanswer", "value": value, "message_id": question["id"]}
        )
    replies = [m for m in await bot.web_messages() if m["sender"] == "bot"][-3:]
    assert [r["text"].split()[0] for r in replies] == ["Not", "Not", "Right!"]
    assert "only your first answer counts" not in replies[0]["text"]
    assert all("only your first answer counts" in r["text"] for r in replies[1:])
    [row] = await store_of(bot).stats.answers(context="tip")
    assert (row["user_key"], row["correct"], row["platform"]) == ("web:web-user-1", 0, "web")


async def test_teams_tip_answer_is_recorded(bot, fake_connector):
    who = {"user": "29:user-4", "aad": "aad-user-4", "name": "Person 4"}
    channel = "19:chan@thread.tacv2"
    _, shown = await bot.teams_click("tip:quiz", TIP_ID, conversation=channel, **who)
    values = card_values(shown["value"], "tip:quizanswer")
    right, _ = answer_values(values[0].split("|")[0])
    _, answered = await bot.teams_click("tip:quizanswer", right, conversation=channel, **who)
    assert answered["value"]["fallbackText"].startswith("Right!")
    _, twice = await bot.teams_click("tip:quizanswer", right, conversation=channel, **who)
    assert "only your first answer counts" in json.dumps(twice["value"])
    [row] = await store_of(bot).stats.answers(context="tip")
    assert (row["user_key"], row["channel"], row["correct"]) == ("teams:aad-user-4", channel, 1)


async def test_tips_work_without_the_quiz(slack_env, fake_slack, fake_connector):
    b = await start_bot(
        slack_env,
        clock=FakeClock(START + timedelta(days=1)),
        slack=fake_slack,
        connector=fake_connector,
        features=["bot.commands.help", "content.tips.feature"],
        content=tip_library(),
    )
    try:
        await b.web_send(action={"action_id": "tip:quiz", "value": TIP_ID})
        question = [m for m in await b.web_messages() if m["sender"] == "bot"][-1]
        right, _ = answer_values(web_values(question, "tip:quizanswer")[0].split("|")[0])
        await b.web_send(action={"action_id": "tip:quizanswer", "value": right})
        reply = [m for m in await b.web_messages() if m["sender"] == "bot"][-1]
        assert reply["text"].startswith("Right!")
    finally:
        await stop_bot(b)
