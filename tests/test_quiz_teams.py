"""``quiz`` over Teams: Bot Framework activities and Action.Execute invokes, fake connector."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from bot.core.actions import button_value, value_parts
from tests.quiz_support import (
    LIBRARY,
    START,
    WAIT,
    card_values,
    clock_of,
    latest_post_id,
    post_choice,
    quiz_of,
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


def full(activity: dict) -> str:
    """A card's whole plain text (the activity's ``summary`` is cut at 200 characters)."""
    return card(activity)["fallbackText"]


def text_of(activity: dict) -> str:
    return json.dumps(card(activity)) if activity.get("attachments") else activity.get("text", "")


def private_text(invoke_response: dict) -> str:
    """The plain text of the card Teams shows only to the person who clicked."""
    return invoke_response["value"]["fallbackText"]


def person(n: int) -> dict:
    return {"user": f"29:user-{n}", "aad": f"aad-user-{n}", "name": f"Person {n}"}


def personal_copies(fake_connector) -> list[tuple[str, str]]:
    """(member, plain text) of each message sent to someone's personal chat, in order.

    The fake connector numbers the conversations it opens and the activities it accepts
    from one counter, in the order it records the calls, so replaying that counter says
    which member each personal chat (``a:personal-<n>``) was opened for, even when many
    were opened at once.
    """
    members: dict[str, str] = {}
    out: list[tuple[str, str]] = []
    n = 0
    for c in fake_connector.calls:
        if c.method != "POST":
            continue
        if c.path == "/v3/conversations":
            n += 1
            members[f"a:personal-{n}"] = c.body["members"][0]["id"]
        elif "/activities" in c.path:
            conversation = c.path.split("/")[3]
            if fake_connector.fail_status.get(conversation):
                continue
            n += 1
            if conversation.startswith("a:personal-"):
                out.append((members[conversation], card(c.body)["fallbackText"]))
    return out


async def test_channel_question_in_teams(bot, fake_connector):
    status, _ = await bot.teams_say("quiz 10m", mention=True, conversation=CHANNEL, **person(1))
    assert status == 202
    sent = await fake_connector.wait_for(lambda s: s.sent(), timeout=WAIT)
    post_id = await latest_post_id(bot)
    post = await store_of(bot).channel.post(post_id)
    assert post.message_id and post.message_id.startswith("activity-")
    assert post.place.channel == CHANNEL and post.posted_by == "teams:aad-user-1"
    values = card_values(card(sent[-1]), "quiz:answer")
    assert values == [button_value(post_id, i) for i in range(4)]
    assert "No answers yet" in text_of(sent[-1])

    status, body = await bot.teams_click(
        "quiz:answer",
        await post_choice(bot, post_id, right=True),
        reply_to_id=post.message_id,
        conversation=CHANNEL,
        **person(2),
    )
    assert status == 200 and body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert private_text(body).startswith("Correct! You chose")  # the clicking user's own card
    assert "Only you can see this" in json.dumps(body["value"])
    # That card lasts only until the shared count is next updated, so the same feedback
    # also goes to the person's personal chat with secbot, where it stays.
    assert personal_copies(fake_connector) == [
        ("29:user-2", f"Your answer to the quick quiz: {private_text(body)}")
    ]
    ups = await fake_connector.wait_for(lambda s: s.updates(), timeout=WAIT)
    assert "1 answered" in full(ups[-1])
    assert post.message_id in [
        c.path.rsplit("/", 1)[-1] for c in fake_connector.calls if c.method == "PUT"
    ]

    _, wrong = await bot.teams_click(
        "quiz:answer",
        await post_choice(bot, post_id, right=False),
        reply_to_id=post.message_id,
        conversation=CHANNEL,
        **person(3),
    )
    assert "Not quite." in private_text(wrong)
    assert personal_copies(fake_connector)[-1] == (
        "29:user-3",
        f"Your answer to the quick quiz: {private_text(wrong)}",
    )
    await fake_connector.wait_for(lambda s: "2 answered" in full(s.updates()[-1]), timeout=WAIT)

    _, twice = await bot.teams_click(
        "quiz:answer",
        await post_choice(bot, post_id, right=True),
        reply_to_id=post.message_id,
        conversation=CHANNEL,
        **person(3),
    )
    assert "already answered" in private_text(twice)
    assert len(personal_copies(fake_connector)) == 2  # nothing new was recorded or sent
    assert [r["user_key"] for r in await store_of(bot).stats.answers(post_id=post_id)] == [
        "teams:aad-user-2",
        "teams:aad-user-3",
    ]

    # Ten minutes later the worker closes it and reveals the answer to everyone.
    await clock_of(bot).advance(minutes=11)
    closed = await fake_connector.wait_for(
        lambda s: [u for u in s.updates() if full(u).startswith("Quiz closed")], timeout=WAIT
    )
    assert "2 answered. 1 of 2 got it right (50%)" in full(closed[-1])
    _, late = await bot.teams_click(
        "quiz:answer",
        await post_choice(bot, post_id, right=True),
        reply_to_id=post.message_id,
        conversation=CHANNEL,
        **person(4),
    )
    assert "this question has closed" in private_text(late)
    assert len(await store_of(bot).stats.answers(post_id=post_id)) == 2
    assert len(personal_copies(fake_connector)) == 2


async def test_many_teams_answers_at_once_each_get_their_own_lasting_feedback(bot, fake_connector):
    await bot.teams_say("quiz", mention=True, conversation=CHANNEL, **person(1))
    await fake_connector.wait_for(lambda s: s.sent(), timeout=WAIT)
    post_id = await latest_post_id(bot)
    mid = (await store_of(bot).channel.post(post_id)).message_id
    people = range(100, 140)
    right = await post_choice(bot, post_id, right=True)
    wrong = await post_choice(bot, post_id, right=False)
    results = await asyncio.gather(
        *(
            bot.teams_click(
                "quiz:answer",
                right if n % 2 == 0 else wrong,
                reply_to_id=mid,
                conversation=CHANNEL,
                **person(n),
            )
            for n in people
        )
    )
    for n, (status, body) in zip(people, results, strict=True):
        assert status == 200
        assert private_text(body).startswith("Correct!" if n % 2 == 0 else "Not quite."), n
    # Every answerer was sent their feedback privately, once, to their own chat.
    created = [c.body for c in fake_connector.named("/v3/conversations")]
    assert sorted(b["members"][0]["id"] for b in created) == sorted(f"29:user-{n}" for n in people)
    copies = personal_copies(fake_connector)
    assert sorted(member for member, _ in copies) == sorted(f"29:user-{n}" for n in people)
    for member, text in copies:  # each to the right person, with that person's own result
        n = int(member.rsplit("-", 1)[1])
        assert text.startswith(
            "Your answer to the quick quiz: " + ("Correct!" if n % 2 == 0 else "Not quite.")
        ), member
    await asyncio.wait_for(quiz_of(bot).updates.idle(), WAIT)
    assert full(fake_connector.updates()[-1]).endswith("(40 answered)")
    assert await store_of(bot).channel.counts(post_id) == (40, 20)


async def test_a_personal_chat_that_fails_still_leaves_the_answer_and_its_card(bot, fake_connector):
    await bot.teams_say("quiz", mention=True, conversation=CHANNEL, **person(1))
    await fake_connector.wait_for(lambda s: s.sent(), timeout=WAIT)
    post_id = await latest_post_id(bot)
    # The person has blocked secbot: their personal chat refuses messages.
    for n in range(1, 20):
        fake_connector.fail_status[f"a:personal-{n}"] = 403
    status, body = await bot.teams_click(
        "quiz:answer",
        await post_choice(bot, post_id, right=True),
        reply_to_id=(await store_of(bot).channel.post(post_id)).message_id,
        conversation=CHANNEL,
        **person(5),
    )
    assert status == 200 and private_text(body).startswith("Correct!")
    assert [r["user_key"] for r in await store_of(bot).stats.answers(post_id=post_id)] == [
        "teams:aad-user-5"
    ]
    await fake_connector.wait_for(
        lambda s: s.updates() and "1 answered" in full(s.updates()[-1]), timeout=WAIT
    )


async def test_poster_closes_a_teams_question(bot, fake_connector):
    await bot.teams_say("quiz", mention=True, conversation=CHANNEL, **person(1))
    await fake_connector.wait_for(lambda s: s.sent(), timeout=WAIT)
    post_id = await latest_post_id(bot)
    mid = (await store_of(bot).channel.post(post_id)).message_id
    _, refused = await bot.teams_click(
        "quiz:close", str(post_id), reply_to_id=mid, conversation=CHANNEL, **person(2)
    )
    assert "Only the person who posted" in private_text(refused)
    status, _ = await bot.teams_click(
        "quiz:close", str(post_id), reply_to_id=mid, conversation=CHANNEL, **person(1)
    )
    assert status == 200
    ups = await fake_connector.wait_for(lambda s: s.updates(), timeout=WAIT)
    assert full(ups[-1]).startswith("Quiz closed")
    assert "Nobody answered" in full(ups[-1])
    assert (await store_of(bot).channel.post(post_id)).closed_at == START


async def test_practice_in_a_personal_chat_to_the_end(bot, fake_connector):
    conv = {"conversation": "a:personal-7", "personal": True, **person(7)}
    await bot.teams_say("quiz", **conv)  # `quiz` in a personal chat is practice
    sent = await fake_connector.wait_for(lambda s: s.sent(), timeout=WAIT)
    assert full(sent[-1]).startswith("Practice: question 1 of 5")
    session_id = int(value_parts(card_values(card(sent[-1]), "quiz:session")[0])[0])
    for position in range(5):
        n = len(fake_connector.updates())
        _, body = await bot.teams_click(
            "quiz:session",
            await session_choice(bot, session_id, position, right=position % 2 == 0),
            reply_to_id=f"activity-q{position}",
            **conv,
        )
        assert body["statusCode"] == 200
        upd = (
            await fake_connector.wait_for(
                lambda s, n=n: len(s.updates()) > n and s.updates(), timeout=WAIT
            )
        )[-1]
        assert ("Correct!" if position % 2 == 0 else "Not quite.") in full(upd)
        if position < 4:
            nxt = card_values(card(upd), "quiz:next")
            assert nxt == [button_value(session_id, position + 1)]
            before = len(fake_connector.sent())
            await bot.teams_click("quiz:next", nxt[0], reply_to_id=f"activity-f{position}", **conv)
            await fake_connector.wait_for(lambda s, b=before: len(s.sent()) > b, timeout=WAIT)
            assert full(fake_connector.sent()[-1]).startswith(
                f"Practice: question {position + 2} of 5"
            )
            # Clicking Next again does not post the question twice.
            await bot.teams_click("quiz:next", nxt[0], reply_to_id=f"activity-f{position}", **conv)
            assert len(fake_connector.sent()) == before + 1
        else:
            assert "Practice finished: you got 3 of 5 right." in full(upd)
    assert (await store_of(bot).practice.session(session_id)).status == "done"
    assert [r["correct"] for r in await store_of(bot).stats.answers(session_id=session_id)] == [
        1,
        0,
        1,
        0,
        1,
    ]


async def test_practice_asked_for_in_a_channel_goes_to_a_personal_chat(bot, fake_connector):
    await bot.teams_say("quiz me", mention=True, conversation=CHANNEL, **person(8))
    created = await fake_connector.wait_for(lambda s: s.named("/v3/conversations"), timeout=WAIT)
    assert created[0].body["members"][0]["id"] == "29:user-8"
    sent = await fake_connector.wait_for(lambda s: s.sent(), timeout=WAIT)
    assert full(sent[-1]).startswith("Practice: question 1 of 5")
    assert "/v3/conversations/a:personal-" in [c.path for c in fake_connector.calls][-1]


async def test_exam_in_teams_with_a_restart(slack_env, fake_slack, fake_connector):
    conv = {"conversation": "a:personal-9", "personal": True, **person(9)}
    first = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    try:
        await first.teams_say("quiz exam", **conv)
        sent = await fake_connector.wait_for(lambda s: s.sent(), timeout=WAIT)
        assert full(sent[-1]).startswith("Exam: question 1 of 10")
        session_id = int(value_parts(card_values(card(sent[-1]), "quiz:session")[0])[0])
        for position in range(3):
            n = len(fake_connector.updates())
            await first.teams_click(
                "quiz:session",
                await session_choice(first, session_id, position, right=False),
                reply_to_id="activity-exam",
                **conv,
            )
            upd = await fake_connector.wait_for(
                lambda s, n=n: len(s.updates()) > n and s.updates(), timeout=WAIT
            )
            assert full(upd[-1]).startswith(f"Exam: question {position + 2} of 10")
    finally:
        await stop_bot(first)

    second = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    try:
        before = len(fake_connector.sent())
        await second.teams_say("quiz exam", **conv)
        await fake_connector.wait_for(lambda s: len(s.sent()) > before, timeout=WAIT)
        assert full(fake_connector.sent()[-1]).startswith("Exam: question 4 of 10")
        for position in range(3, 10):
            n = len(fake_connector.updates())
            await second.teams_click(
                "quiz:session",
                await session_choice(second, session_id, position, right=True),
                reply_to_id="activity-exam2",
                **conv,
            )
            await fake_connector.wait_for(lambda s, n=n: len(s.updates()) > n, timeout=WAIT)
        final = full(fake_connector.updates()[-1])
        assert final.startswith("Exam complete: not passed. You scored 7 out of 10 (70%).")
        result = await store_of(second).exams.exam_result(session_id)
        assert (result.user_key, result.score, result.passed) == ("teams:aad-user-9", 7, False)
        assert result.content_version == LIBRARY.version
        assert result.refresher_due - result.completed_at > timedelta(days=364)
    finally:
        await stop_bot(second)


async def test_hints_say_how_to_type_a_command_where_the_person_is(bot, fake_connector):
    """One command-hint helper (bot.core.hints): a Teams channel only passes on messages
    that mention the bot, so its hints say "@secbot quiz …"; a personal chat takes the
    words as they are."""
    await bot.teams_say("quiz nosuchtopic", mention=True, conversation=CHANNEL, **person(1))
    sent = await fake_connector.wait_for(
        lambda s: [a for a in s.sent() if "nosuchtopic" in text_of(a)], timeout=WAIT
    )
    assert "For example: @secbot quiz " in text_of(sent[-1])

    await bot.teams_say("quiz nosuchtopic", conversation="a:personal-2", personal=True, **person(2))
    sent = await fake_connector.wait_for(
        lambda s: [a for a in s.sent() if "nosuchtopic" in text_of(a)][1:], timeout=WAIT
    )
    assert "For example: quiz " in text_of(sent[-1])
    assert "@secbot" not in text_of(sent[-1])
