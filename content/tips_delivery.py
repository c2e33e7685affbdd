"""The durable tip scheduler and its fan-out worker.

How one scheduled delivery moves through the ledger (``content/tips_store.py``):

1. **Claim.** When a subscription's ``next_due`` passes, a ``pending`` row is inserted
   under ``UNIQUE(subscription_id, local_date)``, with the tip chosen from the channel's
   rotation; then ``next_due`` moves to the next working day. A second claim for the same
   day (a restart, ``/tip send-now``, a second worker) inserts nothing.
2. **Send.** Right before the platform call the row becomes ``sending``; right after, ``sent``.
   A platform *refusal* (``DeliveryFailed``: 429, an API error) means nothing was posted,
   so the row goes back to ``pending`` with a retry time. ``permanent`` failures (archived
   channel, bot removed) mark the row ``gone`` and the subscription inactive.
3. **Restart.** On start-up, ``pending`` rows are sent if still within the grace window
   (``SECBOT_TIP_GRACE_MINUTES``, default 180) and marked ``missed`` otherwise; rows left
   in ``sending`` are marked ``unknown`` and **not** re-sent.

That last rule is an at-most-once choice. A row in ``sending`` means the process died
during the one API call, and neither Slack's ``chat.postMessage`` nor the Bot Connector
de-duplicates a repeated post, so re-sending could show the channel the same tip twice.
The window is one HTTP round trip per in-flight channel (at most
``SECBOT_TIP_CONCURRENCY``), so the rare loss is logged instead of risking duplicates.
Channels that never reached ``sending`` are never lost.

Missed days older than the grace window are skipped and logged (ids and dates only,
never message text), so a bot that was down all weekend does not post Friday's tip on
Monday afternoon.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.core import DeliveryFailed
from bot.model import Actions, Button, Context, Heading, Message, Section
from content.tips_schedule import is_delivery_day, next_delivery
from content.tips_store import (
    CANCELLED,
    FAILED,
    GONE,
    MISSED,
    UNKNOWN,
    Delivery,
    Subscription,
    TipStore,
)

if TYPE_CHECKING:
    from bot.core import Services
    from content.models import Tip

log = logging.getLogger(__name__)

DEFAULT_GRACE_MINUTES = 180
DEFAULT_CONCURRENCY = 50
MAX_ATTEMPTS = 5
# How long the worker sleeps at most, so a changed system clock is noticed.
MAX_SLEEP = 300.0


def _int_setting(services: Services, name: str, default: int, minimum: int) -> int:
    raw = services.settings.get(name)
    if raw is None or not str(raw).strip():
        return default
    try:
        return max(minimum, int(str(raw).strip()))
    except ValueError:
        log.warning("%s is not a whole number; using %d", name, default)
        return default


# --- rotation ----------------------------------------------------------------------------


def rotation_order(place_key: str, cycle: int, tip_ids: Iterable[str]) -> list[str]:
    """The channel's shuffled order for ``cycle``: a per-tip hash of (channel, cycle, tip),
    so adding or retiring a tip never reorders the others."""

    def key(tip_id: str) -> str:
        return hashlib.sha256(f"{place_key}|{cycle}|{tip_id}".encode()).hexdigest()

    return sorted(tip_ids, key=key)


def next_tip(
    place_key: str, cycle: int, served: set[str], tip_ids: Iterable[str]
) -> tuple[str, int] | None:
    """(tip id, cycle) of the next tip: the first unserved tip in this cycle's order, or,
    once every current tip has been served, the first of the next cycle."""
    ids = list(tip_ids)
    if not ids:
        return None
    left = [t for t in rotation_order(place_key, cycle, ids) if t not in served]
    if left:
        return left[0], cycle
    return rotation_order(place_key, cycle + 1, ids)[0], cycle + 1


# --- the tip message ------------------------------------------------------------------


def tip_message(tip: Tip, *, private: bool = False, footer: str = "") -> Message:
    title, body, action = tip.title.text(), tip.body.text(), tip.action.text()
    lines = [f"Source: {tip.source.title} ({tip.source.url})"]
    if footer:
        lines.append(footer)
    return Message(
        text=f"Security tip: {title}. {body} Do this today: {action}",
        blocks=(
            Heading(f"Security tip: {title}"),
            Section(body),
            Section(f"Do this today: {action}"),
            Context(tuple(lines)),
            Actions(
                (
                    Button("Useful", "tip:vote", f"{tip.id}|useful", "primary"),
                    Button("Not useful", "tip:vote", f"{tip.id}|not-useful"),
                    Button("Quiz me on this", "tip:quiz", tip.id),
                )
            ),
        ),
        private=private,
    )


@dataclass(frozen=True)
class SendResult:
    status: str  # sent | retry | gone | failed | unknown | cancelled | skipped
    detail: str = ""


class TipDelivery:
    """Owns the schedule and the fan-out; one per app, kept in ``services.extras["tips"]``."""

    def __init__(self, services: Services):
        self.services = services
        self.store = TipStore(services.db)
        self.grace = timedelta(
            minutes=_int_setting(services, "SECBOT_TIP_GRACE_MINUTES", DEFAULT_GRACE_MINUTES, 0)
        )
        self.concurrency = _int_setting(services, "SECBOT_TIP_CONCURRENCY", DEFAULT_CONCURRENCY, 1)
        self.test_interval = _int_setting(services, "SECBOT_TIP_TEST_INTERVAL", 0, 0)
        self.wake = asyncio.Event()
        # Retry-After from a platform pauses the whole workspace (Slack's limits are per
        # workspace and method) or one conversation (Teams' limits are per conversation).
        self.paused: dict[tuple[str, str], datetime] = {}
        self._no_tips_logged = False

    @property
    def tz(self):
        return self.services.settings.tz

    @property
    def clock(self):
        return self.services.clock

    def tip_ids(self) -> list[str]:
        content = self.services.content
        return sorted(content.tips) if content else []

    def tip(self, tip_id: str) -> Tip | None:
        content = self.services.content
        return content.tip(tip_id) if content else None

    def poke(self) -> None:
        """Wake the worker: a subscription changed."""
        self.wake.set()

    # --- schedule -------------------------------------------------------------------

    def reschedule(
        self,
        sub: Subscription,
        now: datetime,
        *,
        after: date | None = None,
        fresh: bool = False,
    ) -> None:
        """Set ``next_due`` to the first scheduled instant not older than the grace window
        (and after ``after``) whose day has no ledger row yet; log a skipped missed day.

        ``fresh`` (a new or changed subscription) looks forward from now instead, so
        subscribing at 10:00 to a 09:30 tip does not post one straight away."""
        not_before = now if fresh else now - self.grace
        if not fresh and after is None and sub.next_due is not None and sub.next_due < not_before:
            log.warning(
                "tips: subscription %d skipped its delivery for %s: due %s, more than %d "
                "minutes ago (SECBOT_TIP_GRACE_MINUTES)",
                sub.id,
                sub.next_local_date,
                sub.next_due.isoformat(),
                int(self.grace.total_seconds() // 60),
            )
        day, due = next_delivery(sub.schedule, self.tz, not_before, after_day=after)
        while self.store.has_delivery(sub.id, day):
            day, due = next_delivery(sub.schedule, self.tz, due, after_day=day)
        self.store.set_next(sub.id, day, due)

    def startup(self, now: datetime) -> None:
        """Settle what a previous run left behind; called before the worker starts."""
        for row in self.store.interrupted():
            log.warning(
                "tips: delivery %d (subscription %d, %s) was being sent when secbot stopped; "
                "marking it unknown and not re-sending it, so no channel sees a tip twice",
                row.id,
                row.subscription_id,
                row.local_date or row.kind,
            )
            self.store.finish(row.id, UNKNOWN, "interrupted while sending", now)
        for sub in self.store.active():
            self.reschedule(sub, now)

    # --- claiming -------------------------------------------------------------------

    def claim(
        self,
        sub: Subscription,
        now: datetime,
        *,
        kind: str,
        due: datetime,
        local_date: date | None = None,
        test_slot: int | None = None,
    ) -> int | None:
        fresh = self.store.get(sub.id) or sub
        cycle = fresh.cycle
        choice = next_tip(fresh.place.key, cycle, self.store.served(sub.id, cycle), self.tip_ids())
        if choice is None:
            if not self._no_tips_logged:
                log.warning("tips: there are no tips in the content library; nothing to send")
                self._no_tips_logged = True
            return None
        tip_id, cycle = choice
        return self.store.claim(
            sub.id,
            kind=kind,
            tip_id=tip_id,
            cycle=cycle,
            due=due,
            now=now,
            local_date=local_date,
            test_slot=test_slot,
        )

    def claim_due(self, now: datetime) -> int:
        """Claim every subscription whose scheduled time has come; returns how many."""
        claimed = 0
        for sub in self.store.due(now):
            assert sub.next_due is not None and sub.next_local_date is not None
            if sub.next_due < now - self.grace:
                self.reschedule(sub, now)  # logs the skip
                continue
            if self.claim(
                sub, now, kind="scheduled", due=sub.next_due, local_date=sub.next_local_date
            ):
                claimed += 1
            self.reschedule(sub, now, after=sub.next_local_date)
        return claimed

    def claim_test_slots(self, now: datetime) -> int:
        """SECBOT_TIP_TEST_INTERVAL: one extra tip per subscription per N-second slot."""
        if not self.test_interval:
            return 0
        slot = int(now.timestamp() // self.test_interval)
        claimed = 0
        for sub in self.store.active():
            if self.claim(sub, now, kind="test", due=now, test_slot=slot):
                claimed += 1
        return claimed

    def next_test_slot(self, now: datetime) -> datetime | None:
        if not self.test_interval or not self.store.count_active():
            return None
        slot = int(now.timestamp() // self.test_interval) + 1
        return datetime.fromtimestamp(slot * self.test_interval, tz=now.tzinfo)

    # --- sending --------------------------------------------------------------------

    async def send_ready(self, now: datetime) -> list[SendResult]:
        """Send every pending row whose time has come, concurrently but bounded."""
        rows = []
        for row in self.store.ready(now):
            if row.due_at < now - self.grace:
                log.warning(
                    "tips: delivery %d (subscription %d, %s) is more than %d minutes late; "
                    "skipping it",
                    row.id,
                    row.subscription_id,
                    row.local_date or row.kind,
                    int(self.grace.total_seconds() // 60),
                )
                self.store.finish(row.id, MISSED, "later than the grace window", now)
            else:
                rows.append(row)
        if not rows:
            return []
        gate = asyncio.Semaphore(self.concurrency)

        async def one(row: Delivery) -> SendResult:
            async with gate:
                try:
                    return await self.send(row)
                except asyncio.CancelledError:
                    raise
                except Exception:  # one channel's bug must not stop the others
                    log.exception("tips: delivery %d failed unexpectedly", row.id)
                    return SendResult("error")

        results = list(await asyncio.gather(*(one(r) for r in rows)))
        summary = Counter(r.status for r in results)
        log.info(
            "tips: fan-out of %d: %s",
            len(results),
            ", ".join(f"{n} {status}" for status, n in sorted(summary.items())),
        )
        return results

    def _pause_key(self, sub: Subscription) -> tuple[str, str]:
        place = sub.place
        if place.platform == "slack":
            return place.platform, place.workspace
        return place.platform, place.channel

    async def send(self, row: Delivery) -> SendResult:
        now = self.clock.now()
        sub = self.store.get(row.subscription_id)
        if sub is None or not sub.active:
            self.store.finish(row.id, CANCELLED, "unsubscribed before sending", now)
            return SendResult("cancelled")
        key = self._pause_key(sub)
        paused_until = self.paused.get(key)
        if paused_until is not None and paused_until > now:
            self.store.retry_later(row.id, paused_until, "waiting for rate limit", now)
            return SendResult("retry", "paused")
        tip = self.tip(row.tip_id) or self._replacement(sub, row)
        transport = self.services.transports.get(sub.place.platform)
        if tip is None or transport is None:
            why = "no such tip" if tip is None else f"{sub.place.platform} is not connected"
            log.warning("tips: delivery %d failed: %s", row.id, why)
            self.store.finish(row.id, FAILED, why, now)
            return SendResult("failed", why)
        if not self.store.mark_sending(row.id, now):
            return SendResult("skipped")
        try:
            ref = await transport.post(sub.place, tip_message(tip))
        except DeliveryFailed as e:
            return self._refused(row, sub, key, e)
        except TimeoutError:
            # The request may have reached the platform: at-most-once, do not resend.
            log.warning("tips: delivery %d timed out; marking it unknown", row.id)
            self.store.finish(row.id, UNKNOWN, "timed out", self.clock.now())
            return SendResult("unknown")
        except OSError as e:
            # Could not connect: nothing was posted, so trying again is safe.
            return self._refused(row, sub, key, DeliveryFailed(type(e).__name__))
        except Exception:
            log.exception("tips: delivery %d failed unexpectedly; marking it unknown", row.id)
            self.store.finish(row.id, UNKNOWN, "unexpected error", self.clock.now())
            return SendResult("unknown")
        self.store.mark_sent(row.id, ref.id if ref else None, self.clock.now())
        log.debug("tips: delivered %d to subscription %d", row.id, sub.id)
        return SendResult("sent")

    def _replacement(self, sub: Subscription, row: Delivery) -> Tip | None:
        """The claimed tip was retired since: send the first tip still in the library."""
        ids = self.tip_ids()
        return self.tip(rotation_order(sub.place.key, row.cycle, ids)[0]) if ids else None

    def _refused(
        self, row: Delivery, sub: Subscription, key: tuple[str, str], e: DeliveryFailed
    ) -> SendResult:
        now = self.clock.now()
        if e.permanent:
            log.warning("tips: subscription %d is gone (%s); marking it inactive", sub.id, e.reason)
            self.store.finish(row.id, GONE, e.reason, now)
            self.store.deactivate(sub.id, f"gone: {e.reason}", now)
            return SendResult("gone", e.reason)
        if row.attempts + 1 >= MAX_ATTEMPTS:
            log.warning("tips: delivery %d failed %d times (%s)", row.id, MAX_ATTEMPTS, e.reason)
            self.store.finish(row.id, FAILED, e.reason, now)
            return SendResult("failed", e.reason)
        if e.retry_after is not None:
            wait = timedelta(seconds=max(1.0, e.retry_after))
            until = now + wait
            if self.paused.get(key, now) < until:
                self.paused[key] = until
        else:
            wait = timedelta(seconds=30 * 2**row.attempts)
        log.info("tips: delivery %d refused (%s); retrying in %ss", row.id, e.reason, wait)
        self.store.retry_later(row.id, now + wait, e.reason, now)
        return SendResult("retry", e.reason)

    # --- the loop -------------------------------------------------------------------

    async def tick(self) -> list[SendResult]:
        now = self.clock.now()
        self.claim_due(now)
        self.claim_test_slots(now)
        return await self.send_ready(now)

    def next_wake(self, now: datetime) -> datetime:
        """When the worker must next look: a due time, a retry, a test slot, or a while."""
        times = [
            t
            for t in (
                self.store.earliest_due(),
                self.store.earliest_retry(),
                self.next_test_slot(now),
            )
            if t is not None
        ]
        latest = now + timedelta(seconds=MAX_SLEEP)
        return min([*times, latest])

    async def run(self) -> None:
        while True:
            self.wake.clear()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tips: the delivery worker's tick failed; trying again shortly")
                await self._wait(self.clock.now() + timedelta(seconds=30))
                continue
            await self._wait(self.next_wake(self.clock.now()))

    async def _sleep_until(self, target: datetime) -> None:
        # An absolute target: time may move between working it out and starting to sleep.
        while (remaining := (target - self.clock.now()).total_seconds()) > 0:
            await self.clock.sleep(remaining)

    async def _wait(self, target: datetime) -> None:
        if target <= self.clock.now():
            await asyncio.sleep(0)
            return
        sleeper = asyncio.ensure_future(self._sleep_until(target))
        waker = asyncio.ensure_future(self.wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                task.cancel()

    # --- on demand ------------------------------------------------------------------

    async def send_now(self, sub: Subscription) -> tuple[SendResult, bool]:
        """Deliver the channel's next tip now. Returns (result, counted_as_today).

        If today is one of the channel's delivery days and today's tip has not been
        claimed yet, this *is* today's delivery (the scheduled one will not follow).
        Otherwise it is an extra tip that leaves the schedule alone."""
        now = self.clock.now()
        today = now.astimezone(self.tz).date()
        counted = is_delivery_day(today, sub.schedule) and not self.store.has_delivery(
            sub.id, today
        )
        delivery_id = None
        if counted:
            delivery_id = self.claim(sub, now, kind="manual", due=now, local_date=today)
            if delivery_id is not None:
                self.reschedule(sub, now, after=today)
        if delivery_id is None:
            counted = False
            delivery_id = self.claim(sub, now, kind="manual", due=now, test_slot=None)
        if delivery_id is None:
            return SendResult("failed", "no tips"), False
        row = self.store.get_delivery(delivery_id)
        assert row is not None
        return await self.send(row), counted
