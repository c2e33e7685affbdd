"""The queries of questions posted in a channel: the post, its answers (one per person)
and when it closes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from bot.core.model import MessageRef, Place
from bot.storage.batched import hot_writer
from bot.storage.sql import Db, atomic, execute
from content.quiz.store.answer_batch import AnswerBatches, Mark, Recorded
from content.quiz.store.answers import Answer, AnswerResult, insert_answer, save_card
from content.quiz.store.post_batch import RECENT_ITEMS, Made, NewPost, PostBatches
from content.quiz.store.tables import new_id, quiz_answers, quiz_posts

# A channel doesn't see the same question again within this many questions.
RECENT_POSTS = 20


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
        id=row.id,
        item_id=row.item_id,
        order=json.loads(row.option_order),
        tag=row.tag,
        place=Place(row.platform, row.workspace, row.channel, bool(row.is_direct), row.thread),
        message_id=row.message_id,
        posted_by=row.posted_by,
        created_at=row.created_at,
        closes_at=row.closes_at,
        closed_at=row.closed_at,
    )


# Statements are built once, here, and run with their parameters: building one costs
# more than running it, and a burst of clicks runs these hundreds of times a second.
_p, _a = quiz_posts.c, quiz_answers.c
_POST_ID = _p.id == bindparam("post_id")
_INSERT_POST = quiz_posts.insert()
_POST = select(quiz_posts).where(_POST_ID)
_POST_FOR_DELIVERY = select(quiz_posts).where(_p.delivery_key == bindparam("delivery_key"))
_DELETE_POST = quiz_posts.delete().where(_POST_ID)
_LATEST_POST_ID = select(func.max(_p.id))
_SET_MESSAGE = (
    update(quiz_posts)
    .where(_POST_ID & _p.message_id.is_(None))
    .values(message_id=bindparam("message_id"))
)
_COUNTS = select(func.count(), func.coalesce(func.sum(_a.correct), 0)).where(
    _a.post_id == bindparam("post_id")
)
_CLOSE_POST = (
    update(quiz_posts).where(_POST_ID & _p.closed_at.is_(None)).values(closed_at=bindparam("now"))
)
_DUE_POSTS = (
    select(quiz_posts)
    .where(_p.closed_at.is_(None) & (_p.closes_at <= bindparam("now")))
    .order_by(_p.closes_at)
)
_NEXT_DEADLINE = select(func.min(_p.closes_at)).where(_p.closed_at.is_(None))
_OPEN_STATE = select(_p.closed_at, _p.closes_at).where(_POST_ID).with_for_update()
_PREVIOUS_ANSWER = select(_a.choice, _a.delivery_key).where(
    (_a.post_id == bindparam("post_id")) & (_a.user_key == bindparam("user_key"))
)


class ChannelStore:
    """Questions posted in channels and the answers to them."""

    def __init__(self, db: Db):
        self.db = db
        self.batches = AnswerBatches(db, self.record_post_answer, _post)
        self.posts = PostBatches(db, _post, Post, RECENT_POSTS)

    async def new_post(self, new: NewPost) -> Made:
        """Write a new question (or find the one this delivery wrote before) by group
        commit, choosing its item among those the channel was not asked lately."""
        return await self.posts.create(new)

    async def answer_post(self, post_id: int, mark: Mark, delivery_key: str | None) -> Recorded:
        """Record a click on question ``post_id`` by group commit: ``mark`` makes the
        answer from the question as read in the transaction (None: not a valid click on
        it). Same outcomes as :meth:`record_post_answer`, plus ``gone``."""
        return await self.batches.record(post_id, mark, delivery_key)

    async def create_post(
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
        async with atomic(self.db):  # the row and the read of it back: one snapshot
            created = await execute(
                self.db,
                _INSERT_POST,
                {
                    "item_id": item_id,
                    "option_order": json.dumps(order),
                    "tag": tag,
                    "platform": place.platform,
                    "workspace": place.workspace,
                    "channel": place.channel,
                    "is_direct": int(place.is_direct),
                    "thread": place.thread,
                    "posted_by": posted_by,
                    "created_at": now,
                    "closes_at": closes_at,
                    "delivery_key": delivery_key,
                },
            )
            post = await self.post(new_id(created))
        assert post is not None
        return post

    async def post_for_delivery(self, delivery_key: str) -> Post | None:
        row = (await execute(self.db, _POST_FOR_DELIVERY, {"delivery_key": delivery_key})).first()
        return _post(row) if row else None

    async def delete_post(self, post_id: int) -> None:
        """Only for a question whose message could not be posted at all."""
        await execute(self.db, _DELETE_POST, {"post_id": post_id})

    async def post(self, post_id: int) -> Post | None:
        row = (await execute(self.db, _POST, {"post_id": post_id})).first()
        return _post(row) if row else None

    async def latest_post_id(self) -> int | None:
        """The newest channel question's id (None: nothing was ever posted)."""
        latest = (await execute(self.db, _LATEST_POST_ID)).scalar()
        return None if latest is None else int(latest)

    async def set_message(self, post_id: int, message_id: str) -> None:
        """Record the posted message's id, once: the first id stays (one statement).
        Returns once committed, by group commit with the other writes of handling
        deliveries: under a burst of ``/quiz`` a transaction each was a turn each at
        SQLite's write lock, which the front door's acknowledgements queue for too."""
        params = {"post_id": post_id, "message_id": message_id}
        await hot_writer(self.db).submit(params, group=self._set_messages)

    async def _set_messages(self, params: list[dict]) -> list[None]:
        await execute(self.db, _SET_MESSAGE, params)
        return [None] * len(params)

    async def recent_items(self, place: Place, limit: int) -> set[str]:
        rows = await execute(
            self.db,
            RECENT_ITEMS,
            {
                "platform": place.platform,
                "workspace": place.workspace,
                "channel": place.channel,
                "limit": limit,
            },
        )
        return set(rows.scalars())

    async def counts(self, post_id: int) -> tuple[int, int]:
        """(answered, correct) for a channel question: the tally is counted from the
        answers themselves, so it always agrees with the answers committed."""
        row = (await execute(self.db, _COUNTS, {"post_id": post_id})).one()
        return int(row[0]), int(row[1])

    async def close_post(self, post_id: int, now: datetime) -> bool:
        """True for the one caller that actually closed it (one conditional UPDATE)."""
        closed = await execute(self.db, _CLOSE_POST, {"post_id": post_id, "now": now})
        return closed.rowcount == 1

    async def due_posts(self, now: datetime) -> list[Post]:
        return [_post(r) for r in (await execute(self.db, _DUE_POSTS, {"now": now})).all()]

    async def next_deadline(self) -> datetime | None:
        return (await execute(self.db, _NEXT_DEADLINE)).scalar()

    async def record_post_answer(
        self,
        post: Post,
        answer: Answer,
        delivery_key: str | None = None,
    ) -> AnswerResult:
        """Record one person's answer to a channel question, at most once, while it is open.

        One transaction: the post's row is read ``FOR UPDATE`` (so a close cannot commit
        between the check and the answer), then the answer and the person's card. The
        tally is counted from the answers, so it commits with the answer by construction;
        UNIQUE(post_id, user_key) settles two clicks that race past the check.

        ``replayed``: this very delivery (``delivery_key``) recorded the answer already;
        a crash came between that and the end of its handling."""
        now = answer.now
        async with atomic(self.db):
            state = (await execute(self.db, _OPEN_STATE, {"post_id": post.id})).one()
            if state.closed_at is not None:
                return AnswerResult("closed")
            if state.closes_at <= now:
                return AnswerResult("due")
            previous = (
                await execute(
                    self.db, _PREVIOUS_ANSWER, {"post_id": post.id, "user_key": answer.actor.key}
                )
            ).first()
            if previous is not None:
                if delivery_key is not None and previous.delivery_key == delivery_key:
                    return AnswerResult("replayed", previous.choice)
                return AnswerResult("duplicate", previous.choice)
            seconds = max(0.0, (now - post.created_at).total_seconds())
            await insert_answer(
                self.db, answer, seconds, "channel", post_id=post.id, delivery_key=delivery_key
            )
            await save_card(self.db, answer)
        return AnswerResult("recorded")
