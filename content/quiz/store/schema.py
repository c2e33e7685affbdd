"""The quiz's tables, and the one time format its stores write."""

from __future__ import annotations

from datetime import UTC, datetime

# The schema is Alembic's: bot/storage/migrations/ (this domain's steps from before are
# frozen in bot/storage/migrations/legacy.py; a change is a new revision).


def iso(when: datetime) -> str:
    """One fixed UTC format, so stored times sort and compare as text."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)
