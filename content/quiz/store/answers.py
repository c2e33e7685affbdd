"""What every quiz answer shares, wherever it was given: its row in quiz_answers and the
person's spaced-repetition card, written in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, bindparam, select, type_coerce
from sqlalchemy.dialects.sqlite import insert
from sqlite_utils import Database

from bot.core.model import Actor, Place
from bot.storage.sql import UtcDateTime, run
from content.quiz.store.tables import quiz_answers, quiz_cards

# What a store method does with a person's card: old card JSON (or None) -> (new JSON, due).
Review = Callable[[str | None], tuple[str, datetime]]

ANSWER_FILTERS = {"user_key", "post_id", "session_id", "prompt_id", "item_id", "context", "channel"}


@dataclass(frozen=True)
class Answer:
    """One person's answer to one item: who, where, which option (its original index),
    whether it was right, when, and how it moves their spaced-repetition card."""

    actor: Actor
    place: Place
    item_id: str
    module: str
    principle: str
    choice: int
    correct: bool
    now: datetime
    review: Review


@dataclass(frozen=True)
class AnswerResult:
    """``status``: recorded | replayed | duplicate | closed | due | stale | not-yours |
    finished."""

    status: str
    previous_choice: int | None = None


# Statements are built once, here, and run with their parameters: building one costs
# more than running it, and a burst of clicks runs these hundreds of times a second.
_c = quiz_cards.c
_INSERT_ANSWER = quiz_answers.insert()
_CARD = select(_c.card).where(
    (_c.user_key == bindparam("user_key")) & (_c.item_id == bindparam("item_id"))
)
_upsert = insert(quiz_cards)
_SAVE_CARD = _upsert.on_conflict_do_update(
    index_elements=[_c.user_key, _c.item_id],
    set_={
        "card": _upsert.excluded.card,
        "due": _upsert.excluded.due,
        "reviews": _c.reviews + 1,
        "lapses": _c.lapses + _upsert.excluded.lapses,
        "updated_at": _upsert.excluded.updated_at,
    },
)
# Answer rows as stored: times as their text, as these rows have always been handed out.
_ANSWER_ROWS = select(
    *(
        type_coerce(c, Text).label(c.name) if isinstance(c.type, UtcDateTime) else c
        for c in quiz_answers.c
    )
).order_by(quiz_answers.c.id)


def insert_answer(
    db: Database,
    answer: Answer,
    seconds: float,
    context: str,
    *,
    post_id: int | None = None,
    session_id: int | None = None,
    position: int | None = None,
    prompt_id: int | None = None,
    delivery_key: str | None = None,
) -> None:
    run(
        db,
        _INSERT_ANSWER,
        {
            "user_key": answer.actor.key,
            "user_name": answer.actor.name,
            "item_id": answer.item_id,
            "module": answer.module,
            "principle": answer.principle,
            "choice": answer.choice,
            "correct": int(answer.correct),
            "seconds": round(seconds, 3),
            "context": context,
            "post_id": post_id,
            "session_id": session_id,
            "position": position,
            "prompt_id": prompt_id,
            "platform": answer.place.platform,
            "workspace": answer.place.workspace,
            "channel": answer.place.channel,
            "answered_at": answer.now,
            "delivery_key": delivery_key,
        },
    )


def save_card(db: Database, answer: Answer) -> None:
    """Apply the answer to the person's spaced-repetition card for the item."""
    key = {"user_key": answer.actor.key, "item_id": answer.item_id}
    card, due = answer.review(run(db, _CARD, key).scalar())
    run(
        db,
        _SAVE_CARD,
        {
            **key,
            "card": card,
            "due": due,
            "reviews": 1,
            "lapses": int(not answer.correct),
            "updated_at": answer.now,
        },
    )


def answer_rows(db: Database, **where: object) -> list[dict]:
    """Answer rows as dicts, filtered by equal columns (for reports and tests)."""
    if not set(where) <= ANSWER_FILTERS:
        raise ValueError(f"can't filter answers by {sorted(set(where) - ANSWER_FILTERS)}")
    # Bound values, so None compares as SQL's NULL does (matching nothing), as before.
    query = _ANSWER_ROWS.where(*(quiz_answers.c[k] == bindparam(k, v) for k, v in where.items()))
    return [dict(r._mapping) for r in run(db, query).all()]
