"""``/quiz`` over Slack HTTP: signed slash commands and clicks against the fake Web API."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from bot.core.actions import button_value, value_parts
from bot.core.clock import FakeClock
from bot.core.inert import one_line
from content.library.models import MODULES, PRINCIPLES
from content.quiz.store import QuizStore
from tests.quiz_support import (
    LIBRARY,
    START,
    WAIT,
    button_values,
    clock_of,
    latest_post_id,
    post_choice,
    quiz_of,
    session_choice,
    start_quiz_bot,
    store_of,
)
from tests.support import (
    block_actions_body,
    eventually,
    ready_db,
    slack_handled,
    slack_typed,
    stop_bot,
)

BURST_WAIT = 120.0  # two hundred signed requests at once, on a slow runner


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector):
    b = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    yield b
    await stop_bot(b)


def updates(fake_slack) -> list[dict]:
    return fake_slack.api_calls("chat.update")


async def post_question(bot, fake_slack, text: str = "", user: str = "U1") -> int:
    before = len(fake_slack.api_calls("chat.postMessage"))
    await bot.slash("/quiz", text, user=user, channel="C1")
    await fake_slack.wait_for(lambda s: len(s.api_calls("chat.postMessage")) > before, timeout=WAIT)
    post_id = await latest_post_id(bot)

    async def stored() -> bool:  # Slack's ts is stored once its answer is back
        return bool((await store_of(bot).channel.post(post_id)).message_id)

    await eventually(stored)
    return post_id


async def click_and_wait(bot, fake_slack, action: str, value: str, user: str, **kw) -> dict:
    """Click, then return the private (response_url) reply it produced."""
    before = len(fake_slack.responses())
    await bot.click(action, value, user=user, channel=kw.pop("channel", "C1"), **kw)
    replies = await fake_slack.wait_for(
        lambda s: len(s.responses()) > before and s.responses(), timeout=WAIT
    )
    return replies[-1]


async def test_channel_question_right_wrong_twice_close_and_late(bot, fake_slack):
    post_id = await post_question(bot, fake_slack)
    posted = fake_slack.api_calls("chat.postMessage")[-1]
    assert posted["channel"] == "C1"
    assert "No answers yet" in str(posted["blocks"])
    values = button_values(posted["blocks"], "quiz:answer")
    assert values == [button_value(post_id, i) for i in range(4)]
    assert button_values(posted["blocks"], "quiz:close") == [str(post_id)]
    post = await store_of(bot).channel.post(post_id)
    assert post.message_id and post.closes_at - post.created_at == timedelta(hours=1)
    item = LIBRARY.item(post.item_id)
    assert item.stem.en in posted["text"]
    # Each letter button is named by its answer for screen readers (Slack's
    # accessibility_label), in the order the options are shown.
    spoken = [
        e["accessibility_label"]
        for b in posted["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("quiz:answer")
    ]
    assert spoken == [
        one_line(f"{'ABCD'[n]}: {item.options[i].text.en}", 75) for n, i in enumerate(post.order)
    ]

    right = await click_and_wait(
        bot,
        fake_slack,
        "quiz:answer",
        await post_choice(bot, post_id, right=True),
        "U2",
        message_ts=post.message_id,
    )
    assert right["response_type"] == "ephemeral"
    assert right["text"].startswith("Correct!")
    assert item.explanation.en in right["text"]
    assert "https://www.ncsc.gov.uk/example" in str(right["blocks"])
    await fake_slack.wait_for(
        lambda s: updates(s) and "1 answered" in updates(s)[-1]["text"], timeout=WAIT
    )
    assert updates(fake_slack)[-1]["ts"] == post.message_id
    assert "Correct" not in str(updates(fake_slack)[-1])  # nobody's choice is revealed

    wrong = await click_and_wait(
        bot, fake_slack, "quiz:answer", await post_choice(bot, post_id, right=False), "U3"
    )
    assert wrong["text"].startswith("Not quite.")
    assert "The answer is" in wrong["text"]
    await fake_slack.wait_for(lambda s: "2 answered" in updates(s)[-1]["text"], timeout=WAIT)

    again = await click_and_wait(
        bot, fake_slack, "quiz:answer", await post_choice(bot, post_id, right=False), "U2"
    )
    assert again["response_type"] == "ephemeral"
    assert "already answered" in again["text"] and "The right answer" in again["text"]

    rows = await store_of(bot).stats.answers(post_id=post_id)
    assert [(r["user_key"], r["correct"], r["context"], r["channel"]) for r in rows] == [
        ("slack:U2", 1, "channel", "C1"),
        ("slack:U3", 0, "channel", "C1"),
    ]
    assert rows[0]["choice"] == item.correct_index and rows[1]["choice"] != item.correct_index
    assert rows[0]["item_id"] == item.id and rows[0]["answered_at"].startswith("2026-11-25T10:00")
    assert rows[0]["seconds"] == 0.0

    refused = await click_and_wait(bot, fake_slack, "quiz:close", str(post_id), "U3")
    assert "Only the person who posted" in refused["text"]
    assert (await store_of(bot).channel.post(post_id)).closed_at is None

    await bot.click("quiz:close", str(post_id), user="U1", channel="C1")
    closed = await fake_slack.wait_for(
        lambda s: [u for u in updates(s) if u["text"].startswith("Quiz closed")], timeout=WAIT
    )
    assert "2 answered. 1 of 2 got it right (50%)" in closed[-1]["text"]
    assert "The right answer" in closed[-1]["text"]
    assert item.explanation.en in str(closed[-1]["blocks"])
    assert button_values(closed[-1]["blocks"], "quiz:answer") == []

    late = await click_and_wait(
        bot, fake_slack, "quiz:answer", await post_choice(bot, post_id, right=True), "U4"
    )
    assert "this question has closed" in late["text"]
    assert len(await store_of(bot).stats.answers(post_id=post_id)) == 2


async def test_quiz_buttons_posted_before_the_one_codec_still_answer(bot, fake_slack):
    """Quiz buttons already in channels carry ``post:shown`` and ``session:position:shown``
    (written with ``:`` before every button went through ``bot.core.actions``); a click on
    one still counts, and so does its Next button."""
    post_id = await post_question(bot, fake_slack)
    old_value = (await post_choice(bot, post_id, right=True)).replace("|", ":")
    right = await click_and_wait(bot, fake_slack, "quiz:answer", old_value, "U2")
    assert right["text"].startswith("Correct!")
    assert [r["user_key"] for r in await store_of(bot).stats.answers(post_id=post_id)] == [
        "slack:U2"
    ]

    before = len(fake_slack.api_calls("chat.postMessage"))
    await bot.slash("/quiz", "", user="U5", channel="D5")
    posted = await fake_slack.wait_for(
        lambda s: s.api_calls("chat.postMessage")[before:], timeout=WAIT
    )
    session_id = int(value_parts(button_values(posted[0]["blocks"], "quiz:session")[0])[0])
    old_value = (await session_choice(bot, session_id, 0, right=True)).replace("|", ":")
    await bot.click("quiz:session", old_value, user="U5", channel="D5", message_ts="9.0")
    upd = await fake_slack.wait_for(lambda s: [u for u in updates(s) if u["ts"] == "9.0"])
    assert "Correct!" in upd[0]["text"]
    before = len(fake_slack.api_calls("chat.postMessage"))
    await bot.click("quiz:next", f"{session_id}:1", user="U5", channel="D5")
    nxt = await fake_slack.wait_for(
        lambda s: s.api_calls("chat.postMessage")[before:], timeout=WAIT
    )
    assert nxt[0]["text"].startswith("Practice: question 2 of 5")


async def test_timed_question_closes_on_the_fake_clock(bot, fake_slack):
    post_id = await post_question(bot, fake_slack, "10m")
    post = await store_of(bot).channel.post(post_id)
    assert post.closes_at == START + timedelta(minutes=10)
    assert "Closes at 10:10" in str(fake_slack.api_calls("chat.postMessage")[-1]["blocks"])
    await bot.click(
        "quiz:answer", await post_choice(bot, post_id, right=True), user="U2", channel="C1"
    )
    await fake_slack.wait_for(
        lambda s: updates(s) and "1 answered" in updates(s)[-1]["text"], timeout=WAIT
    )

    await clock_of(bot).advance(minutes=9)
    # Not yet due: the worker, or anyone else, finds nothing to close at 10:09.
    assert await quiz_of(bot).channel.close_due() == 0
    assert (await store_of(bot).channel.post(post_id)).closed_at is None
    assert not any(u["text"].startswith("Quiz closed") for u in updates(fake_slack))
    await clock_of(bot).advance(minutes=2)
    closed = await fake_slack.wait_for(
        lambda s: [u for u in updates(s) if u["text"].startswith("Quiz closed")], timeout=WAIT
    )
    assert "1 answered. 1 of 1 got it right (100%)" in closed[-1]["text"]
    assert (await store_of(bot).channel.post(post_id)).closed_at is not None


async def test_question_due_while_down_closes_at_start_up(slack_env, fake_slack, fake_connector):
    first = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    try:
        post_id = await post_question(first, fake_slack, "2h")
    finally:
        await stop_bot(first)
    assert updates(fake_slack) == []
    later = FakeClock(START + timedelta(hours=3))
    second = await start_quiz_bot(
        slack_env, clock=later, slack=fake_slack, connector=fake_connector
    )
    try:
        closed = await fake_slack.wait_for(
            lambda s: [u for u in updates(s) if u["text"].startswith("Quiz closed")], timeout=WAIT
        )
        assert "Nobody answered" in closed[-1]["text"]
        assert (await store_of(second).channel.post(post_id)).closed_at is not None
    finally:
        await stop_bot(second)


async def test_two_hundred_concurrent_clicks_count_exactly(bot, fake_slack):
    post_id = await post_question(bot, fake_slack)
    ts = (await store_of(bot).channel.post(post_id)).message_id
    users = [f"U{n:04d}" for n in range(200)]
    right = await post_choice(bot, post_id, right=True)
    wrong = await post_choice(bot, post_id, right=False)
    responses = await asyncio.gather(
        *(
            bot.click(
                "quiz:answer",
                right if n % 3 == 0 else wrong,
                user=u,
                channel="C1",
                message_ts=ts,
                response_url=fake_slack.response_url(f"r-{u}"),
            )
            for n, u in enumerate(users)
        )
    )
    assert all(r.status == 200 for r in responses)
    await fake_slack.wait_for(lambda s: len(s.responses()) >= 200, timeout=BURST_WAIT)
    # Wait until no edit is in flight or queued (event-driven, not a sleep), then the last
    # edit Slack received must show the exact final count.
    await asyncio.wait_for(quiz_of(bot).updates.idle(), BURST_WAIT)
    assert updates(fake_slack)[-1]["text"].endswith("(200 answered)")
    assert updates(fake_slack)[-1]["ts"] == ts
    # Exactly one private reply per person, to that person's own click, saying whether
    # *they* were right.
    feedback = {
        c.path.removeprefix("/response/r-"): c.body
        for c in fake_slack.calls
        if c.path.startswith("/response/")
    }
    assert len(fake_slack.responses()) == 200 and feedback.keys() == set(users)
    for n, u in enumerate(users):
        assert feedback[u]["response_type"] == "ephemeral"
        assert feedback[u]["text"].startswith("Correct!" if n % 3 == 0 else "Not quite."), u
    rows = await store_of(bot).stats.answers(post_id=post_id)
    assert sorted(r["user_key"] for r in rows) == sorted(f"slack:{u}" for u in users)
    assert await store_of(bot).channel.counts(post_id) == (200, 67)
    assert len(updates(fake_slack)) < 50  # edits are coalesced, not one per click
    assert fake_slack.api_calls("chat.postEphemeral") == []  # all through response_url


async def test_double_click_and_retried_delivery_record_one_answer(bot, fake_slack):
    post_id = await post_question(bot, fake_slack)
    body = block_actions_body(
        "quiz:answer",
        await post_choice(bot, post_id, right=True),
        user="U2",
        channel="C1",
        response_url=fake_slack.response_url("same"),
        action_ts="1700000100.000001",
    )
    await bot.slack_post(body)
    await fake_slack.wait_for(lambda s: s.responses(), timeout=WAIT)
    await bot.slack_post(body, headers={"X-Slack-Retry-Num": "1"})  # the same click again
    second = await click_and_wait(
        bot, fake_slack, "quiz:answer", await post_choice(bot, post_id, right=False), "U2"
    )
    assert "already answered" in second["text"]
    texts = [r["text"] for r in fake_slack.responses()]
    assert len(texts) == 2 and texts[0].startswith("Correct!")
    rows = await store_of(bot).stats.answers(post_id=post_id)
    assert len(rows) == 1 and rows[0]["correct"] == 1


async def test_topic_and_unknown_topic(bot, fake_slack):
    post_id = await post_question(bot, fake_slack, "phishing")
    post = await store_of(bot).channel.post(post_id)
    assert post.tag == "phishing" and "phishing" in LIBRARY.item(post.item_id).topics
    await bot.slash("/quiz", "control-access", user="U1", channel="C1")
    await fake_slack.wait_for(lambda s: len(s.api_calls("chat.postMessage")) == 2, timeout=WAIT)
    assert (
        LIBRARY.item(
            (await store_of(bot).channel.post(await latest_post_id(bot))).item_id
        ).principle
        == "control-access"
    )

    await bot.slash("/quiz", "knitting", user="U1", channel="C1")
    reply = (await fake_slack.wait_for(lambda s: s.responses(), timeout=WAIT))[-1]
    assert reply["response_type"] == "ephemeral"
    assert "no quiz questions tagged “knitting”" in reply["text"]
    assert "accounts" in reply["text"] and "phishing" in reply["text"]
    assert await latest_post_id(bot) == post_id + 1  # nothing posted for the unknown tag

    await bot.slash("/quiz", "0m", user="U1", channel="C1")
    await fake_slack.wait_for(lambda s: len(s.responses()) == 2, timeout=WAIT)
    assert "from 1 minute to 7 days" in fake_slack.responses()[-1]["text"]


async def test_practice_in_a_direct_message_to_the_end(bot, fake_slack):
    await bot.slash("/quiz", "", user="U5", channel="D5")  # `/quiz` in a DM is practice
    first = (await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"), timeout=WAIT))[-1]
    assert first["channel"] == "D5"
    assert first["text"].startswith("Practice: question 1 of 5")
    session_id = int(value_parts(button_values(first["blocks"], "quiz:session")[0])[0])
    for position in range(5):
        posted = fake_slack.api_calls("chat.postMessage")
        assert posted[-1]["text"].startswith(f"Practice: question {position + 1} of 5")
        value = await session_choice(bot, session_id, position, right=position != 2)
        n_updates = len(updates(fake_slack))
        await bot.click("quiz:session", value, user="U5", channel="D5", message_ts=f"9.{position}")
        upd = (
            await fake_slack.wait_for(
                lambda s, n=n_updates: len(updates(s)) > n and updates(s), timeout=WAIT
            )
        )[-1]
        assert upd["ts"] == f"9.{position}"
        assert ("Not quite." if position == 2 else "Correct!") in upd["text"]
        if position < 4:
            nxt = button_values(upd["blocks"], "quiz:next")
            assert nxt == [button_value(session_id, position + 1)]
            await bot.click("quiz:next", nxt[0], user="U5", channel="D5")
            await fake_slack.wait_for(
                lambda s, p=position: len(s.api_calls("chat.postMessage")) == p + 2, timeout=WAIT
            )
        else:
            assert button_values(upd["blocks"], "quiz:next") == []
            assert "Practice finished: you got 4 of 5 right." in upd["text"]
    rows = await store_of(bot).stats.answers(session_id=session_id)
    assert [r["position"] for r in rows] == [0, 1, 2, 3, 4]
    assert {r["context"] for r in rows} == {"practice"}
    assert (await store_of(bot).practice.session(session_id)).status == "done"
    assert len(await store_of(bot).practice.card_dues("slack:U5")) == 5


async def test_exam_with_a_restart_in_the_middle(slack_env, fake_slack, fake_connector):
    first = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    try:
        await first.slash("/quiz", "exam", user="U7", channel="D7")
        q1 = (await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"), timeout=WAIT))[
            -1
        ]
        assert q1["text"].startswith("Exam: question 1 of 10")
        assert "covering all three modules and all five principles" in str(q1["blocks"])
        session_id = int(value_parts(button_values(q1["blocks"], "quiz:session")[0])[0])
        asked = [
            LIBRARY.item(q.item_id)
            for q in (await store_of(first).practice.session(session_id)).questions
        ]
        assert len({i.id for i in asked}) == 10
        assert {i.module for i in asked} == set(MODULES)
        assert {i.principle for i in asked} == set(PRINCIPLES)
        for position in range(4):
            n = len(updates(fake_slack))
            value = await session_choice(first, session_id, position, right=position != 0)
            await first.click("quiz:session", value, user="U7", channel="D7")
            upd = await fake_slack.wait_for(
                lambda s, n=n: len(updates(s)) > n and updates(s), timeout=WAIT
            )
            assert upd[-1]["text"].startswith(f"Exam: question {position + 2} of 10")
            assert "Answer recorded." in str(upd[-1]["blocks"])
            assert "Correct" not in upd[-1]["text"]  # no feedback until the end
    finally:
        await stop_bot(first)

    second = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    try:
        await second.slash("/quiz", "exam", user="U7", channel="D7")
        resumed = await fake_slack.wait_for(
            lambda s: len(s.api_calls("chat.postMessage")) == 2 and s.api_calls("chat.postMessage"),
            timeout=WAIT,
        )
        assert resumed[-1]["text"].startswith("Exam: question 5 of 10")
        assert "Welcome back" in str(resumed[-1]["blocks"])
        for position in range(4, 10):
            n = len(updates(fake_slack))
            value = await session_choice(second, session_id, position, right=position != 9)
            await second.click("quiz:session", value, user="U7", channel="D7")
            await fake_slack.wait_for(lambda s, n=n: len(updates(s)) > n, timeout=WAIT)
        final = updates(fake_slack)[-1]
        assert "Exam complete: passed. You scored 8 out of 10 (80%)." in final["text"]
        assert "refresher is due by 25 November 2027" in final["text"]
        result = await store_of(second).exams.exam_result(session_id)
        assert (result.user_key, result.score, result.total, result.passed) == (
            "slack:U7",
            8,
            10,
            True,
        )
        assert result.content_version == LIBRARY.version
        assert result.completed_at == START
        # A new attempt is a fresh exam, not the finished one.
        await second.slash("/quiz", "exam", user="U7", channel="D7")
        fresh = await fake_slack.wait_for(
            lambda s: len(s.api_calls("chat.postMessage")) == 3 and s.api_calls("chat.postMessage"),
            timeout=WAIT,
        )
        assert fresh[-1]["text"].startswith("Exam: question 1 of 10")
    finally:
        await stop_bot(second)


async def test_two_exam_starts_at_once_make_one_attempt(bot, fake_slack):
    await asyncio.gather(*(bot.slash("/quiz", "exam", user="U8", channel="D8") for _ in "ab"))
    sent = await fake_slack.wait_for(
        lambda s: len(s.api_calls("chat.postMessage")) == 2 and s.api_calls("chat.postMessage"),
        timeout=WAIT,
    )
    assert all(m["text"].startswith("Exam: question 1 of 10") for m in sent)
    ids = {int(value_parts(button_values(m["blocks"], "quiz:session")[0])[0]) for m in sent}
    assert len(ids) == 1  # both show the one attempt, which the answers then go to
    [session_id] = ids
    active = await store_of(bot).practice.active_session("slack:U8", "exam")
    assert active is not None and active.id == session_id


async def test_practice_in_a_channel_is_ephemeral(bot, fake_slack):
    await bot.slash("/quiz", "me", user="U6", channel="C1")
    first = (await fake_slack.wait_for(lambda s: s.responses(), timeout=WAIT))[-1]
    assert first["response_type"] == "ephemeral"
    assert first["text"].startswith("Practice: question 1 of 5")
    assert fake_slack.api_calls("chat.postMessage") == []  # nothing public in the channel
    session_id = int(value_parts(button_values(first["blocks"], "quiz:session")[0])[0])
    value = await session_choice(bot, session_id, 0, right=False)
    await bot.click("quiz:session", value, user="U6", channel="C1", is_ephemeral=True)
    swapped = await fake_slack.wait_for(
        lambda s: len(s.responses()) == 2 and s.responses(), timeout=WAIT
    )
    assert swapped[-1]["replace_original"] is True
    assert "Not quite." in swapped[-1]["text"] and "The answer is" in swapped[-1]["text"]
    assert updates(fake_slack) == []
    await bot.click("quiz:next", f"{session_id}:1", user="U6", channel="C1", is_ephemeral=True)
    second = await fake_slack.wait_for(
        lambda s: len(s.responses()) == 3 and s.responses(), timeout=WAIT
    )
    assert second[-1]["response_type"] == "ephemeral"
    assert second[-1]["text"].startswith("Practice: question 2 of 5")
    # The wrong answer made that item due again soon; it is in the person's schedule.
    assert (await store_of(bot).practice.card_dues("slack:U6")).keys() == {
        (await store_of(bot).practice.session(session_id)).questions[0].item_id
    }


async def test_help_lists_quiz_and_quiz_help_lists_its_commands(bot, fake_slack):
    await bot.slash("/secbot", "help", user="U1", channel="C1")
    listed = (await fake_slack.wait_for(lambda s: s.responses(), timeout=WAIT))[-1]
    assert "/quiz [10m | topic | me | exam | stats | leaderboard]" in listed["text"]
    await bot.slash("/quiz", "help", user="U1", channel="C1")
    own = await fake_slack.wait_for(
        lambda s: len(s.responses()) == 2 and s.responses(), timeout=WAIT
    )
    assert "/quiz leaderboard [off|on]" in own[-1]["text"]
    assert own[-1]["response_type"] == "ephemeral"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ("99x", "I couldn't read “99x” as a time."),
        ("1.5h", "I couldn't read “1.5h” as a time."),
        ("0m", "“0m” is too short: a question can stay open from 1 minute to 7 days."),
        ("30d", "“30d” is too long: a question can stay open from 1 minute to 7 days."),
        ("10m 2h", "Please give just one time."),
        ("phishing 99x", "I couldn't read “99x” as a time."),
    ],
)
async def test_a_time_that_cant_be_used_is_explained_with_examples(bot, fake_slack, args, says):
    await bot.slash("/quiz", args, user="U1", channel="C1")
    reply = (await fake_slack.wait_for(lambda s: s.responses(), timeout=WAIT))[-1]
    assert reply["response_type"] == "ephemeral"
    assert reply["text"] == says or reply["text"].startswith(says)
    example = "For example: /quiz 10m for 10 minutes, /quiz 2h for 2 hours or /quiz 1d for a day."
    assert example in str(reply["blocks"])
    assert fake_slack.api_calls("chat.postMessage") == []  # nothing was posted
    assert await store_of(bot).channel.latest_post_id() is None


async def test_a_time_in_words_works(bot, fake_slack):
    post_id = await post_question(bot, fake_slack, "10 minutes")
    post = await store_of(bot).channel.post(post_id)
    assert post.closes_at - post.created_at == timedelta(minutes=10)


async def test_the_same_click_after_a_restart_records_nothing_new(
    slack_env, fake_slack, fake_connector
):
    first = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    try:
        post_id = await post_question(first, fake_slack)
        body = block_actions_body(
            "quiz:answer",
            await post_choice(first, post_id, right=True),
            user="U2",
            channel="C1",
            message_ts=(await store_of(first).channel.post(post_id)).message_id,
            response_url=fake_slack.response_url("before"),
            action_ts="1700000300.000001",
        )
        await first.slack_post(body)
        await fake_slack.wait_for(lambda s: s.responses(), timeout=WAIT)
    finally:
        await stop_bot(first)
    assert [r["text"].split()[0] for r in fake_slack.responses()] == ["Correct!"]
    n_updates = len(updates(fake_slack))

    second = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    try:
        # Slack delivers the very same click again (its retry), then the person clicks
        # another option on the same question.
        await second.slack_post(body, headers={"X-Slack-Retry-Num": "1"})
        later = await click_and_wait(
            second, fake_slack, "quiz:answer", await post_choice(second, post_id, right=False), "U2"
        )
        assert "already answered" in later["text"] and "The right answer" in later["text"]
    finally:
        await stop_bot(second)  # waits for every handler, so a late duplicate would show
    assert len(fake_slack.responses()) == 2  # the repeat was dropped without a word
    store = QuizStore(await ready_db(slack_env["SECBOT_DB"]))
    rows = await store.stats.answers(post_id=post_id)
    assert [(r["user_key"], r["correct"]) for r in rows] == [("slack:U2", 1)]
    assert await store.channel.counts(post_id) == (1, 1)
    await store.db.close()
    assert len(updates(fake_slack)) == n_updates  # and the count was not touched


async def test_a_rate_limited_count_update_is_tried_again(bot, fake_slack):
    post_id = await post_question(bot, fake_slack)
    # More 429s than slack_sdk's own three retries, so the quiz has to try again itself.
    fake_slack.rate_limits["chat.update"] = 4
    await click_and_wait(
        bot, fake_slack, "quiz:answer", await post_choice(bot, post_id, right=True), "U2"
    )
    await fake_slack.wait_for(
        lambda s: len(updates(s)) == 5 and "1 answered" in updates(s)[-1]["text"], timeout=WAIT
    )
    await asyncio.wait_for(quiz_of(bot).updates.idle(), WAIT)
    assert len(updates(fake_slack)) == 5


async def test_exam_answers_out_of_turn_are_refused_with_a_way_on(bot, fake_slack):
    await bot.slash("/quiz", "exam", user="U7", channel="D7")
    q1 = (await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"), timeout=WAIT))[-1]
    session_id = int(value_parts(button_values(q1["blocks"], "quiz:session")[0])[0])
    ahead = await click_and_wait(
        bot,
        fake_slack,
        "quiz:session",
        await session_choice(bot, session_id, 3, right=True),
        "U7",
        channel="D7",
    )
    assert "You're on question 1 of 10: please answer that one first." in ahead["text"]
    assert await store_of(bot).stats.answers(session_id=session_id) == []

    first = await session_choice(bot, session_id, 0, right=True)
    await bot.click("quiz:session", first, user="U7", channel="D7")
    await fake_slack.wait_for(lambda s: updates(s), timeout=WAIT)
    again = await click_and_wait(bot, fake_slack, "quiz:session", first, "U7", channel="D7")
    assert "already answered" in again["text"]
    assert "You're on question 2 of 10. Type /quiz exam to carry on." in str(again["blocks"])
    assert len(await store_of(bot).stats.answers(session_id=session_id)) == 1


async def test_what_someone_typed_is_shown_as_typed(bot, fake_slack):
    await bot.slash("/quiz", slack_typed("<!channel> *now*"), user="U1", channel="C1")
    reply = (await fake_slack.wait_for(lambda s: s.responses(), timeout=WAIT))[-1]
    assert "no quiz questions tagged" in reply["text"]
    assert "<!channel>" not in json.dumps(reply)  # never a channel-wide ping
    assert "&lt;!channel&gt;" in reply["text"]


async def test_the_exam_report_shows_every_completion_by_name(bot, fake_slack):
    """A manager reading ``/quiz report`` sees each completion listed, in sections Slack
    shows whole (3,000 characters each)."""
    users = [f"UREP{n:02d}" for n in range(26)]
    for user in users:
        fake_slack.users[user] = f"{user} " + "Longname-" * 8
    fake_slack.users["UTWIN1"] = fake_slack.users["UTWIN2"] = "Sam Same"
    users += ["UTWIN1", "UTWIN2"]
    await asyncio.gather(*(bot.slash("/quiz", "exam", user=u, channel=f"D{u}") for u in users))
    await slack_handled(bot)
    sessions = {
        u: (await store_of(bot).practice.active_session(f"slack:{u}", "exam")).id for u in users
    }

    async def answer(user: str, position: int) -> None:
        value = await session_choice(bot, sessions[user], position, right=position != 0)
        await bot.click("quiz:session", value, user=user, channel=f"D{user}")

    for position in range(10):
        await asyncio.gather(*(answer(u, position) for u in users))
        await slack_handled(bot)
    assert (await store_of(bot).exams.exam_results("slack", "T111", 100))[1] == len(users)

    await bot.slash("/quiz", "report", user="UADMIN", channel="DADMIN")
    (report,) = await fake_slack.wait_for(
        lambda s: [r for r in s.responses() if "Exam completions" in r.get("text", "")],
        timeout=WAIT,
    )
    sections = [b["text"]["text"] for b in report["blocks"] if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections) and not any(s.endswith("…") for s in sections)
    shown = "\n".join(sections)
    for user in users[:-2]:
        assert f"{fake_slack.users[user]}: 9/10, pass" in shown
    assert "Sam Same (Slack, UTWIN1): 9/10" in shown and "Sam Same (Slack, UTWIN2)" in shown
