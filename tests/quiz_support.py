"""Helpers for the quiz tests: a small fixed content library, a bot on a FakeClock, and
ways to find the right (or a wrong) button for whatever was shuffled.

The library is built in code rather than read from ``content/data/quiz/*.yml`` so the quiz
tests pin their own facts (tags, counts) and do not break while the shipped content is
being edited. One engine test also checks the shipped content can compose an exam.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app import SERVICES
from bot.core.actions import button_value
from bot.core.clock import FakeClock
from content.library.loader import ContentLibrary
from content.library.models import MODULES, PRINCIPLES, QuizItem, Tip
from content.quiz.feature import Quiz
from content.quiz.store import QuizStore
from tests.support import RunningBot, start_bot

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday
# Generous: waits end as soon as the fake sees the call, so this only matters on a slow,
# busy machine (the whole suite on a two-core CI runner), where 5 seconds can be too few.
WAIT = 30.0
FEATURES = ["bot.commands.help", "content.quiz.feature"]
TOPIC_FOR_MODULE = {"policy": "approval", "accounts": "phishing", "people": "personal-safety"}


def make_item(module: str, principle: str, n: int = 0) -> QuizItem:
    ident = f"t-{module}-{principle}" + (f"-{n}" if n else "")
    return QuizItem.model_validate(
        {
            "id": ident,
            "stem": {"en": f"Question {ident}: what should the team do about {principle}?"},
            "options": [
                {"text": {"en": f"The right answer for {ident}"}, "correct": True},
                {"text": {"en": f"A wrong answer one for {ident}"}},
                {"text": {"en": f"A wrong answer two for {ident}"}},
                {"text": {"en": f"A wrong answer three for {ident}"}},
            ],
            "explanation": {"en": f"Because {principle} matters in {module}."},
            "module": module,
            "principle": principle,
            "topics": [TOPIC_FOR_MODULE[module]],
            "difficulty": 2,
            "source": {"title": "NCSC guidance", "url": "https://www.ncsc.gov.uk/example"},
        }
    )


def quiz_library() -> ContentLibrary:
    """Fifteen items: one for every module and principle pair."""
    items = [make_item(m, p) for m in MODULES for p in PRINCIPLES]
    return ContentLibrary({i.id: i for i in items}, {})


LIBRARY = quiz_library()
TIP_ID = "tip-quiz-phishing"


def tip_library() -> ContentLibrary:
    """The quiz items plus one tip on phishing, whose "Quiz me on this" draws from the
    five phishing items (the accounts module)."""
    tip = Tip.model_validate(
        {
            "id": TIP_ID,
            "title": {"en": "Check before you click"},
            "body": {"en": "Messages asking you to log in again are a common trick."},
            "action": {"en": "Go to the platform directly instead of following the link."},
            "module": "accounts",
            "principle": "control-access",
            "topics": ["phishing"],
            "source": {"title": "NCSC guidance", "url": "https://www.ncsc.gov.uk/example"},
        }
    )
    return ContentLibrary(dict(LIBRARY.quiz_items), {tip.id: tip})


async def start_quiz_bot(
    env: dict[str, str],
    *,
    clock: FakeClock | None = None,
    slack: Any = None,
    connector: Any = None,
    content: ContentLibrary | None = None,
) -> RunningBot:
    return await start_bot(
        env,
        clock=clock or FakeClock(START),
        slack=slack,
        connector=connector,
        features=FEATURES,
        content=content or LIBRARY,
    )


def quiz_of(bot: RunningBot) -> Quiz:
    return bot.app[SERVICES].feature(Quiz)


def store_of(bot: RunningBot) -> QuizStore:
    return quiz_of(bot).store


def clock_of(bot: RunningBot) -> FakeClock:
    return bot.app[SERVICES].clock


async def post_choice(bot: RunningBot, post_id: int, *, right: bool) -> str:
    """The button value (post id, shown) of the right option, or of a wrong one."""
    post = await store_of(bot).channel.post(post_id)
    assert post is not None
    item = LIBRARY.item(post.item_id)
    assert item is not None
    shown = post.order.index(item.correct_index)
    return button_value(post_id, shown if right else (shown + 1) % 4)


async def session_choice(bot: RunningBot, session_id: int, position: int, *, right: bool) -> str:
    """The button value (session, position, shown) of the right or a wrong option."""
    session = await store_of(bot).practice.session(session_id)
    assert session is not None
    question = session.questions[position]
    item = LIBRARY.item(question.item_id)
    assert item is not None
    shown = question.order.index(item.correct_index)
    return button_value(session_id, position, shown if right else (shown + 1) % 4)


async def latest_post_id(bot: RunningBot) -> int:
    post_id = await store_of(bot).channel.latest_post_id()
    assert post_id is not None, "no quiz question was posted"
    return post_id


def button_values(blocks: list[dict], prefix: str) -> list[str]:
    """Values of Slack buttons whose action id starts with ``prefix`` (``quiz:answer``)."""
    return [
        el["value"]
        for b in blocks
        if b.get("type") == "actions"
        for el in b["elements"]
        if el["action_id"].split("#")[0] == prefix
    ]


def card_values(card: dict, verb: str) -> list[str]:
    """Values of Adaptive Card Action.Execute buttons with ``verb``."""
    return [
        a["data"]["value"]
        for el in card["body"]
        if el.get("type") == "ActionSet"
        for a in el["actions"]
        if a.get("verb") == verb
    ]


def web_values(message: dict, action_id: str) -> list[str]:
    return [
        b["value"]
        for blk in message["blocks"]
        if blk["type"] == "actions"
        for b in blk["buttons"]
        if b["action_id"] == action_id
    ]
