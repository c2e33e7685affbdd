"""What every part of the quiz shares: the store, the content, the clock and the few
replies (no content, an unknown topic) that any command may need."""

from __future__ import annotations

import random
from datetime import datetime, tzinfo
from typing import Any

from bot.core import Services, Turn
from content.library.models import QuizItem
from content.quiz import engine, render
from content.quiz.store import Answer, QuizStore, Review


class QuizShared:
    """The services, store and random source one quiz instance's parts work with."""

    def __init__(self, services: Services, store: QuizStore, months: int):
        self.services = services
        self.store = store
        self.rng = random.Random()
        self.refresh_months = months

    @property
    def clock(self):
        return self.services.clock

    @property
    def tz(self) -> tzinfo:
        return self.services.settings.tz

    def library(self):
        lib = self.services.content
        return lib if lib and getattr(lib, "quiz_items", None) else None

    async def no_content(self, turn: Turn) -> None:
        await turn.reply(
            render.private(
                "The quiz questions aren't loaded, so the quiz isn't available right now."
                " Please ask your secbot administrator to check the content."
            )
        )

    @staticmethod
    def private(turn: Turn) -> bool:
        return not turn.place.is_direct

    @staticmethod
    def items_for(lib, tag: str) -> list[QuizItem] | None:
        """Live items for ``tag`` (all when blank); None if the tag matches nothing."""
        items = lib.items_for_tag(tag) if tag else list(lib.quiz_items.values())
        items = [i for i in items if i.enabled]
        return items or None

    async def library_items(self, turn: Turn, tag: str) -> tuple[Any, list[QuizItem]] | None:
        """The library and its live items for ``tag``, or None once the person has been
        told why there are none (no content loaded, or an unknown tag)."""
        lib = self.library()
        if lib is None:
            await self.no_content(turn)
            return None
        items = self.items_for(lib, tag)
        if items is None:
            await self.unknown_tag(turn, lib, tag)
            return None
        return lib, items

    async def unknown_tag(self, turn: Turn, lib, tag: str) -> None:
        tags = lib.tags()
        where = turn.place
        for word in tag.split():
            # "99x" or "1.5h" was meant as a time, so say how to give one. A topic that
            # starts with a digit ("2fa") is a known tag, or not time-like, so not caught.
            if word not in tags and engine.looks_like_time(word):
                await turn.reply(render.bad_time(str(engine.unreadable_time(word)), where))
                return
        await turn.reply(render.unknown_tag(tag, tags, where))

    @staticmethod
    def review(user_key: str, item_id: str, correct: bool, now: datetime) -> Review:
        """How an answer moves the person's spaced-repetition card for the item."""
        return lambda old: engine.review(old, correct, now, user_key=user_key, item_id=item_id)

    def answer(self, turn: Turn, item: QuizItem, choice: int, now: datetime) -> Answer:
        """The clicker's answer ``choice`` (an original index) to ``item``, marked."""
        correct = choice == item.correct_index
        review = self.review(turn.actor.key, item.id, correct, now)
        return Answer(
            turn.actor,
            turn.place,
            item.id,
            item.module,
            item.principle,
            choice,
            correct,
            now,
            review,
        )

    async def scores(self, user_key: str) -> dict[str, engine.Score]:
        return {
            p: engine.Score(answered, correct)
            for p, (answered, correct) in (
                await self.store.stats.principle_scores(user_key)
            ).items()
        }

    async def session_scores(self, session_id: int, column: str) -> dict[str, engine.Score]:
        out: dict[str, engine.Score] = {}
        for row in await self.store.practice.session_answers(session_id):
            s = out.get(row[column], engine.Score())
            out[row[column]] = engine.Score(s.answered + 1, s.correct + row["correct"])
        return out
