"""Working days (Monday to Friday, not a bank holiday in England and Wales: the same
calendar as the tips, from the ``holidays`` package) and review periods.

A review period is ``SECBOT_ACCESS_REVIEW_MONTHS`` long and starts in January (every
quarter: January, April, July, October); each account is reviewed once per period.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
DAY_STARTS, DAY_ENDS = time(10, 0), time(17, 0)  # when owners are messaged


@lru_cache(maxsize=1)
def _bank_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG")


def working(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays()


def working_hours(now: datetime) -> bool:
    local = now.astimezone(LONDON)
    return working(local.date()) and DAY_STARTS <= local.time() < DAY_ENDS


def next_working_morning(now: datetime) -> datetime:
    """10:00 London on the next working day after ``now``'s date."""
    day = now.astimezone(LONDON).date() + timedelta(days=1)
    while not working(day):
        day += timedelta(days=1)
    return datetime.combine(day, DAY_STARTS, tzinfo=LONDON).astimezone(UTC)


def add_working_days(day: date, days: int) -> date:
    for _ in range(days):
        day += timedelta(days=1)
        while not working(day):
            day += timedelta(days=1)
    return day


def period_start(today: date, months: int) -> date:
    """The first day of the review period ``today`` is in."""
    index = (today.month - 1) // months * months
    return date(today.year, index + 1, 1) if months <= 12 else date(today.year, 1, 1)


def today(now: datetime) -> date:
    return now.astimezone(LONDON).date()
