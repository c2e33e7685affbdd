"""When people are reminded of training, and the worker that reminds them.

Reminders fall on working days (Monday to Friday, not a bank holiday in England and
Wales: the tips' calendar, :mod:`content.tips.schedule`) at ``SECBOT_TRAINING_NUDGE_HOUR``
Europe/London: one ``SECBOT_TRAINING_NUDGE_DAYS`` working days before the due date, one
on the day (the last working day on or before it), then up to
``SECBOT_TRAINING_NUDGES_AFTER`` more, the first the working day after and then every
``SECBOT_TRAINING_NUDGE_DAYS`` working days. All are scheduled when the exam is assigned,
as rows (:mod:`content.training.store`); each is claimed before it is sent, and one whose
person has passed by then is claimed and dropped. Reminders late from downtime wait for
working hours, and of several due at once for one person only the latest is sent.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core import DeliveryFailed
from bot.core.hints import typed
from bot.core.model import Actor, Message, Place, Section
from bot.core.reach import reach
from content.tips.schedule import DEFAULT_NATION, bank_holiday, due_instant
from content.training import records

if TYPE_CHECKING:
    from bot.core import Services
    from content.training.store import TrainingStore

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
LONGEST_WAIT = 60.0
DAY_ENDS = 17  # no reminder from 17:00 London until the next working morning


def working(day: date) -> bool:
    return day.weekday() < 5 and bank_holiday(day, DEFAULT_NATION) is None


def step_working_days(day: date, steps: int) -> date:
    """The working day ``steps`` working days after ``day`` (before it when negative)."""
    one = timedelta(days=1 if steps >= 0 else -1)
    for _ in range(abs(steps)):
        day += one
        while not working(day):
            day += one
    return day


def on_or_before(day: date) -> date:
    while not working(day):
        day -= timedelta(days=1)
    return day


def plan(
    due_on: date, now: datetime, *, hour: int, every: int, after: int
) -> list[tuple[str, datetime]]:
    """The reminders for a due date still ahead: (mark, instant), in order, none in the
    past. Marks start with the due date, so a new date gets new reminders."""
    at = time(hour, 0)
    on = on_or_before(due_on)
    days = [("before", step_working_days(on, -every)), ("on", on)]
    first_after = step_working_days(due_on, 1)
    days += [(f"after-{i + 1}", step_working_days(first_after, every * i)) for i in range(after)]
    prefix = due_on.isoformat()
    return [
        (f"{prefix}:{mark}", instant)
        for mark, day in days
        if (instant := due_instant(day, at, LONDON)) >= now
    ]


def long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def nudge_message(place: Place, due_on: date, mark: str) -> Message:
    exam = typed(place, "quiz exam")
    if mark.endswith(":before"):
        text = f"A reminder: please take the security exam by {long_date(due_on)}."
    elif mark.endswith(":on"):
        text = f"Your security exam is due by {long_date(due_on)}. Please take it today."
    else:
        text = f"Your security exam was due by {long_date(due_on)} and is now overdue."
    text += f" Type {exam} to start: ten questions, about ten minutes."
    return Message(text, (Section(text),), private=False)


class Nudger:
    """The worker's round: claim each reminder due, then send it unless the exam was
    passed since it was assigned."""

    def __init__(self, services: Services, store: TrainingStore):
        self.services = services
        self.store = store

    def working_hours(self, now: datetime) -> bool:
        """A reminder late from downtime waits for working hours, never a night or weekend."""
        local = now.astimezone(LONDON)
        start = self.services.settings.training_nudge_hour
        return working(local.date()) and start <= local.hour < DAY_ENDS

    async def step(self) -> float:
        now = self.services.clock.now()
        if not self.working_hours(now):
            return LONGEST_WAIT
        # After downtime several of one person's reminders may be due at once: all are
        # claimed, and only the latest is sent.
        latest: dict[int, str] = {}
        for nudge in await self.store.due(now):
            if await self.store.claim(nudge.id, now):  # else another process has it
                latest[nudge.assignment_id] = nudge.mark
        for assignment_id, mark in latest.items():
            try:
                await self.fire(assignment_id, mark, now)
            except Exception:  # noqa: BLE001 - one person's failure must not stop the rest
                log.exception("a training reminder failed")
        upcoming = await self.store.next_due()
        if upcoming is None:
            return LONGEST_WAIT
        return min(LONGEST_WAIT, max(0.0, (upcoming - self.services.clock.now()).total_seconds()))

    async def fire(self, assignment_id: int, mark: str, now: datetime) -> None:
        a = await self.store.assignment(assignment_id)
        if a is None or not mark.startswith(a.due_on.isoformat()):
            return  # reassigned to another date meanwhile
        _, passes = await records.latest(self.store.db, [a.user_key])
        due_start = due_instant(a.due_on, time(0, 0), LONDON)
        if records.completes(passes.get(a.user_key), a.assigned_at, due_start):
            await self.store.cancel(a.id, now)
            return
        origin = Place.from_json(a.place)
        platform, _, user_id = a.user_key.partition(":")
        person = Actor(platform, user_id, a.user_name)
        direct = Place(platform, origin.workspace, user_id, is_direct=True)
        try:
            await reach(
                self.services, person, origin.workspace, nudge_message(direct, a.due_on, mark),
                origin,
            )  # fmt: skip
        except DeliveryFailed as e:
            log.warning("a training reminder could not be delivered (%s)", e.reason)
