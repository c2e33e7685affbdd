"""Retention settings: how long secbot keeps what it stores about people and incidents.

Each is a duration such as ``30d`` or ``12h`` (a whole or decimal number and one unit:
``s``, ``m``, ``h``, ``d`` or ``w``). The daily prune (:mod:`bot.storage.retention`) deletes
what is older. The defaults, and why each is what it is, are in the README ("Retention").
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import ValidationInfo, field_validator

from bot.settings.base import SettingsGroup, setting

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Shortest and longest period any retention setting takes: under an hour would delete
# records people are still using; ten years is the longest any records schedule asks for.
SHORTEST = timedelta(hours=1)
LONGEST = timedelta(days=3650)


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``1.5d`` as a timedelta; ValueError otherwise."""
    found = _DURATION.fullmatch(text.strip())
    if not found:
        raise ValueError(
            f"must be a duration such as 30d or 12h (a number and one of s, m, h, d or w),"
            f" not {text[:40]!r}"
        )
    return timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2).lower()])


def duration_text(value: timedelta) -> str:
    """The shortest way to write ``value`` back as a duration (``7d``, ``36h``)."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


class RetentionSettings(SettingsGroup):
    keep_delivery_ids: timedelta = setting(
        "SECBOT_KEEP_DELIVERY_IDS",
        timedelta(days=7),
        "How long the ids of handled Slack and Teams deliveries are kept, so a platform's"
        " retry is not handled twice (platforms retry within about an hour).",
        group="Retention",
    )
    keep_quiz_answers: timedelta = setting(
        "SECBOT_KEEP_QUIZ_ANSWERS",
        timedelta(days=365),
        "How long each quiz answer is kept (a year of answers covers the yearly refresher;"
        " exam results and spaced-repetition cards are kept).",
        group="Retention",
    )
    keep_closed_incidents: timedelta = setting(
        "SECBOT_KEEP_CLOSED_INCIDENTS",
        timedelta(days=730),
        "How long an incident is kept after it is closed; then it is deleted whole, with"
        " its timeline, checklist, evidence list and pages.",
        group="Retention",
    )
    keep_webhook_events: timedelta = setting(
        "SECBOT_KEEP_WEBHOOK_EVENTS",
        timedelta(days=30),
        "How long callbacks from paging tools are remembered (those of open incidents are"
        " kept while the incident is open).",
        group="Retention",
    )

    @field_validator(
        "keep_delivery_ids", "keep_quiz_answers", "keep_closed_incidents",
        "keep_webhook_events", mode="before",
    )  # fmt: skip
    @classmethod
    def _duration(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        period = parse_duration(value)
        if not SHORTEST <= period <= LONGEST:
            raise ValueError(f"must be from 1h to 3650d, not {value[:40]!r}")
        return period
