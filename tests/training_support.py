"""Helpers for the assigned training tests: a bot with the quiz and training on a
FakeClock, a teams file, and passing the exam through the real buttons."""

from __future__ import annotations

from pathlib import Path

from app import SERVICES
from bot.core.actions import value_parts
from bot.core.clock import FakeClock
from content.training.feature import Training
from tests.quiz_support import LIBRARY, START, session_choice, web_values
from tests.support import RunningBot, start_bot

FEATURES = ["bot.commands.help", "content.quiz.feature", "content.training.feature"]


def write_teams(folder: Path, text: str) -> str:
    path = folder / "teams.yml"
    path.write_text(text, encoding="utf-8")
    return str(path)


async def start_training_bot(
    env: dict[str, str], *, clock: FakeClock | None = None, slack=None, connector=None
) -> RunningBot:
    return await start_bot(
        env,
        clock=clock or FakeClock(START),
        slack=slack,
        connector=connector,
        features=FEATURES,
        content=LIBRARY,
    )


def training_of(bot: RunningBot) -> Training:
    return bot.app[SERVICES].feature(Training)


async def web_say(bot: RunningBot, text: str, user: str, conversation: str = "dm") -> dict:
    status, body = await bot.web_send(text=text, user=user, conversation=conversation)
    assert status == 200 and body["ok"], body
    return (await web_bot_messages(bot, user, conversation))[-1]


async def web_bot_messages(bot: RunningBot, user: str, conversation: str = "dm") -> list[dict]:
    return [
        m
        for m in await bot.web_messages(user=user, conversation=conversation)
        if m["sender"] == "bot"
    ]


async def web_pass_exam(bot: RunningBot, user: str, right: int = 10) -> None:
    """Take the exam in the web chat, answering ``right`` of ten correctly."""
    q = await web_say(bot, "quiz exam", user)
    session_id = int(value_parts(web_values(q, "quiz:session")[0])[0])
    for position in range(10):
        value = await session_choice(bot, session_id, position, right=position < right)
        status, body = await bot.web_send(
            action={"action_id": "quiz:session", "value": value, "message_id": str(q["id"])},
            user=user,
            conversation="dm",
        )
        assert status == 200 and body["ok"], body
        q = (await web_bot_messages(bot, user))[-1]
    assert q["text"].startswith("Exam complete")


PEOPLE_FEATURES = [*FEATURES, "incidents.register.feature", "incidents.reviews.feature"]


async def start_people_bot(
    env: dict[str, str], *, clock: FakeClock, slack=None, connector=None
) -> RunningBot:
    return await start_bot(
        env, clock=clock, slack=slack, connector=connector, features=PEOPLE_FEATURES,
        content=LIBRARY,
    )  # fmt: skip


def register_of(bot: RunningBot):
    from incidents.register.store import RegisterStore

    return RegisterStore(bot.app[SERVICES].db)


def reviews_of(bot: RunningBot):
    from incidents.reviews.feature import AccessFeature

    return bot.app[SERVICES].feature(AccessFeature)
