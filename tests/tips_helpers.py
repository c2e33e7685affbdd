"""Helpers for the daily-tips tests: a small fixed content library and polling helpers.

The tests use their own library rather than the shipped YAML, so rotation counts and
quiz answers do not change when content editors add tips.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app import SERVICES
from content.library.loader import ContentLibrary
from content.library.models import QuizItem, Tip
from content.tips.delivery import TipDelivery
from tests.support import RunningBot, eventually  # noqa: F401 - tips tests import it here

SOURCE = {"title": "NCSC: Social media", "url": "https://www.ncsc.gov.uk/guidance/social-media"}
TOPICS = ["2fa", "phishing", "passwords", "leavers", "approval"]
# Where the tips tests' clock starts (the `clock` fixture in conftest.py).
MONDAY_0800 = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # GMT, so local 08:00


def make_tip(n: int, topic: str) -> Tip:
    return Tip.model_validate(
        {
            "id": f"tip-t{n:02d}",
            "title": {"en": f"Tip number {n}"},
            "body": {"en": f"Body of tip {n}."},
            "action": {"en": f"Do thing {n}."},
            "module": "accounts",
            "principle": "control-access",
            "topics": [topic],
            "source": SOURCE,
        }
    )


def make_item(n: int, topic: str) -> QuizItem:
    return QuizItem.model_validate(
        {
            "id": f"q-t{n:02d}",
            "stem": {"en": f"Question {n} about {topic}?"},
            "options": [
                {"text": {"en": f"Right answer {n}"}, "correct": True},
                {"text": {"en": f"Wrong answer {n}a"}},
                {"text": {"en": f"Wrong answer {n}b"}},
                {"text": {"en": f"Wrong answer {n}c"}},
            ],
            "explanation": {"en": f"Because of reason {n}."},
            "module": "policy",
            "principle": "content-approval",
            "topics": [topic],
            "difficulty": 1,
            "source": SOURCE,
        }
    )


def library(n_tips: int = 5) -> ContentLibrary:
    tips = [make_tip(i, TOPICS[(i - 1) % len(TOPICS)]) for i in range(1, n_tips + 1)]
    items = [make_item(1, "2fa"), make_item(2, "phishing"), make_item(3, "audit-logs")]
    return ContentLibrary({i.id: i for i in items}, {t.id: t for t in tips})


def tips_of(bot: RunningBot) -> TipDelivery:
    return bot.app[SERVICES].feature(TipDelivery)


def tip_posts(fake_slack, channel: str | None = None) -> list[dict[str, Any]]:
    """chat.postMessage calls that carried a tip (not confirmations)."""
    return [
        b
        for b in fake_slack.api_calls("chat.postMessage")
        if str(b.get("text", "")).startswith("Security tip:")
        and (channel is None or b.get("channel") == channel)
    ]


def tip_id_of(post: dict[str, Any]) -> str:
    for block in post.get("blocks") or []:
        for el in block.get("elements") or []:
            if el.get("action_id", "").startswith("tip:quiz"):
                return el["value"]
    raise AssertionError("no tip id in post")


async def checked(bot: RunningBot) -> None:
    """Wait until the tips worker has finished a full pass at the current (fake) time:
    everything due by now is claimed and sent, refused or skipped. Event-driven, so a
    "nothing was posted" assertion after it means nothing, not "nothing yet"."""
    await tips_of(bot).checked(timeout=30.0)


def unpaced(bot: RunningBot) -> RunningBot:
    """Turn off per-conversation pacing (real seconds) for tests that move the fake clock
    through many days in a second or two; the pacing tests keep it on."""
    pacer = tips_of(bot).fanout.pacer
    pacer.per_conversation.clear()
    pacer.per_workspace.clear()
    return bot
