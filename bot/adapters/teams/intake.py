"""Teams message activities: keep, acknowledge, then reply through the Bot Connector.

The Bot Connector waits for the bot's HTTP answer and retries an activity it got no
answer for, so a message activity is answered (202, no body) as soon as it is kept in
the inbox (``bot/adapters/teams/kept.py``), the same path a Slack delivery takes. The
reply follows from the consumer here, through the conversation's Bot Connector
(``TeamsFrontDoor.run_kept``), never through the HTTP response. Invoke activities whose
answer is the HTTP response (a card click's refresh, a message action's dialog) and
``expectReplies`` deliveries stay on the request (see ``door.keeps``).

- Durable: the 202 goes out only once the row is committed (group commit: the activities
  that arrive in one turn of the event loop share one transaction).
- In order per conversation: kept rows of one conversation are handled one after another,
  in the order they were kept; different conversations are handled side by side.
- Once: a retried activity (same id) is kept again but dropped by the core's
  de-duplication (its delivery id is ``teams:<conversation>:<activity id>``).
- Nothing lost in a crash: a row is deleted only once handled; rows a dead instance held
  are claimed again when their lease runs out and handled with ``replay=True``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, timedelta

from aiohttp import web
from botbuilder.schema import Activity

from bot.adapters.teams.kept import KeptActivities
from bot.adapters.teams.store import ConversationStore
from bot.core.clock import Clock
from bot.http.errors import where
from bot.retry import RetryPolicy
from bot.storage.batched import BatchedWriter
from bot.storage.dead_letters import DeadLetters
from bot.storage.inbox import Kept
from bot.storage.leases import RENEW_SECONDS
from bot.storage.sql import DB_ERRORS
from bot.tasks import TaskSet
from bot.workers import Worker

log = logging.getLogger(__name__)

# Kept activities handled at once (replies in flight). Fewer than the Slack intake's:
# a reply is a Bot Connector call, which botbuilder builds and parses in Python, so more
# at once only shares the same CPU more thinly, and the door's answers come first.
DEFAULT_HANDLERS = 32
# Acknowledging comes first for at most this long: once the oldest waiting activity is
# older, handlers start without yielding to the door until the queue catches up.
DEFER_SECONDS = 10.0
# Rows claimed per handler slot at most (see TeamsIntake._hand).
IN_HAND_PER_HANDLER = 4
IDLE_POLL_SECONDS = 5.0
# A failed try waits 5, 30, then 120 seconds before the next (the one retry policy).
REDELIVERY = RetryPolicy(first=5.0, growth=6.0, maximum=120.0, jitter=(1.0, 1.0), attempts=4)
INTERRUPTED = "interrupted"
TEAMS_INTAKE: web.AppKey[TeamsIntake] = web.AppKey("teams_intake")


class Unusable(Exception):
    """A kept activity that can never be handled (not an activity botbuilder reads, or
    its serviceUrl is no longer one this configuration trusts): dropped, not retried."""


# How a kept activity is handled: (body, how its caller was vouched for, replay).
Runner = Callable[[dict, str, bool], Awaitable[None]]


class TeamsIntake:
    def __init__(
        self,
        kept: KeptActivities,
        conversations: ConversationStore,
        run: Runner,
        clock: Clock,
        owner: str,
        *,
        handlers: int = DEFAULT_HANDLERS,
        max_attempts: int = 5,
        announce: Callable[[], None] | None = None,
    ):
        self.kept = kept
        self.conversations = conversations
        self.run = run
        self.clock = clock
        self.owner = owner  # this instance's name on the rows it claims
        self.max_attempts = max_attempts
        self.announce = announce
        self.dead = DeadLetters(kept.db)
        self.tasks = TaskSet()
        # Group commit for the door's rows and the handlers' bookkeeping alike: on SQLite
        # every commit takes the file's one write lock, which the door waits for too.
        self.writer = BatchedWriter(kept.db, turns=1, label="kept Teams activities")
        self.worker = Worker("teams-intake", self._round, every=IDLE_POLL_SECONDS)
        self._slots = asyncio.Semaphore(handlers)
        # Rows in hand (running, or waiting for the one before in their conversation): a
        # long conversation's queue waits here without taking other conversations' slots,
        # and no more is claimed than this instance will soon handle.
        self._hand = asyncio.Semaphore(handlers * IN_HAND_PER_HANDLER)
        self._busy: set[int] = set()
        # The last handler started for each conversation: the next one waits for it.
        self._tails: dict[str, asyncio.Task] = {}
        self._renewed: datetime | None = None
        self._stopping = False
        self.handled = 0

    # --- the door's side ---------------------------------------------------------------

    async def keep(self, kind: str, body: str) -> None:
        """Keep one activity; returns once its row is committed (raises DB_ERRORS if not)."""
        await self.writer.submit((kind, body, self.clock.now()), group=self._keep)
        self.notify()
        if self.announce is not None:
            self.announce()

    async def _keep(self, rows: list[tuple[str, str, datetime]]) -> list[None]:
        await self.kept.keep_many(rows)
        return [None] * len(rows)

    async def remember(self, activity: Activity, trust: str) -> None:
        """Save a handled activity's conversation reference and sender (for proactive
        posts), committed with other handlers' before the handler goes on."""
        await self.writer.submit((activity, trust, self.clock.now()), group=self._remember)

    async def _remember(self, items: list[tuple[Activity, str, datetime]]) -> list[None]:
        for activity, trust, now in items:
            await self.conversations.save(activity, now, trust)
            await self.conversations.remember_user(activity, now)
        return [None] * len(items)

    async def _finished(self, ids: list[int]) -> list[None]:
        await self.kept.done_many(ids)
        return [None] * len(ids)

    def notify(self) -> None:
        """An activity was kept (here, or by another instance): look at the inbox."""
        self.worker.wake()

    async def idle(self) -> bool:
        """Nothing in hand and nothing kept that was never tried (for tests)."""
        return not self._busy and not await self.kept.waiting()

    # --- the consumer ------------------------------------------------------------------

    async def _round(self) -> float | None:
        if self._stopping:
            return None
        try:
            await self._renew()
            room = max(1, min(256, self._hand._value))
            claimed = await self.kept.claim(self.clock.now(), room, self.owner)
        except DB_ERRORS as e:
            log.error("could not read kept Teams activities (%s); trying again", type(e).__name__)
            return 1.0
        rows = [r for r in claimed if r.id not in self._busy]
        if not rows:
            return None
        behind = (self.clock.now() - rows[0].received_at).total_seconds() > DEFER_SECONDS
        for row in rows:
            await self._hand.acquire()
            if self._stopping:
                self._hand.release()
                return None
            self._busy.add(row.id)
            body, conversation = _parsed(row.payload)
            task = self.tasks.spawn(self._handle(row, body, self._tails.get(conversation)))
            self._tails[conversation] = task
            task.add_done_callback(functools.partial(self._forget, conversation))
            if not behind:
                await asyncio.sleep(0)  # let the door answer what is waiting first
        return 0.0

    def _forget(self, conversation: str, task: asyncio.Task) -> None:
        if self._tails.get(conversation) is task:
            del self._tails[conversation]

    async def _renew(self) -> None:
        now = self.clock.now()
        last = self._renewed
        if last is None or not 0 <= (now - last).total_seconds() < RENEW_SECONDS:
            await self.kept.renew(now, self.owner)
            self._renewed = now

    async def _handle(self, row: Kept, body: dict | None, before: asyncio.Task | None) -> None:
        try:
            if before is not None:
                await asyncio.wait([before])  # its outcome is its own business
            async with self._slots:
                await self._try(row, body)
        except DB_ERRORS as e:
            # The row stays held: renewed while this instance lives, tried again after.
            log.error("teams: could not record a kept activity's outcome (%s)", type(e).__name__)
        finally:
            self._busy.discard(row.id)
            self._hand.release()
            self.handled += 1

    async def _try(self, row: Kept, body: dict | None) -> None:
        # Claimed before (its claimer died or stopped with it in hand) or tried before: it
        # may have had part of its effect, so the features' own uniqueness rules decide.
        replay = row.claims > 1 or row.attempts > 0
        if replay:
            if row.attempts >= self.max_attempts and row.last_error in (None, INTERRUPTED):
                await self._bury(row, "the process stopped while handling it")
                return
            await self.kept.attempted(row.id, INTERRUPTED, count=True)
        try:
            if body is None:
                raise Unusable("not a JSON object")
            await self.run(body, row.kind, replay)
        except Unusable as e:
            log.warning("teams: dropping a kept activity that can't be handled (%s)", e)
        except Exception as e:  # noqa: BLE001 - any failure: tried again later
            await self._failed(row, type(e).__name__, where(e), counted=replay)
            return
        # Until this commits the row is kept: a crash now means a replay, never a loss.
        await self.writer.submit(row.id, group=self._finished)

    async def _failed(self, row: Kept, error: str, place: str, *, counted: bool) -> None:
        attempts = await self.kept.attempted(row.id, error, count=not counted)
        if attempts >= self.max_attempts:
            await self._bury(row, error)
            return
        wait = REDELIVERY.delay(attempts)
        log.error(
            "teams: a kept activity failed (%s at %s, attempt %d of %d); trying again in %ds",
            error, place, attempts, self.max_attempts, wait,
        )  # fmt: skip
        not_before = self.clock.now() + timedelta(seconds=wait)
        await self.kept.retry_later(row.id, self.owner, not_before)

    async def _bury(self, row: Kept, error: str) -> None:
        letter = await self.dead.bury(
            row.id, what="a Teams message", error=error, payload=row.payload,
            now=self.clock.now(),
        )  # fmt: skip
        if letter is not None:
            log.error("a Teams message kept failing (%s); dead letter #%d", error, letter)

    # --- start and stop ----------------------------------------------------------------

    def stop(self) -> None:
        """Start nothing new; rows not started stay kept for the next start."""
        self._stopping = True


def _parsed(payload: str) -> tuple[dict | None, str]:
    """A kept body and the conversation it belongs to (the unit of ordering); None for
    a body that is not a JSON object (the door kept only those, so: never)."""
    with suppress(ValueError, TypeError, AttributeError):
        body = json.loads(payload)
        if isinstance(body, dict):
            return body, str((body.get("conversation") or {}).get("id") or "")
    return None, ""


def intake_ctx(intake: TeamsIntake):
    """Run the consumer with the app; on a clean stop, finish what is in hand and give
    back the rest at once (another instance, or the next start, takes it)."""

    async def ctx(app: web.Application):
        intake.worker.start()
        yield
        intake.stop()
        await intake.worker.stop()
        await intake.tasks.drain()
        with suppress(*DB_ERRORS):
            await intake.writer.flush()
            await intake.kept.release(intake.owner)  # only the Teams rows

    return ctx
