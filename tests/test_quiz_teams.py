"""``quiz`` over Teams: Bot Framework activities and Action.Execute invokes, fake connector."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.quiz_support import (
    LIBRARY,
    START,
    card_values,
    clock_of,
    latest_post_id,
    post_choice,
    session_choice,
    start_quiz_bot,
    store_of,
)
from tests.support import stop_bot

CHANNEL = "19:chan@thread.tacv2"


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector):
    b = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    yield b
    await stop_bot(b)


def card(activity: dict) -> dict:
    return activity["attachments"][0]["content"]


def text_of(activity: dict) -> str:
    return json.dumps(card(activity)) if activity.get("attachments") else activity.get("text", "")


def private_text(invoke_response: dict) -> str:
    """The plain text of the card Teams shows only to the person who clicked."""
    return invoke_response["value"]["fallbackText"]


def person(n: int) -> dict:
    return {"user": f"29:user-{n}", "aad": f"aad-user-{n}", "name": f"Person {n}"}


async def test_channel_question_in_teams(bot, fake_connector):
    status, _ = await bot.teams_say("quiz 10m", mention=True, conversation=CHANNEL, **person(1))
    assert status == 201
    sent = await fake_connector.wait_for(lambda s: s.sent())
    post_id = latest_post_id(bot)
    post = store_of(bot).post(post_id)
    assert post.message_id and post.message_id.startswith("activity-")
    assert post.place.channel == CHANNEL and post.posted_by == "teams:aad-user-1"
    assert card_values(card(sent[-1]), "quiz:answer") == [f"{post_id}:{i}" for i in range(4)]
    assert "No answers yet" in text_of(sent[-1])

    status, body = await bot.teams_click(
        "quiz:answer",
        post_choice(bot, post_id, right=True),
        reply_to_id=post.message_id,
        conversation=CHANNEL,
        **person(2),
    )
    assert status == 200 and body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert private_text(body).startswith("Correct! You chose")  # the clicking user's own card
    assert "Only you can see this" in json.dumps(body["value"])
    ups = await fake_connector.wait_for(lambda s: s.updates())
    assert "1 answered" in ups[-1]["summary"]
    assert post.message_id in [
        c.path.rsplit("/", 1)[-1] for c in fake_connector.calls if c.method == "PUT"
    ]

    _, wrong = await bot.teams_click(
        "quiz:answer",
        post_choice(bot, post_id, right=False),
        reply_to_id=post.message_id,
        conversation=CHANNEL,
        **person(3),
    )
    assert "Not quite." in private_text(wrong)
    await fake_connector.wait_for(lambda s: "2 answered" in s.updates()[-1]["summary"])

    _, twice = await bot.teams_click(
        "quiz:answer",
        post_choice(bot, post_id, right=True),
        reply_to_id=post.message_id,
        conversation=CHANNEL,
        **person(3),
    )
    assert "already answered" in private_text(twice)
    assert [r["user_key"] for r in store_of(bot).answers(post_id=post_id)] == [
        "teams:aad-user-2",
        "teams:aad-user-3",
    ]

    # Ten minutes later the worker closes it and reveals the answer to everyone.
    await clock_of(bot).advance(minutes=11)
    closed = await fake_connector.wait_for(
        lambda s: [u for u in s.updates() if u["summary"].startswith("Quiz closed")]
    )
    assert "2 answered. 1 of 2 got it right (50%)" in closed[-1]["summary"]
    _, late = await bot.teams_click(
        "quiz:answer",
        post_choice(bot, post_id, right=True),
        reply_to_id=post.message_id,
        conversation=CHANNEL,
        **person(4),
    )
    assert "this question has closed" in private_text(late)
    assert len(store_of(bot).answers(post_id=post_id)) == 2


async def test_poster_closes_a_teams_question(bot, fake_connector):
    await bot.teams_say("quiz", mention=True, conversation=CHANNEL, **person(1))
    await fake_connector.wait_for(lambda s: s.sent())
    post_id = latest_post_id(bot)
    mid = store_of(bot).post(post_id).message_id
    _, refused = await bot.teams_click(
        "quiz:close", str(post_id), reply_to_id=mid, conversation=CHANNEL, **person(2)
    )
    assert "Only the person who posted" in private_text(refused)
    status, _ = await bot.teams_click(
        "quiz:close", str(post_id), reply_to_id=mid, conversation=CHANNEL, **person(1)
    )
    assert status == 200
    ups = await fake_connector.wait_for(lambda s: s.updates())
    assert ups[-1]["summary"].startswith("Quiz closed")
    assert "Nobody answered" in ups[-1]["summary"]
    assert store_of(bot).post(post_id).closed_at == START


async def test_practice_in_a_personal_chat_to_the_end(bot, fake_connector):
    conv = {"conversation": "a:personal-7", "personal": True, **person(7)}
    await bot.teams_say("quiz", **conv)  # `quiz` in a personal chat is practice
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert sent[-1]["summary"].startswith("Practice: question 1 of 5")
    session_id = int(card_values(card(sent[-1]), "quiz:session")[0].split(":")[0])
    for position in range(5):
        n = len(fake_connector.updates())
        _, body = await bot.teams_click(
            "quiz:session",
            session_choice(bot, session_id, position, right=position % 2 == 0),
            reply_to_id=f"activity-q{position}",
            **conv,
        )
        assert body["statusCode"] == 200
        upd = (await fake_connector.wait_for(lambda s, n=n: len(s.updates()) > n and s.updates()))[
            -1
        ]
        assert ("Correct!" if position % 2 == 0 else "Not quite.") in upd["summary"]
        if position < 4:
            nxt = card_values(card(upd), "quiz:next")
            assert nxt == [f"{session_id}:{position + 1}"]
            before = len(fake_connector.sent())
            await bot.teams_click("quiz:next", nxt[0], reply_to_id=f"activity-f{position}", **conv)
            await fake_connector.wait_for(lambda s, b=before: len(s.sent()) > b)
            assert fake_connector.sent()[-1]["summary"].startswith(
                f"Practice: question {position + 2} of 5"
            )
            # Clicking Next again does not post the question twice.
            await bot.teams_click("quiz:next", nxt[0], reply_to_id=f"activity-f{position}", **conv)
            assert len(fake_connector.sent()) == before + 1
        else:
            assert "Practice finished: you got 3 of 5 right." in upd["summary"]
    assert store_of(bot).session(session_id).status == "done"
    assert [r["correct"] for r in store_of(bot).answers(session_id=session_id)] == [1, 0, 1, 0, 1]


async def test_practice_asked_for_in_a_channel_goes_to_a_personal_chat(bot, fake_connector):
    await bot.teams_say("quiz me", mention=True, conversation=CHANNEL, **person(8))
    created = await fake_connector.wait_for(lambda s: s.named("/v3/conversations"))
    assert created[0].body["members"][0]["id"] == "29:user-8"
    sent = await fake_connector.wait_for(lambda s: s.sent())
    assert sent[-1]["summary"].startswith("Practice: question 1 of 5")
    assert "/v3/conversations/a:personal-" in [c.path for c in fake_connector.calls][-1]


async def test_exam_in_teams_with_a_restart(slack_env, fake_slack, fake_connector):
    conv = {"conversation": "a:personal-9", "personal": True, **person(9)}
    first = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    try:
        await first.teams_say("quiz exam", **conv)
        sent = await fake_connector.wait_for(lambda s: s.sent())
        assert sent[-1]["summary"].startswith("Exam: question 1 of 10")
        session_id = int(card_values(card(sent[-1]), "quiz:session")[0].split(":")[0])
        for position in range(3):
            n = len(fake_connector.updates())
            await first.teams_click(
                "quiz:session",
                session_choice(first, session_id, position, right=False),
                reply_to_id="activity-exam",
                **conv,
            )
            upd = await fake_connector.wait_for(lambda s, n=n: len(s.updates()) > n and s.updates())
            assert upd[-1]["summary"].startswith(f"Exam: question {position + 2} of 10")
    finally:
        await stop_bot(first)

    second = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    try:
        before = len(fake_connector.sent())
        await second.teams_say("quiz exam", **conv)
        await fake_connector.wait_for(lambda s: len(s.sent()) > before)
        assert fake_connector.sent()[-1]["summary"].startswith("Exam: question 4 of 10")
        for position in range(3, 10):
            n = len(fake_connector.updates())
            await second.teams_click(
                "quiz:session",
                session_choice(second, session_id, position, right=True),
                reply_to_id="activity-exam2",
                **conv,
            )
            await fake_connector.wait_for(lambda s, n=n: len(s.updates()) > n)
        final = fake_connector.updates()[-1]["summary"]
        assert final.startswith("Exam complete: not passed. You scored 7 out of 10 (70%).")
        result = store_of(second).exam_result(session_id)
        assert (result.user_key, result.score, result.passed) == ("teams:aad-user-9", 7, False)
        assert result.content_version == LIBRARY.version
        assert result.refresher_due - result.completed_at > timedelta(days=364)
    finally:
        await stop_bot(second)
