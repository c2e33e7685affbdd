"""What every quiz answer shares, wherever it was given: its row in quiz_answers and the
person's spaced-repetition card, written in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.core.model import Actor, Place
from content.quiz.store.schema import iso

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


def insert_answer(
    conn,
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
    conn.execute(
        "INSERT INTO quiz_answers (user_key, user_name, item_id, module, principle, choice,"
        " correct, seconds, context, post_id, session_id, position, prompt_id, platform,"
        " workspace, channel, answered_at, delivery_key)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            answer.actor.key,
            answer.actor.name,
            answer.item_id,
            answer.module,
            answer.principle,
            answer.choice,
            int(answer.correct),
            round(seconds, 3),
            context,
            post_id,
            session_id,
            position,
            prompt_id,
            answer.place.platform,
            answer.place.workspace,
            answer.place.channel,
            iso(answer.now),
            delivery_key,
        ],
    )


def save_card(conn, answer: Answer) -> None:
    """Apply the answer to the person's spaced-repetition card for the item."""
    user_key, item_id = answer.actor.key, answer.item_id
    row = conn.execute(
        "SELECT card FROM quiz_cards WHERE user_key = ? AND item_id = ?", [user_key, item_id]
    ).fetchone()
    card, due = answer.review(row[0] if row else None)
    conn.execute(
        "INSERT INTO quiz_cards (user_key, item_id, card, due, reviews, lapses, updated_at)"
        " VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (user_key, item_id) DO UPDATE SET"
        " card = excluded.card, due = excluded.due, reviews = reviews + 1,"
        " lapses = lapses + excluded.lapses, updated_at = excluded.updated_at",
        [user_key, item_id, card, iso(due), int(not answer.correct), iso(answer.now)],
    )


def answer_rows(db: Database, **where: object) -> list[dict]:
    """Answer rows as dicts, filtered by equal columns (for reports and tests)."""
    if not set(where) <= ANSWER_FILTERS:
        raise ValueError(f"can't filter answers by {sorted(set(where) - ANSWER_FILTERS)}")
    clause = " AND ".join(f"{k} = ?" for k in where) or "1 = 1"
    rows = db.execute(
        f"SELECT * FROM quiz_answers WHERE {clause} ORDER BY id", list(where.values())
    ).fetchall()
    return [dict(r) for r in rows]
