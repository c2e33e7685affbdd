"""What every quiz answer shares, wherever it was given: its row in quiz_answers and the
person's spaced-repetition card, written in the caller's transaction (``atomic``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Text, bindparam, select, type_coerce, update

from bot.core.model import Actor, Place
from bot.storage.sql import Db, UtcDateTime, execute, upsert
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
_ONE_CARD = (_c.user_key == bindparam("user_key")) & (_c.item_id == bindparam("item_id"))
# The card and its number of reviews, which doubles as the card's version: a card is
# saved only over the version it was worked out from (see save_card).
_CARD = select(_c.card, _c.reviews).where(_ONE_CARD).with_for_update()
_NEW_CARD = upsert(quiz_cards).on_conflict_do_nothing()
_NEXT_CARD = (
    update(quiz_cards)
    .where(
        (_c.user_key == bindparam("card_user"))
        & (_c.item_id == bindparam("card_item"))
        & (_c.reviews == bindparam("seen"))
    )
    .values(
        card=bindparam("new_card"),
        due=bindparam("new_due"),
        reviews=_c.reviews + 1,
        lapses=_c.lapses + bindparam("lapse"),
        updated_at=bindparam("now"),
    )
)
# A review that keeps losing to others (it never does on SQLite, where the write lock is
# held from the start of the transaction) gives up rather than loop for ever.
CARD_ATTEMPTS = 5


class CardConflict(RuntimeError):
    """The card kept changing under a review (CARD_ATTEMPTS times in a row)."""


# Answer rows as stored: times as their text, as these rows have always been handed out.
_TIME_COLUMNS = [c.name for c in quiz_answers.c if isinstance(c.type, UtcDateTime)]
_ANSWER_ROWS = select(
    *(
        type_coerce(c, Text).label(c.name) if isinstance(c.type, UtcDateTime) else c
        for c in quiz_answers.c
    )
).order_by(quiz_answers.c.id)


def answer_params(
    answer: Answer,
    seconds: float,
    context: str,
    *,
    post_id: int | None = None,
    session_id: int | None = None,
    position: int | None = None,
    prompt_id: int | None = None,
    delivery_key: str | None = None,
) -> dict:
    """An answer's row in ``quiz_answers``, as the parameters of its INSERT."""
    return {
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
    }


async def insert_answer(
    db: Db,
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
    params = answer_params(
        answer,
        seconds,
        context,
        post_id=post_id,
        session_id=session_id,
        position=position,
        prompt_id=prompt_id,
        delivery_key=delivery_key,
    )
    await execute(db, _INSERT_ANSWER, params)


async def save_card(db: Db, answer: Answer) -> None:
    """Apply the answer to the person's spaced-repetition card for the item.

    A read-modify-write (the new card is worked out in Python from the old one), so it
    runs in the caller's ``atomic`` block and reads the card ``FOR UPDATE``; and because a
    card that does not exist yet cannot be locked, each write is also conditional on the
    version read (``reviews``; a new card only if there is still none). A write that
    finds the card changed reads it again and reapplies the answer, so two answers on one
    item at once (a channel question and a practice session) both count, neither lost.
    """
    key = {"user_key": answer.actor.key, "item_id": answer.item_id}
    lapses = int(not answer.correct)
    for _ in range(CARD_ATTEMPTS):
        row = (await execute(db, _CARD, key)).first()
        card, due = answer.review(row.card if row else None)
        if row is None:
            saved = await execute(
                db,
                _NEW_CARD,
                {
                    **key,
                    "card": card,
                    "due": due,
                    "reviews": 1,
                    "lapses": lapses,
                    "updated_at": answer.now,
                },
            )
        else:
            saved = await execute(
                db,
                _NEXT_CARD,
                {
                    "card_user": answer.actor.key,
                    "card_item": answer.item_id,
                    "seen": row.reviews,
                    "new_card": card,
                    "new_due": due,
                    "lapse": lapses,
                    "now": answer.now,
                },
            )
        if saved.rowcount == 1:
            return
    raise CardConflict(f"the card kept changing under {CARD_ATTEMPTS} reviews in a row")


async def answer_rows(db: Db, **where: object) -> list[dict]:
    """Answer rows as dicts, filtered by equal columns (for reports and tests)."""
    if not set(where) <= ANSWER_FILTERS:
        raise ValueError(f"can't filter answers by {sorted(set(where) - ANSWER_FILTERS)}")
    # Bound values, so None compares as SQL's NULL does (matching nothing), as before.
    query = _ANSWER_ROWS.where(*(quiz_answers.c[k] == bindparam(k, v) for k, v in where.items()))
    rows = [dict(r._mapping) for r in (await execute(db, query)).all()]
    # Times as the text SQLite keeps; PostgreSQL's driver hands back a datetime.
    for row in rows:
        for name in _TIME_COLUMNS:
            if isinstance(row[name], datetime):
                row[name] = row[name].astimezone(UTC).isoformat(timespec="microseconds")
    return rows
