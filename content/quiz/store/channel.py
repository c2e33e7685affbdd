"""The SQL of questions posted in a channel: the post, its answers (one per person) and
when it closes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.core.model import MessageRef, Place
from bot.storage.db import transaction
from content.quiz.store.answers import Answer, AnswerResult, insert_answer, save_card
from content.quiz.store.schema import iso, parse_time


@dataclass(frozen=True)
class Post:
    """A question posted in a channel."""

    id: int
    item_id: str
    order: list[int]
    tag: str
    place: Place
    message_id: str | None
    posted_by: str
    created_at: datetime
    closes_at: datetime
    closed_at: datetime | None

    @property
    def ref(self) -> MessageRef | None:
        return MessageRef(self.place, self.message_id) if self.message_id else None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


def _post(row) -> Post:
    return Post(
        id=row["id"],
        item_id=row["item_id"],
        order=json.loads(row["option_order"]),
        tag=row["tag"],
        place=Place(
            row["platform"],
            row["workspace"],
            row["channel"],
            bool(row["is_direct"]),
            row["thread"],
        ),
        message_id=row["message_id"],
        posted_by=row["posted_by"],
        created_at=parse_time(row["created_at"]),
        closes_at=parse_time(row["closes_at"]),
        closed_at=parse_time(row["closed_at"]) if row["closed_at"] else None,
    )


class ChannelStore:
    """Questions posted in channels and the answers to them."""

    def __init__(self, db: Database):
        self.db = db

    def create_post(
        self,
        item_id: str,
        order: list[int],
        tag: str,
        place: Place,
        posted_by: str,
        now: datetime,
        closes_at: datetime,
        delivery_key: str | None = None,
    ) -> Post:
        """The question's row, written before its message is posted (the intent): a
        delivery replayed after a crash finds it by ``delivery_key`` (see
        :meth:`post_for_delivery`) and only completes the post if it has no message yet."""
        cur = self.db.execute(
            "INSERT INTO quiz_posts (item_id, option_order, tag, platform, workspace, channel,"
            " is_direct, thread, posted_by, created_at, closes_at, delivery_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                item_id,
                json.dumps(order),
                tag,
                place.platform,
                place.workspace,
                place.channel,
                int(place.is_direct),
                place.thread,
                posted_by,
                iso(now),
                iso(closes_at),
                delivery_key,
            ],
        )
        assert cur.lastrowid is not None
        post = self.post(cur.lastrowid)
        assert post is not None
        return post

    def post_for_delivery(self, delivery_key: str) -> Post | None:
        row = self.db.execute(
            "SELECT * FROM quiz_posts WHERE delivery_key = ?", [delivery_key]
        ).fetchone()
        return _post(row) if row else None

    def delete_post(self, post_id: int) -> None:
        """Only for a question whose message could not be posted at all."""
        self.db.execute("DELETE FROM quiz_posts WHERE id = ?", [post_id])

    def post(self, post_id: int) -> Post | None:
        row = self.db.execute("SELECT * FROM quiz_posts WHERE id = ?", [post_id]).fetchone()
        return _post(row) if row else None

    def latest_post_id(self) -> int | None:
        """The newest channel question's id (None: nothing was ever posted)."""
        row = self.db.execute("SELECT MAX(id) FROM quiz_posts").fetchone()
        return None if row[0] is None else int(row[0])

    def set_message(self, post_id: int, message_id: str) -> None:
        self.db.execute(
            "UPDATE quiz_posts SET message_id = ? WHERE id = ? AND message_id IS NULL",
            [message_id, post_id],
        )

    def recent_items(self, place: Place, limit: int) -> set[str]:
        rows = self.db.execute(
            "SELECT item_id FROM quiz_posts WHERE platform = ? AND workspace = ? AND channel = ?"
            " ORDER BY id DESC LIMIT ?",
            [place.platform, place.workspace, place.channel, limit],
        ).fetchall()
        return {r[0] for r in rows}

    def counts(self, post_id: int) -> tuple[int, int]:
        """(answered, correct) for a channel question."""
        row = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(correct), 0) FROM quiz_answers WHERE post_id = ?",
            [post_id],
        ).fetchone()
        return int(row[0]), int(row[1])

    def close_post(self, post_id: int, now: datetime) -> bool:
        """True for the one caller that actually closed it."""
        cur = self.db.execute(
            "UPDATE quiz_posts SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            [iso(now), post_id],
        )
        return cur.rowcount == 1

    def due_posts(self, now: datetime) -> list[Post]:
        rows = self.db.execute(
            "SELECT * FROM quiz_posts WHERE closed_at IS NULL AND closes_at <= ?"
            " ORDER BY closes_at",
            [iso(now)],
        ).fetchall()
        return [_post(r) for r in rows]

    def next_deadline(self) -> datetime | None:
        row = self.db.execute(
            "SELECT MIN(closes_at) FROM quiz_posts WHERE closed_at IS NULL"
        ).fetchone()
        return parse_time(row[0]) if row and row[0] else None

    def record_post_answer(
        self,
        post: Post,
        answer: Answer,
        delivery_key: str | None = None,
    ) -> AnswerResult:
        """Record one person's answer to a channel question, at most once, while it is open.

        ``replayed``: this very delivery (``delivery_key``) recorded the answer already;
        a crash came between that and the end of its handling."""
        now = answer.now
        with transaction(self.db) as conn:
            row = conn.execute(
                "SELECT closed_at, closes_at FROM quiz_posts WHERE id = ?", [post.id]
            ).fetchone()
            if row["closed_at"] is not None:
                return AnswerResult("closed")
            if row["closes_at"] <= iso(now):
                return AnswerResult("due")
            previous = conn.execute(
                "SELECT choice, delivery_key FROM quiz_answers WHERE post_id = ? AND user_key = ?",
                [post.id, answer.actor.key],
            ).fetchone()
            if previous is not None:
                if delivery_key is not None and previous[1] == delivery_key:
                    return AnswerResult("replayed", previous[0])
                return AnswerResult("duplicate", previous[0])
            seconds = max(0.0, (now - post.created_at).total_seconds())
            insert_answer(
                conn, answer, seconds, "channel", post_id=post.id, delivery_key=delivery_key
            )
            save_card(conn, answer)
        return AnswerResult("recorded")
