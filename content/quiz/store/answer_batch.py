"""Answers to channel questions, recorded by group commit.

A burst of clicks on one question is the quiz's hottest path: every click used to be a
transaction of its own (read the question, look for the person's answer, write it, write
their card), one after another on SQLite's single write lock. Here clicks queued within
one turn of the event loop are recorded in one transaction
(:class:`bot.storage.batched.BatchedWriter`) with a handful of statements for all of them:
the questions are read once ``FOR UPDATE``, earlier answers once, the new answers and new
cards are each one multi-row INSERT. Decisions are made in the order the clicks were
queued, which is the order they arrived in their channel (``bot/in_order.py``), so the
outcome is what one transaction per click, in that order, would have given.

If the batch fails (another instance wrote the same person's card or answer at the same
moment, say) the writer retries each click in a transaction of its own, through the
one-at-a-time path, :meth:`ChannelStore.record_post_answer`, which settles such races.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import bindparam, select

from bot.storage.batched import hot_writer
from bot.storage.sql import Db, execute
from content.quiz.store.answers import (
    _INSERT_ANSWER,
    Answer,
    AnswerResult,
    answer_params,
    save_card,
)
from content.quiz.store.tables import quiz_answers, quiz_cards, quiz_posts

if TYPE_CHECKING:
    from content.quiz.store.channel import Post

# How a click becomes an answer once its question is read (None: not a valid click on it).
Mark = Callable[["Post"], Answer | None]

_p, _a, _c = quiz_posts.c, quiz_answers.c, quiz_cards.c
_POSTS = select(quiz_posts).where(_p.id.in_(bindparam("ids", expanding=True))).with_for_update()
_PREVIOUS = select(_a.post_id, _a.user_key, _a.choice, _a.delivery_key).where(
    _a.post_id.in_(bindparam("ids", expanding=True))
    & _a.user_key.in_(bindparam("users", expanding=True))
)
_CARDS = (
    select(_c.user_key, _c.item_id)
    .where(
        _c.user_key.in_(bindparam("users", expanding=True))
        & _c.item_id.in_(bindparam("items", expanding=True))
    )
    .with_for_update()
)
_INSERT_CARD = quiz_cards.insert()


class Click(NamedTuple):
    post_id: int
    mark: Mark
    delivery_key: str | None


class Recorded(NamedTuple):
    """What became of a click: the question as read when it was recorded (None if there
    is no such question) and the result (``gone``: no such question, or not a valid
    click on it)."""

    post: Post | None
    result: AnswerResult


class AnswerBatches:
    """Group commit for channel answers (see the module's docstring)."""

    def __init__(self, db: Db, one: Callable, read_post: Callable):
        self.db = db
        self._one = one  # ChannelStore.record_post_answer
        self._read_post = read_post  # a row of quiz_posts -> Post
        self.writer = hot_writer(db)

    async def record(self, post_id: int, mark: Mark, delivery_key: str | None) -> Recorded:
        """Queue a click; returns once its answer (or refusal) has committed. Queuing it
        lets the next delivery in the channel start (``bot/in_order.py``)."""
        return await self.writer.submit(Click(post_id, mark, delivery_key), group=self._many)

    async def _many(self, clicks: list[Click]) -> list[Recorded]:
        if len(clicks) == 1:
            return [await self._single(clicks[0])]
        ids = sorted({c.post_id for c in clicks})
        rows = (await execute(self.db, _POSTS, {"ids": ids})).all()
        posts = {r.id: self._read_post(r) for r in rows}
        marked = [(c, posts.get(c.post_id)) for c in clicks]
        answers = [(c, p, c.mark(p) if p is not None else None) for c, p in marked]
        users = sorted({a.actor.key for _, _, a in answers if a is not None})
        seen: dict[tuple[int, str], tuple[int, str | None]] = {}
        if users:
            for r in (await execute(self.db, _PREVIOUS, {"ids": ids, "users": users})).all():
                seen[(r.post_id, r.user_key)] = (r.choice, r.delivery_key)
        out: list[Recorded] = []
        rows_out: list[dict] = []
        fresh: list[Answer] = []
        for click, post, answer in answers:
            result = _decide(click, post, answer, seen)
            out.append(Recorded(post, result))
            if result.status == "recorded" and post is not None and answer is not None:
                seen[(post.id, answer.actor.key)] = (answer.choice, click.delivery_key)
                seconds = max(0.0, (answer.now - post.created_at).total_seconds())
                rows_out.append(
                    answer_params(
                        answer, seconds, "channel", post_id=post.id, delivery_key=click.delivery_key
                    )
                )
                fresh.append(answer)
        if rows_out:
            await execute(self.db, _INSERT_ANSWER, rows_out)
            await self._cards(fresh)
        return out

    async def _single(self, click: Click) -> Recorded:
        post = await self._post(click.post_id)
        answer = click.mark(post) if post is not None else None
        if post is None or answer is None:
            return Recorded(post, AnswerResult("gone"))
        return Recorded(post, await self._one(post, answer, delivery_key=click.delivery_key))

    async def _post(self, post_id: int) -> Post | None:
        rows = (await execute(self.db, _POSTS, {"ids": [post_id]})).all()
        return self._read_post(rows[0]) if rows else None

    async def _cards(self, answers: list[Answer]) -> None:
        """Each answer's move of its person's card: cards nobody has yet in one INSERT,
        the rest (and a second answer on one card in this batch) one by one."""
        users = sorted({a.actor.key for a in answers})
        items = sorted({a.item_id for a in answers})
        params = {"users": users, "items": items}
        have = {(r.user_key, r.item_id) for r in (await execute(self.db, _CARDS, params)).all()}
        new: list[dict] = []
        later: list[Answer] = []
        for a in answers:
            pair = (a.actor.key, a.item_id)
            if pair in have:
                later.append(a)
                continue
            have.add(pair)
            card, due = a.review(None)
            new.append(_new_card(a, card, due))
        if new:
            await execute(self.db, _INSERT_CARD, new)
        for a in later:
            await save_card(self.db, a)


def _decide(
    click: Click,
    post: Post | None,
    answer: Answer | None,
    seen: dict[tuple[int, str], tuple[int, str | None]],
) -> AnswerResult:
    """One click's outcome, as ChannelStore.record_post_answer decides it."""
    if post is None or answer is None:
        return AnswerResult("gone")
    if post.closed_at is not None:
        return AnswerResult("closed")
    if post.closes_at <= answer.now:
        return AnswerResult("due")
    previous = seen.get((post.id, answer.actor.key))
    if previous is not None:
        choice, key = previous
        if click.delivery_key is not None and key == click.delivery_key:
            return AnswerResult("replayed", choice)
        return AnswerResult("duplicate", choice)
    return AnswerResult("recorded")


def _new_card(a: Answer, card: str, due: datetime) -> dict:
    return {
        "user_key": a.actor.key,
        "item_id": a.item_id,
        "card": card,
        "due": due,
        "reviews": 1,
        "lapses": int(not a.correct),
        "updated_at": a.now,
    }
