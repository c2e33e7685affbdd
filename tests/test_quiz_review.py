"""Learning from mistakes, end to end in Slack, Teams and the web chat.

- The exam ends with a review of each wrong answer: the question, the answer given, the
  right answer, the explanation and its source (title and link).
- Practice shows the explanation and source straight after a wrong answer.
- "Quiz me on this" under a tip asks a question on the tip's own topic, not merely one
  from the same module or principle.
"""

from __future__ import annotations

import json

import pytest

from bot.core.actions import value_parts
from bot.core.clock import FakeClock
from content.library.loader import ContentLibrary
from content.library.models import Tip
from content.quiz.render import option_label, source_line
from tests.quiz_support import (
    LIBRARY,
    START,
    WAIT,
    button_values,
    card_values,
    session_choice,
    start_quiz_bot,
    store_of,
    web_values,
)
from tests.support import start_bot, stop_bot

WRONG = (1, 6)  # the exam questions answered wrongly (0-based positions)


@pytest.fixture
async def bot(slack_env, fake_slack, fake_connector):
    b = await start_quiz_bot(slack_env, slack=fake_slack, connector=fake_connector)
    yield b
    await stop_bot(b)


async def expected_review(bot, session_id: int) -> list[str]:
    """The lines the review must show for each wrong answer, worked out independently
    from the stored session (what was shown) and the library (what is right)."""
    session = await store_of(bot).practice.session(session_id)
    lines = []
    for position in WRONG:
        question = session.questions[position]
        item = LIBRARY.item(question.item_id)
        shown_right = question.order.index(item.correct_index)
        given = question.order[(shown_right + 1) % 4]  # what session_choice(right=False) picks
        lines += [
            f"Question {position + 1}: {item.stem.en}",
            f"Your answer: {option_label(item, question.order, given)}",
            f"Right answer: {option_label(item, question.order, item.correct_index)}",
            f"Why: {item.explanation.en}",
            source_line(item),
        ]
    return lines


async def right_questions(bot, session_id: int) -> list[str]:
    session = await store_of(bot).practice.session(session_id)
    return [
        LIBRARY.item(q.item_id).stem.en for n, q in enumerate(session.questions) if n not in WRONG
    ]


def unlink(slack_text: str) -> str:
    """Slack mrkdwn with its link brackets taken off (a web address is sent as
    ``<https://...>`` so it stays one click away), to compare with plain text."""
    return slack_text.replace("<", "").replace(">", "")


async def assert_review(shown: str, bot, session_id: int) -> None:
    assert "Exam complete: passed. You scored 8 out of 10 (80%)." in shown
    assert "Review: the questions you got wrong" in shown
    for line in await expected_review(bot, session_id):
        assert line in shown, line
    for stem in await right_questions(bot, session_id):
        assert stem not in shown, "a question answered rightly is not reviewed"


# --- the exam's review --------------------------------------------------------------


async def test_slack_exam_ends_with_a_review_of_each_wrong_answer(bot, fake_slack):
    await bot.slash("/quiz", "exam", user="U7", channel="D7")
    first = (await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"), timeout=WAIT))[-1]
    session_id = int(value_parts(button_values(first["blocks"], "quiz:session")[0])[0])
    for position in range(10):
        n = len(fake_slack.api_calls("chat.update"))
        value = await session_choice(bot, session_id, position, right=position not in WRONG)
        await bot.click("quiz:session", value, user="U7", channel="D7")
        await fake_slack.wait_for(lambda s, n=n: len(s.api_calls("chat.update")) > n, timeout=WAIT)
    final = fake_slack.api_calls("chat.update")[-1]
    texts = [b["text"]["text"] for b in final["blocks"] if b["type"] == "section" and b.get("text")]
    texts += [e["text"] for b in final["blocks"] if b["type"] == "context" for e in b["elements"]]
    texts += [b["text"]["text"] for b in final["blocks"] if b["type"] == "header"]
    await assert_review(unlink("\n".join(texts) + final["text"]), bot, session_id)
    assert "Review of your 2 wrong answers below" in final["text"]


async def test_teams_exam_ends_with_a_review_of_each_wrong_answer(bot, fake_connector):
    conv = {"conversation": "a:personal-9", "personal": True, "user": "29:u9", "aad": "aad-9"}
    await bot.teams_say("quiz exam", **conv)
    sent = await fake_connector.wait_for(lambda s: s.sent(), timeout=WAIT)
    session_id = int(
        value_parts(card_values(sent[-1]["attachments"][0]["content"], "quiz:session")[0])[0]
    )
    for position in range(10):
        n = len(fake_connector.updates())
        await bot.teams_click(
            "quiz:session",
            await session_choice(bot, session_id, position, right=position not in WRONG),
            reply_to_id="activity-exam",
            **conv,
        )
        await fake_connector.wait_for(lambda s, n=n: len(s.updates()) > n, timeout=WAIT)
    card = fake_connector.updates()[-1]["attachments"][0]["content"]
    shown = "\n".join(
        el["text"] for el in card["body"] if el.get("type") == "TextBlock"
    ) + json.dumps(card, ensure_ascii=False)
    await assert_review(shown, bot, session_id)


async def test_web_exam_ends_with_a_review_of_each_wrong_answer(bot):
    async def newest() -> dict:
        mine = await bot.web_messages(user="web-user-3", conversation="dm")
        return [m for m in mine if m["sender"] == "bot"][-1]

    await bot.web_send(text="quiz exam", user="web-user-3", conversation="dm")
    q = await newest()
    session_id = int(value_parts(web_values(q, "quiz:session")[0])[0])
    for position in range(10):
        value = await session_choice(bot, session_id, position, right=position not in WRONG)
        action = {"action_id": "quiz:session", "value": value, "message_id": str(q["id"])}
        status, _ = await bot.web_send(action=action, user="web-user-3", conversation="dm")
        assert status == 200
        q = await newest()
    shown = json.dumps(q["blocks"], ensure_ascii=False) + q["text"]
    await assert_review(shown, bot, session_id)


async def test_a_perfect_exam_has_nothing_to_review(bot):
    await bot.web_send(text="quiz exam", user="web-user-4", conversation="dm")
    mine = await bot.web_messages(user="web-user-4", conversation="dm")
    q = [m for m in mine if m["sender"] == "bot"][-1]
    session_id = int(value_parts(web_values(q, "quiz:session")[0])[0])
    for position in range(10):
        value = await session_choice(bot, session_id, position, right=True)
        action = {"action_id": "quiz:session", "value": value, "message_id": str(q["id"])}
        await bot.web_send(action=action, user="web-user-4", conversation="dm")
        mine = await bot.web_messages(user="web-user-4", conversation="dm")
        q = [m for m in mine if m["sender"] == "bot"][-1]
    assert "You scored 10 out of 10" in q["text"]
    assert "You got every question right." in q["text"]
    assert "Review:" not in json.dumps(q["blocks"])


# --- practice: the explanation and source straight after a wrong answer ---------------


async def practice_expectations(bot, session_id: int) -> tuple[str, str, str]:
    question = (await store_of(bot).practice.session(session_id)).questions[0]
    item = LIBRARY.item(question.item_id)
    right = option_label(item, question.order, item.correct_index)
    return f"The answer is {right}", item.explanation.en, source_line(item)


async def test_practice_explains_a_wrong_answer_in_slack(bot, fake_slack):
    await bot.slash("/quiz", "me", user="U5", channel="D5")
    first = (await fake_slack.wait_for(lambda s: s.api_calls("chat.postMessage"), timeout=WAIT))[-1]
    session_id = int(value_parts(button_values(first["blocks"], "quiz:session")[0])[0])
    await bot.click(
        "quiz:session",
        await session_choice(bot, session_id, 0, right=False),
        user="U5",
        channel="D5",
    )
    upd = (await fake_slack.wait_for(lambda s: s.api_calls("chat.update"), timeout=WAIT))[-1]
    shown = unlink(json.dumps(upd["blocks"], ensure_ascii=False))
    assert "Not quite." in upd["text"]
    for expected in await practice_expectations(bot, session_id):
        assert expected in shown


async def test_practice_explains_a_wrong_answer_in_teams(bot, fake_connector):
    conv = {"conversation": "a:personal-5", "personal": True, "user": "29:u5", "aad": "aad-5"}
    await bot.teams_say("quiz me", **conv)
    sent = await fake_connector.wait_for(lambda s: s.sent(), timeout=WAIT)
    content = sent[-1]["attachments"][0]["content"]
    session_id = int(value_parts(card_values(content, "quiz:session")[0])[0])
    await bot.teams_click(
        "quiz:session",
        await session_choice(bot, session_id, 0, right=False),
        reply_to_id="activity-p",
        **conv,
    )
    upd = (await fake_connector.wait_for(lambda s: s.updates(), timeout=WAIT))[-1]
    shown = json.dumps(upd["attachments"][0]["content"], ensure_ascii=False)
    for expected in await practice_expectations(bot, session_id):
        assert expected in shown


async def test_practice_explains_a_wrong_answer_in_the_web_chat(bot):
    await bot.web_send(text="quiz me", user="web-user-5", conversation="dm")
    mine = await bot.web_messages(user="web-user-5", conversation="dm")
    q = [m for m in mine if m["sender"] == "bot"][-1]
    session_id = int(value_parts(web_values(q, "quiz:session")[0])[0])
    value = await session_choice(bot, session_id, 0, right=False)
    action = {"action_id": "quiz:session", "value": value, "message_id": str(q["id"])}
    await bot.web_send(action=action, user="web-user-5", conversation="dm")
    mine = await bot.web_messages(user="web-user-5", conversation="dm")
    shown = json.dumps([m for m in mine if m["sender"] == "bot"][-1], ensure_ascii=False)
    for expected in await practice_expectations(bot, session_id):
        assert expected in shown


# --- "Quiz me on this": a question on the tip's own topic ------------------------------

TOPIC_TIP = "tip-personal-safety"


def topic_library() -> ContentLibrary:
    """A tip mainly on personal safety (its first topic), also tagged phishing, filed under
    the accounts module and control-access. Items from that module, that principle and
    on phishing exist in plenty, but only the people module's items (quiz_support tags
    them personal-safety) are on the tip's main topic."""
    tip = Tip.model_validate(
        {
            "id": TOPIC_TIP,
            "title": {"en": "Keep your role off public profiles"},
            "body": {"en": "Staff who run official accounts can be targets."},
            "action": {"en": "Check what your public profiles say about your job."},
            "module": "accounts",
            "principle": "control-access",
            "topics": ["personal-safety", "phishing"],
            "source": {"title": "NPSA", "url": "https://www.npsa.gov.uk/my-digital-footprint"},
        }
    )
    return ContentLibrary(dict(LIBRARY.quiz_items), {tip.id: tip})


@pytest.fixture
async def tip_bot(slack_env, fake_slack, fake_connector):
    b = await start_bot(
        slack_env,
        clock=FakeClock(START),
        slack=fake_slack,
        connector=fake_connector,
        features=["bot.commands.help", "content.tips.feature", "content.quiz.feature"],
        content=topic_library(),
    )
    yield b
    await stop_bot(b)


def assert_on_topic(item_ids: list[str]) -> None:
    for item_id in item_ids:
        item = LIBRARY.item(item_id)
        assert "personal-safety" in item.topics, f"{item_id} is off the tip's topic"


async def test_slack_quiz_me_on_this_asks_about_the_tips_topic(tip_bot, fake_slack):
    for n in range(6):
        await tip_bot.click("tip:quiz", TOPIC_TIP, user=f"U{n}", channel="C1")
        await fake_slack.wait_for(lambda s, n=n: len(s.responses()) > n, timeout=WAIT)
    asked = [
        button_values(r["blocks"], "tip:quizanswer")[0].split("|")[0]
        for r in fake_slack.responses()
    ]
    assert len(asked) == 6
    assert_on_topic(asked)


async def test_teams_quiz_me_on_this_asks_about_the_tips_topic(tip_bot):
    asked = []
    for n in range(6):
        who = {"user": f"29:user-{n}", "aad": f"aad-user-{n}", "name": f"Person {n}"}
        _, shown = await tip_bot.teams_click(
            "tip:quiz", TOPIC_TIP, conversation="19:chan@thread.tacv2", **who
        )
        asked.append(card_values(shown["value"], "tip:quizanswer")[0].split("|")[0])
    assert_on_topic(asked)


async def test_web_quiz_me_on_this_asks_about_the_tips_topic(tip_bot):
    asked = []
    for n in range(1, 7):
        user = f"web-user-{n}"
        await tip_bot.web_send(action={"action_id": "tip:quiz", "value": TOPIC_TIP}, user=user)
        mine = [m for m in await tip_bot.web_messages(user=user) if m["sender"] == "bot"]
        asked.append(web_values(mine[-1], "tip:quizanswer")[0].split("|")[0])
    assert_on_topic(asked)
