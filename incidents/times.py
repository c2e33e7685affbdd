"""Times for people: every time a person reads is shown in Europe/London, with the zone.

UK government teams work to UK time, and an incident that crosses the clocks changing
(last Sunday in March and October) must not read as an hour out. So the zone is named
on every time ("GMT" or "BST"), and the one formatter lives here so the report, the
ICO clock, reminders and the timeline never disagree about what 19:05 means.

Stored times stay aware UTC (``UtcDateTime``); only the words change. The zone data
comes from the system, or from the ``tzdata`` package on machines without it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london(at: datetime) -> str:
    """An aware time as UK people read it: ``"Fri 4 Dec 2026, 19:05 GMT"`` (``BST`` in
    summer). A naive time is refused: guessing its zone is how reports go an hour out."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("london() needs an aware datetime (a naive one has no zone)")
    local = at.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def london_seconds(at: datetime) -> str:
    """Like :func:`london` with seconds, for timelines where the order within a minute
    matters: ``"Fri 4 Dec 2026, 19:05:07 GMT"``."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("london_seconds() needs an aware datetime")
    local = at.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M:%S} {local.tzname()}"
