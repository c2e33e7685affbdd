"""``quiz`` in the local web chat over HTTP, plus stats, leaderboard and the admin report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.actions import button_value, value_parts
from bot.core.clock import FakeClock
from tests.quiz_support import (
    LIBRARY,
    START,
    clock_of,
    latest_post_id,
    post_choice,
    session_choice,
    start_quiz_bot,
    store_of,
    web_values,
)
from tests.support import stop_bot


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector):
    b = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    yield b
    await stop_bot(b)


async def say(bot, text: str, user: str = "web-user-1", conversation: str = "general") -> dict:
    """Send text and return the newest bot message this user can see."""
    status, body = await bot.web_send(text=text, user=user, conversation=conversation)
    assert status == 200 and body["ok"]
    return (await bot_messages(bot, user, conversation))[-1]


async def click(
    bot,
    action_id: str,
    value: str,
    user: str,
    message_id: int | None = None,
    conversation="general",
) -> dict:
    action = {"action_id": action_id, "value": value}
    if message_id is not None:
        action["message_id"] = str(message_id)
    status, body = await bot.web_send(action=action, user=user, conversation=conversation)
    assert status == 200 and body["ok"]
    return (await bot_messages(bot, user, conversation))[-1]


async def bot_messages(bot, user: str, conversation: str = "general") -> list[dict]:
    return [
        m
        for m in await bot.web_messages(user=user, conversation=conversation)
        if m["sender"] == "bot"
    ]


async def test_channel_question_in_the_web_chat(bot):
    question = await say(bot, "quiz")
    post_id = await latest_post_id(bot)
    mid = question["id"]
    assert question["private"] is False and "No answers yet" in str(question["blocks"])
    assert web_values(question, "quiz:answer") == [button_value(post_id, i) for i in range(4)]
    assert (await store_of(bot).channel.post(post_id)).message_id == str(mid)

    right = await click(
        bot, "quiz:answer", await post_choice(bot, post_id, right=True), "web-user-2", mid
    )
    assert right["private"] is True and right["text"].startswith("Correct!")
    wrong = await click(
        bot, "quiz:answer", await post_choice(bot, post_id, right=False), "web-user-3", mid
    )
    assert wrong["private"] is True and wrong["text"].startswith("Not quite.")
    twice = await click(
        bot, "quiz:answer", await post_choice(bot, post_id, right=True), "web-user-3", mid
    )
    assert "already answered" in twice["text"]

    # Someone else sees the question with the count, and none of the private feedback.
    seen = await bot_messages(bot, "web-user-4")
    assert [m["id"] for m in seen] == [mid]
    assert "2 answered" in seen[0]["text"]
    assert "Correct" not in str(seen[0]) and "Not quite" not in str(seen[0])

    refused = await click(bot, "quiz:close", str(post_id), "web-user-2", mid)
    assert "Only the person who posted" in refused["text"]
    await click(bot, "quiz:close", str(post_id), "web-user-1", mid)
    closed = (await bot_messages(bot, "web-user-4"))[0]
    assert closed["text"].startswith("Quiz closed")
    assert "2 answered. 1 of 2 got it right (50%)" in closed["text"]
    assert web_values(closed, "quiz:answer") == []

    late = await click(
        bot, "quiz:answer", await post_choice(bot, post_id, right=True), "web-user-5", mid
    )
    assert "this question has closed" in late["text"] and late["private"] is True
    assert len(await store_of(bot).stats.answers(post_id=post_id)) == 2


async def test_answer_after_the_deadline_closes_it_even_before_the_worker(bot):
    question = await say(bot, "quiz 5m")
    post_id = await latest_post_id(bot)
    # Move time without waking the closing worker (no FakeClock.set), so the click itself
    # has to notice the deadline has passed.
    clock_of(bot).jump(START + timedelta(minutes=6))
    late = await click(
        bot,
        "quiz:answer",
        await post_choice(bot, post_id, right=True),
        "web-user-2",
        question["id"],
    )
    assert "this question has closed" in late["text"]
    assert await store_of(bot).stats.answers(post_id=post_id) == []
    assert (await store_of(bot).channel.post(post_id)).closed_at is not None
    seen = (await bot_messages(bot, "web-user-9"))[0]
    assert seen["text"].startswith("Quiz closed") and "Nobody answered" in seen["text"]


async def test_practice_in_the_web_chat_is_private_in_a_channel(bot):
    first = await say(bot, "quiz me", user="web-user-6")
    assert first["private"] is True and first["text"].startswith("Practice: question 1 of 5")
    assert await bot_messages(bot, "web-user-7") == []  # nobody else sees it
    session_id = int(value_parts(web_values(first, "quiz:session")[0])[0])
    current = first
    for position in range(5):
        updated = await click(
            bot,
            "quiz:session",
            await session_choice(bot, session_id, position, right=True),
            "web-user-6",
            current["id"],
        )
        assert updated["id"] == current["id"] and updated["text"].startswith(
            f"Practice: question {position + 1} of 5. Correct!"
        )
        if position < 4:
            current = await click(
                bot, "quiz:next", web_values(updated, "quiz:next")[0], "web-user-6", updated["id"]
            )
            assert current["text"].startswith(f"Practice: question {position + 2} of 5")
        else:
            assert "Practice finished: you got 5 of 5 right." in updated["text"]
    stale = await click(
        bot, "quiz:session", await session_choice(bot, session_id, 0, right=False), "web-user-6"
    )
    assert "already answered" in stale["text"]
    assert len(await store_of(bot).stats.answers(session_id=session_id)) == 5


async def test_web_exam_with_a_restart_and_a_six_month_refresher(
    slack_env, fake_slack, fake_connector
):
    env = {**slack_env, "SECBOT_EXAM_REFRESH_MONTHS": "6"}
    first = await start_quiz_bot(env, slack=fake_slack, connector=fake_connector)
    try:
        q = await say(first, "quiz exam", user="web-user-8", conversation="dm")
        assert q["text"].startswith("Exam: question 1 of 10")
        session_id = int(value_parts(web_values(q, "quiz:session")[0])[0])
        for position in range(5):
            q = await click(
                first,
                "quiz:session",
                await session_choice(first, session_id, position, right=True),
                "web-user-8",
                q["id"],
                conversation="dm",
            )
            assert q["text"].startswith(f"Exam: question {position + 2} of 10")
        # A second exam can't be started while this one is in progress: it resumes.
        again = await say(first, "quiz exam", user="web-user-8", conversation="dm")
        assert again["text"].startswith("Exam: question 6 of 10")
        assert "Welcome back" in str(again["blocks"])
    finally:
        await stop_bot(first)

    later = FakeClock(START + timedelta(days=1))
    second = await start_quiz_bot(env, clock=later, slack=fake_slack, connector=fake_connector)
    try:
        q = await say(second, "quiz exam", user="web-user-8", conversation="dm")
        assert q["text"].startswith("Exam: question 6 of 10")
        for position in range(5, 10):
            q = await click(
                second,
                "quiz:session",
                await session_choice(second, session_id, position, right=position != 5),
                "web-user-8",
                q["id"],
                conversation="dm",
            )
        assert q["text"].startswith("Exam complete: passed. You scored 9 out of 10 (90%).")
        assert "refresher is due by 26 May 2027" in q["text"]
        assert "Recorded on 26 November 2026." in str(q["blocks"])
        assert LIBRARY.version not in str(q)  # a code that means nothing to the person
        result = await store_of(second).exams.exam_result(session_id)
        assert result.completed_at == START + timedelta(days=1)
        assert result.content_version == LIBRARY.version
        stats = await say(second, "quiz stats", user="web-user-8", conversation="dm")
        assert "Passed on 26 November 2026 (9 of 10). Refresher due by 26 May 2027." in str(
            stats["blocks"]
        )
        report = await say(second, "quiz report", user="web-admin", conversation="dm")
        assert "Exam completions: 1 in all" in report["text"]
        # By the name the web chat gives (not a platform-prefixed key).
        assert "\nWeb User: 9/10, pass, 2026-11-26" in report["text"]
        assert "web:web-user-8" not in report["text"]
        assert LIBRARY.version in report["text"]
        refused = await say(second, "quiz report", user="web-user-8", conversation="dm")
        assert "Only secbot admins" in refused["text"]
    finally:
        await stop_bot(second)


async def test_stats_show_accuracy_streak_and_reviews(bot):
    # One answer on each of Wednesday 25, Thursday 26 and Friday 27 November.
    for day, right in ((0, True), (1, False), (2, True)):
        await clock_of(bot).set(START + timedelta(days=day))
        q = await say(bot, "quiz")
        await click(
            bot,
            "quiz:answer",
            await post_choice(bot, await latest_post_id(bot), right=right),
            "web-user-1",
            q["id"],
        )
    await clock_of(bot).set(START + timedelta(days=5))  # Monday 30 November, none yet today
    stats = await say(bot, "quiz stats")
    assert stats["private"] is True
    assert "You've answered 3 questions and got 2 right (67%)." in stats["text"]
    assert "Streak: 3 working days." in stats["text"]
    assert "Not taken yet" in stats["text"]
    text = str(stats["blocks"])
    assert "Not tried yet" in text
    assert "3 questions are due for review" in stats["text"]


async def test_leaderboard_this_month_with_opt_out(bot):
    q = await say(bot, "quiz")
    pid = await latest_post_id(bot)
    for n, right in ((1, True), (2, True), (3, False)):
        await click(
            bot, "quiz:answer", await post_choice(bot, pid, right=right), f"web-user-{n}", q["id"]
        )
    board = await say(bot, "quiz leaderboard")
    assert board["private"] is False
    assert board["text"].startswith("Quiz leaderboard for this channel, November 2026")
    assert "1. Web User: 1 correct" in board["text"] and "2. Web User: 1 correct" in board["text"]
    assert "3." not in board["text"]  # nobody with no correct answers

    off = await say(bot, "quiz leaderboard off", user="web-user-2")
    assert off["private"] is True and "won't appear" in off["text"]
    board = await say(bot, "quiz leaderboard")
    assert "1. Web User: 1 correct" in board["text"] and "2." not in board["text"]
    rows = await store_of(bot).stats.leaderboard(
        (await store_of(bot).channel.post(pid)).place,
        START - timedelta(days=30),
        START + timedelta(days=1),
    )
    assert [r.user_key for r in rows] == ["web:web-user-1"]
    await say(bot, "quiz leaderboard on", user="web-user-2")
    board = await say(bot, "quiz leaderboard")
    assert "2. Web User: 1 correct" in board["text"]

    # Another channel has its own board, and a new month starts empty.
    other = await say(bot, "quiz leaderboard", conversation="other")
    assert "No correct answers here yet this month." in other["text"]
    await clock_of(bot).set(START + timedelta(days=7))  # 2 December
    december = await say(bot, "quiz leaderboard")
    assert december["text"].startswith("Quiz leaderboard for this channel, December 2026")
    assert "No correct answers here yet this month." in december["text"]


async def test_bad_times_and_unknown_topics_say_what_to_type(bot):
    for args, says in (
        ("quiz 99x", "I couldn't read “99x” as a time."),
        ("quiz 0m", "“0m” is too short"),
        ("quiz 30d", "“30d” is too long"),
    ):
        reply = await say(bot, args)
        assert reply["private"] is True and reply["text"].startswith(says)
        assert "For example: quiz 10m for 10 minutes" in str(reply["blocks"])  # no slash here
    unknown = await say(bot, "quiz knitting")
    assert "no quiz questions tagged “knitting”" in unknown["text"]
    assert "accounts, people" in unknown["text"] and "phishing" in unknown["text"]
    assert "For example: quiz phishing" in str(unknown["blocks"])
    assert await store_of(bot).channel.latest_post_id() is None
