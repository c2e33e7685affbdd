"""Grouping writes from many coroutines into one transaction every few event-loop turns.

A commit costs more than the statement it commits, so hot paths that write once per
item hand their writes to a :class:`BatchedWriter`: the writes submitted while a batch
gathers (``turns`` turns of the event loop after the first) are applied in a single
transaction, and each submitter's future resolves only after that transaction has
committed. Its users:

- :func:`hot_writer`, one per database, for handling deliveries: the Slack front door
  (``bot/adapters/slack/door.py``) keeps each request's body in the inbox, and a request
  is acknowledged only once its row is committed; handled rows are deleted; quiz
  questions and answers are written (``content/quiz/store/``). Queuing a write lets the
  next delivery in the same conversation start (``bot/in_order.py``), since writes
  commit in the order they were queued;
- the tip fan-out (``content/tips/writes.py``) writes its ledger twice per post:
  ``pending -> sending`` right before the platform call and the outcome right after.
  Batching keeps the ledger's guarantees: a row is committed as ``sending`` before its
  post starts, because a worker awaits the commit before posting; a worker's outcome is
  submitted before its next row's ``sending``, so the rows in ``sending`` are at most the
  posts on the wire; nothing waits un-recorded for more than ``turns`` turns.

Writes of one kind to many rows (every ``sent``, every ``sending``, every kept body) can
be submitted to a *group*: a function given all of a flush's items at once, so it can use
one statement for them. Plain writes run first, in submission order, then each group in
the order it was first used, so a group must only write its own items' rows; the
``sending`` group thus sees every unsubscribe and gone channel written in the same flush.

A writer made with ``together=False`` applies a flush's writes in the same order but
without one transaction around them: each write is then a transaction of its own (a
store method that writes several rows opens its ``atomic`` block itself), a write that
fails is not run again and undoes nothing else (a group that fails is tried again one
item at a time), and every future still resolves only once the whole flush is through.
The tip ledger's writer is one: each of its writes decides and writes its own rows in
one conditional UPDATE, so nothing needs them to commit together, and on SQLite the
block's ``BEGIN``, ``COMMIT`` and the connection's reset are three trips to the
database's thread that every post of a fan-out would wait for.

If a flush of a ``together`` writer fails, each write is retried in a transaction of its
own, so one bad row cannot take the others down with it. A ``submit``-ted write whose
waiter was cancelled before the flush is skipped (nobody would act on it); a
``record``-ed write has no waiter and is always written.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot import in_order
from bot.storage.sql import Db, atomic

log = logging.getLogger(__name__)

# How many turns of the event loop the first write of a batch waits for others, by
# default (1: at the start of the next turn). For the fan-out, posts keep completing
# meanwhile, so with 3 a fan-out of 10,000 commits about 500 times rather than 1,000 (each
# commit writes every page it touched to the WAL), and a post starts two turns later:
# well under a millisecond each. Turns rather than a timer, so an idle loop flushes at once.
FLUSH_TURNS = 3

# A write (or a group) may be a plain function or a coroutine function.
Write = Callable[[], Any]
Group = Callable[[list[Any]], Sequence[Any] | Awaitable[Sequence[Any]]]
# Called right after the write's transaction: (value, None) or, if it failed, (None, error).
Committed = Callable[[Any, BaseException | None], None]


class _Queued:
    __slots__ = ("write", "group", "future", "committed")

    def __init__(self, write, group, future, committed):
        self.write = write  # a Write, or the item for `group`
        self.group: Group | None = group
        self.future: asyncio.Future | None = future
        self.committed: Committed | None = committed


class BatchedWriter:
    def __init__(
        self, db, *, turns: int = FLUSH_TURNS, label: str = "writes", together: bool = True
    ):
        self.db = db
        self.turns = turns
        self.together = together  # one transaction per flush (see the module's docstring)
        self.label = label  # for the log: what is written
        self._queue: list[_Queued] = []
        self._settled: list[asyncio.Future] = []
        self._scheduled = False
        self._turns = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flushes: set[asyncio.Task] = set()  # running, kept from the collector
        self._one_at_a_time = asyncio.Lock()
        self.transactions = 0  # flushes committed (tests and logs)

    def submit(
        self, write: Any, *, group: Group | None = None, committed: Committed | None = None
    ) -> asyncio.Future:
        """Queue ``write()`` (or, with ``group``, the item ``write`` for that group) for
        the next flush; the future holds its value once the transaction has committed.
        The write is skipped if the future is cancelled before the flush (its waiter has
        gone, so nobody would act on it)."""
        self._schedule()
        future = self._loop.create_future()  # type: ignore[union-attr]
        self._queue.append(_Queued(write, group, future, committed))
        # Queued writes commit in order: the next delivery in this conversation may start.
        in_order.passed()
        return future

    def record(
        self, write: Any, *, group: Group | None = None, committed: Committed | None = None
    ) -> None:
        """Queue a write nobody waits for (a post's outcome): it is applied even if the
        submitter is cancelled. ``settled()`` waits for it."""
        self._queue.append(_Queued(write, group, None, committed))
        self._schedule()

    def settled(self) -> asyncio.Future:
        """A future that resolves once every write queued so far has been committed (or
        has failed: the ``committed`` hooks and futures say which)."""
        future = asyncio.get_running_loop().create_future()
        if self._queue:
            self._settled.append(future)  # resolved by the flush that takes them
        elif self._flushes:  # taken, but the transaction is still running
            running = asyncio.gather(*self._flushes, return_exceptions=True)
            def settle(_: object) -> None:
                if not future.done():
                    future.set_result(None)

            running.add_done_callback(settle)
        else:
            future.set_result(None)
        return future

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            # Kept for the batch: asyncio.get_running_loop() costs a getpid() system call.
            self._loop = asyncio.get_running_loop()
            self._turns = self.turns
            # A context of its own: the flush must not join an ``atomic`` block (or take
            # the correlation id) of whichever coroutine happened to submit first.
            self._loop.call_soon(self._turn, context=contextvars.Context())

    def _turn(self) -> None:
        self._turns -= 1
        if self._turns > 0:
            self._loop.call_soon(self._turn, context=contextvars.Context())  # type: ignore[union-attr]
        else:
            task = self._loop.create_task(self.flush())  # type: ignore[union-attr]
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def flush(self) -> None:
        """Apply every queued write in one transaction, after any flush still running
        (flushes commit one at a time, in order).

        The queue is taken only once this flush has the turn, not when it was scheduled:
        writes queued while a transaction runs all go into the next one (group commit).
        On an asynchronous engine a transaction spans several event-loop turns (a thread
        hop or a round trip per statement), and taking the queue early split a fan-out's
        writes into thousands of transactions of a row or two."""
        self._scheduled = False
        async with self._one_at_a_time:
            queue = [q for q in self._queue if q.future is None or not q.future.cancelled()]
            settled, self._queue, self._settled = self._settled, [], []
            try:
                if queue:
                    await self._flush(queue)
            finally:
                for future in settled:
                    if not future.done():
                        future.set_result(None)

    async def _flush(self, queue: list[_Queued]) -> None:
        if not self.together:
            await self._flush_apart(queue)
            return
        try:
            async with atomic(self.db):
                values = await self._apply(queue)
        except Exception:
            log.exception("a batch of %d %s failed; retrying each", len(queue), self.label)
            # The same order as a batch applies them: plain writes (outcomes such as a
            # gone channel) before grouped ones (moves to `sending`).
            for q in sorted(queue, key=lambda q: q.group is not None):
                try:
                    async with atomic(self.db):
                        value = (await self._apply([q]))[0]
                except Exception as e:
                    self._failed(q, e)
                else:
                    self._done(q, value)
            return
        self.transactions += 1
        for q, value in zip(queue, values, strict=True):
            self._done(q, value)

    async def _flush_apart(self, queue: list[_Queued]) -> None:
        """A flush of a writer that is not ``together``: each write commits by itself,
        so one that fails is not run again, nor are the ones before it (they have
        committed); a group that fails is tried again one item at a time. Every future
        resolves once all of them are through."""
        outcomes: list[tuple[_Queued, Any, Exception | None]] = []
        groups: dict[Group, list[_Queued]] = {}
        for q in queue:
            if q.group is not None:
                groups.setdefault(q.group, []).append(q)
                continue
            try:
                outcomes.append((q, await _value(q.write()), None))
            except Exception as e:
                log.exception("one of a batch of %s failed", self.label)
                outcomes.append((q, None, e))
        for group, members in groups.items():
            try:
                values = await _value(group([q.write for q in members]))
                outcomes += [(q, v, None) for q, v in zip(members, values, strict=True)]
            except Exception:
                log.exception("a batch of %d %s failed; retrying each", len(members), self.label)
                for q in members:
                    try:
                        outcomes.append((q, (await _value(group([q.write])))[0], None))
                    except Exception as e:
                        outcomes.append((q, None, e))
        self.transactions += 1
        for q, value, error in outcomes:
            if error is None:
                self._done(q, value)
            else:
                self._failed(q, error)

    @staticmethod
    async def _apply(queue: list[_Queued]) -> list[Any]:
        values: list[Any] = [None] * len(queue)
        groups: dict[Group, list[int]] = {}
        for i, q in enumerate(queue):
            if q.group is None:
                values[i] = await _value(q.write())
            else:
                groups.setdefault(q.group, []).append(i)
        for group, members in groups.items():
            results = await _value(group([queue[i].write for i in members]))
            for i, value in zip(members, results, strict=True):
                values[i] = value
        return values

    @staticmethod
    def _done(q: _Queued, value: Any) -> None:
        if q.committed is not None:
            q.committed(value, None)
        if q.future is not None and not q.future.done():
            q.future.set_result(value)

    @staticmethod
    def _failed(q: _Queued, error: Exception) -> None:
        if q.committed is not None:
            q.committed(None, error)
        if q.future is not None and not q.future.done():
            q.future.set_exception(error)


async def _value(result: Any) -> Any:
    """A write's value: writes and groups may be plain functions or coroutine functions
    (store methods are becoming ``async def``, one domain at a time)."""
    return await result if inspect.isawaitable(result) else result


# The one writer per database for the writes of handling deliveries (below).
_HOT: weakref.WeakKeyDictionary[Db, BatchedWriter] = weakref.WeakKeyDictionary()


def hot_writer(db: Db) -> BatchedWriter:
    """The database's group commit for deliveries: the kept bodies of the Slack front
    door, the ids of handled rows, quiz questions and answers all go into the same
    transaction each turn of the event loop. One writer rather than one per kind, since
    every transaction costs a commit and, on SQLite, a turn at the file's one write lock:
    an acknowledgement waiting behind three other kinds' transactions was the slowest
    part of the path."""
    writer = _HOT.get(db)
    if writer is None:
        writer = _HOT[db] = BatchedWriter(db, turns=1, label="writes of deliveries")
    return writer
