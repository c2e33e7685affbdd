"""New channel questions, written by group commit.

``/quiz`` in a busy channel arrives in bursts, and its deliveries are handled in the
order they arrived (``bot/in_order.py``). Writing each question in a transaction of its
own, after reading what the channel was asked lately, made each ``/quiz`` wait for the
one before it, commit by commit. Here the questions queued within one turn of the event
loop are written together (:class:`bot.storage.batched.BatchedWriter`): one read of
questions already made for these deliveries (a replay after a crash finds its own, as
``ChannelStore.post_for_delivery`` did), one read of each channel's recent questions,
the choices made in arrival order (each sees the ones before it, so two ``/quiz`` in a row
still avoid repeating a question), then one multi-row INSERT.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import bindparam, insert, select

from bot.core.model import Place
from bot.storage.batched import hot_writer
from bot.storage.sql import Db, execute
from content.quiz.store.tables import quiz_posts

if TYPE_CHECKING:
    from content.quiz.store.channel import Post

_p = quiz_posts.c
_MADE = select(quiz_posts).where(_p.delivery_key.in_(bindparam("keys", expanding=True)))
# The items last asked in a channel, newest first (channel.py asks it too).
RECENT_ITEMS = (
    select(_p.item_id)
    .where(
        (_p.platform == bindparam("platform"))
        & (_p.workspace == bindparam("workspace"))
        & (_p.channel == bindparam("channel"))
    )
    .order_by(_p.id.desc())
    .limit(bindparam("limit"))
)
_INSERT = insert(quiz_posts).returning(_p.id, sort_by_parameter_order=True)


class NewPost(NamedTuple):
    place: Place
    posted_by: str
    tag: str
    now: datetime
    closes_at: datetime
    delivery_key: str | None
    # The channel's recently asked item ids -> (the item to ask, its option order).
    choose: Callable[[set[str]], tuple[str, list[int]]]


class Made(NamedTuple):
    post: Post
    created: bool  # False: this delivery's question was written before (a replay)


class PostBatches:
    def __init__(self, db: Db, read_post: Callable, make_post: type[Post], recent: int):
        self.db = db
        self._read_post = read_post  # a row of quiz_posts -> Post
        self._make_post = make_post  # Post (its module imports this one)
        self.recent = recent  # how many recent questions a channel doesn't see again
        self.writer = hot_writer(db)

    async def create(self, new: NewPost) -> Made:
        """Queue a question; returns once it has committed. Queuing it lets the next
        delivery in the channel start (``bot/in_order.py``)."""
        return await self.writer.submit(new, group=self._many)

    async def _many(self, news: list[NewPost]) -> list[Made]:
        keys = sorted({n.delivery_key for n in news if n.delivery_key})
        made: dict[str, Post] = {}
        if keys:
            for row in (await execute(self.db, _MADE, {"keys": keys})).all():
                made[row.delivery_key] = self._read_post(row)
        recent: dict[tuple[str, str, str], list[str]] = {}
        out: list[Made | None] = [None] * len(news)
        params: list[dict] = []
        fresh: list[int] = []
        for i, n in enumerate(news):
            if n.delivery_key in made:
                out[i] = Made(made[n.delivery_key], False)
                continue
            where = (n.place.platform, n.place.workspace, n.place.channel)
            if where not in recent:
                recent[where] = await self._recent(n.place)
            item_id, order = n.choose(set(recent[where]))
            recent[where] = [item_id, *recent[where]][: self.recent]
            params.append(_row(n, item_id, order))
            fresh.append(i)
        if params:
            ids: list[int] = list((await execute(self.db, _INSERT, params)).scalars())
            for i, post_id, values in zip(fresh, ids, params, strict=True):
                n = news[i]
                post = self._make_post(
                    id=int(post_id),
                    item_id=values["item_id"],
                    order=json.loads(values["option_order"]),
                    tag=n.tag,
                    place=n.place,
                    message_id=None,
                    posted_by=n.posted_by,
                    created_at=n.now,
                    closes_at=n.closes_at,
                    closed_at=None,
                )
                out[i] = Made(post, True)
        return [m for m in out if m is not None]  # (every one is made by now)

    async def _recent(self, place: Place) -> list[str]:
        params = {
            "platform": place.platform,
            "workspace": place.workspace,
            "channel": place.channel,
            "limit": self.recent,
        }
        return list((await execute(self.db, RECENT_ITEMS, params)).scalars())


def _row(n: NewPost, item_id: str, order: list[int]) -> dict:
    return {
        "item_id": item_id,
        "option_order": json.dumps(order),
        "tag": n.tag,
        "platform": n.place.platform,
        "workspace": n.place.workspace,
        "channel": n.place.channel,
        "is_direct": int(n.place.is_direct),
        "thread": n.place.thread,
        "posted_by": n.posted_by,
        "created_at": n.now,
        "closes_at": n.closes_at,
        "delivery_key": n.delivery_key,
    }
