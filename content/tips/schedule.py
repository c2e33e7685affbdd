"""Pure schedule arithmetic for daily tips: working days, the next delivery, GMT/BST.

Nothing here touches the database or the clock; every function takes the instant it
reasons about, so tests can check the last Sundays of March and October without waiting.

A delivery is due at a *local* wall-clock time on a *local* date in the configured zone
(``SECBOT_TIMEZONE``), so 09:30 stays 09:30 when the clocks change. Two edge cases:

- a time that does not exist that day (01:30 when clocks go forward) fires an hour later
  on the wall clock, at the same UTC instant as the skipped time before the change;
- a time that happens twice (01:30 when clocks go back) fires once, at the first one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from bot.core.hints import typed
from bot.core.model import Place

DEFAULT_TIME = time(9, 30)
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LONG_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Nation -> the subdivision code the `holidays` package uses for UK bank holidays.
# England and Wales share one list (WLS is the same as ENG in the package).
NATIONS: dict[str, str] = {
    "england": "ENG",
    "wales": "WLS",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}
NATION_ALIASES: dict[str, str] = {
    "england-and-wales": "england",
    "eng": "england",
    "wls": "wales",
    "sct": "scotland",
    "ni": "northern-ireland",
    "nir": "northern-ireland",
    "northernireland": "northern-ireland",
    "northern_ireland": "northern-ireland",
}
NATION_LABELS = {
    "england": "England and Wales",
    "wales": "England and Wales",
    "scotland": "Scotland",
    "northern-ireland": "Northern Ireland",
}
DEFAULT_NATION = "england"

# The words of a whole subscribe command: bot.core.hints.typed says how to type them where.
EXAMPLE = "tip subscribe 08:45 mon-fri scotland"
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")
# How far ahead to look for a delivery day; a schedule always has one within a fortnight.
_HORIZON_DAYS = 400


class ScheduleError(ValueError):
    """A subscription setting that can't be understood. The message says what is wrong;
    :meth:`said_at` adds an example, as it is typed at the place the person is."""

    def said_at(self, place: Place | None) -> str:
        return f"{self} For example: {typed(place, EXAMPLE)}"


@dataclass(frozen=True)
class Schedule:
    """When one subscription gets its tip: a local time on chosen days, skipping the
    nation's bank holidays."""

    at: time = DEFAULT_TIME
    days: frozenset[int] = WEEKDAYS
    nation: str = DEFAULT_NATION

    def days_text(self) -> str:
        return describe_days(self.days)

    def nation_text(self) -> str:
        return NATION_LABELS.get(self.nation, self.nation)

    def describe(self) -> str:
        return f"{self.at:%H:%M} {self.days_text()}, skipping {self.nation_text()} bank holidays"


# --- parsing ---------------------------------------------------------------------------


def parse_time(text: str) -> time:
    m = _TIME.match(text.strip())
    if not m:
        raise ScheduleError(
            f"“{text}” isn't a time I understand. Use the 24-hour clock, like 09:30 or 14:00."
        )
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        raise ScheduleError(
            f"“{text}” isn't a real time. Use the 24-hour clock from 00:00 to 23:59."
        )
    return time(hour, minute)


def _day(name: str) -> int | None:
    name = name.strip().lower()
    for i, short in enumerate(DAY_NAMES):
        if (
            name == short
            or name == LONG_DAY_NAMES[i].lower()
            or (len(name) >= 3 and LONG_DAY_NAMES[i].lower().startswith(name))
        ):
            return i
    return None


def parse_days(text: str) -> frozenset[int]:
    """``weekdays``, ``daily``, ``mon-fri``, ``mon,wed,fri`` or a mix like ``mon-wed,fri``."""
    word = text.strip().lower()
    if word in ("weekdays", "workdays", "working-days"):
        return WEEKDAYS
    if word in ("daily", "everyday", "every-day", "all"):
        return EVERY_DAY
    if word in ("weekends", "weekend"):
        return frozenset({5, 6})
    days: set[int] = set()
    for part in word.split(","):
        if not part:
            continue
        start, dash, end = part.partition("-")
        first = _day(start)
        last = _day(end) if dash else first
        if first is None or last is None:
            raise ScheduleError(
                f"“{text}” isn't a list of days I understand. Try mon-fri, mon,wed,fri, "
                "weekdays or daily."
            )
        i = first
        while True:  # ranges may wrap, e.g. fri-mon
            days.add(i)
            if i == last:
                break
            i = (i + 1) % 7
    if not days:
        raise ScheduleError("Say which days, like mon-fri.")
    return frozenset(days)


def parse_nation(text: str) -> str | None:
    word = text.strip().lower()
    word = NATION_ALIASES.get(word, word)
    return word if word in NATIONS else None


def parse_subscribe_args(args: str) -> Schedule:
    """``[HH:MM] [days] [nation]`` in any order; anything left out takes the default."""
    at, days, nation = DEFAULT_TIME, WEEKDAYS, DEFAULT_NATION
    seen: set[str] = set()
    for token in args.replace(", ", ",").split():
        low = token.lower()
        if any(ch.isdigit() for ch in low):
            kind = "time"
            value: object = parse_time(low)
        elif parse_nation(low) is not None:
            kind, value = "nation", parse_nation(low)
        else:
            kind, value = "days", parse_days(low)
        if kind in seen:
            what = {"time": "time", "days": "set of days", "nation": "nation"}[kind]
            raise ScheduleError(
                f"You gave more than one {what}. Give one time, one set of days and "
                "optionally a nation."
            )
        seen.add(kind)
        if kind == "time":
            at = value  # type: ignore[assignment]
        elif kind == "nation":
            nation = value  # type: ignore[assignment]
        else:
            days = value  # type: ignore[assignment]
    return Schedule(at=at, days=days, nation=nation)


def encode_days(days: frozenset[int]) -> str:
    return ",".join(str(d) for d in sorted(days))


def decode_days(text: str) -> frozenset[int]:
    return frozenset(int(d) for d in text.split(",") if d.strip())


def describe_days(days: frozenset[int]) -> str:
    if days == WEEKDAYS:
        return "Monday to Friday"
    if days == EVERY_DAY:
        return "every day"
    ordered = sorted(days)
    # A run of three or more consecutive days reads better as a range.
    if len(ordered) >= 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{LONG_DAY_NAMES[ordered[0]]} to {LONG_DAY_NAMES[ordered[-1]]}"
    names = [LONG_DAY_NAMES[d] for d in ordered]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- working days and due instants -------------------------------------------------------


@lru_cache(maxsize=8)
def _bank_holidays(nation: str) -> holidays.HolidayBase:
    # Years are filled in lazily by the package as dates are looked up.
    return holidays.country_holidays("GB", subdiv=NATIONS.get(nation, "ENG"))


def bank_holiday(day: date, nation: str) -> str | None:
    """The holiday's name if ``day`` is a bank holiday in ``nation``."""
    return _bank_holidays(nation).get(day)


def is_delivery_day(day: date, schedule: Schedule) -> bool:
    return day.weekday() in schedule.days and bank_holiday(day, schedule.nation) is None


def due_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``at`` on ``day`` in ``tz`` (fold=0: see the module docstring)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def next_delivery(
    schedule: Schedule, tz: ZoneInfo, not_before: datetime, *, after_day: date | None = None
) -> tuple[date, datetime]:
    """The first (local date, UTC due instant) at or after ``not_before`` (and, if given,
    on a local date later than ``after_day``)."""
    day = not_before.astimezone(tz).date() - timedelta(days=1)  # a gap time may land earlier
    if after_day is not None and after_day >= day:
        day = after_day + timedelta(days=1)
    for _ in range(_HORIZON_DAYS):
        if is_delivery_day(day, schedule):
            due = due_instant(day, schedule.at, tz)
            if due >= not_before:
                return day, due
        day += timedelta(days=1)
    raise ScheduleError("That schedule has no delivery day in the next year.")


def local_text(instant: datetime, tz: ZoneInfo) -> str:
    """``Monday 30 March 2026 at 09:30 BST``, for people."""
    local = instant.astimezone(tz)
    return f"{LONG_DAY_NAMES[local.weekday()]} {local.day} {local:%B %Y at %H:%M %Z}"
