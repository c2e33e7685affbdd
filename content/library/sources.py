"""Rules for a source: an https page that states the fact, checked recently.

Shared by the content lint and the playbook lint, so a quiz item and a recovery step are
held to the same standard. A site's home page ("https://www.example.gov.uk/") names a
publisher but not the page a reader can check, so it is refused; a `checked:` date more
than six months old is a warning, because pages move and advice changes (Action Fraud
became Report Fraud; Facebook's settings moved to Accounts Centre).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlparse

from .models import Source

STALE_MONTHS = 6


def today_utc() -> date:
    """Today's date in UTC: the default clock for the staleness check."""
    return datetime.now(UTC).date()


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier (clipped to the month's last day)."""
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - every month has a 28th


def url_problem(url: str) -> str | None:
    """Why ``url`` can't be a source, or None when it can."""
    text = url.strip()
    parsed = urlparse(text)
    if parsed.scheme != "https" or not parsed.netloc or any(c.isspace() for c in text):
        return f"source url must be an https:// link, got {url!r}"
    if parsed.path in ("", "/") and not parsed.query:
        return (
            f"source url {url!r} is a home page; cite the page that states the fact "
            "(for example https://www.ncsc.gov.uk/guidance/...)"
        )
    return None


def checked_problem(source: Source, today: date, *, required: bool) -> tuple[str, str] | None:
    """(severity, message) about the source's ``checked:`` date, or None when it is fine.

    Missing is an error where ``required`` (the built-in content) and a warning elsewhere
    (an organisation's pack written before the field existed). A date in the future is an
    error: it is a typo, and it would hide the page from the staleness check for years.
    """
    checked = source.checked
    if checked is None:
        severity = "error" if required else "warning"
        return severity, "source needs a checked: date (when someone last read the page)"
    if checked > today:
        return "error", f"source checked: {checked.isoformat()} is in the future"
    if checked < months_before(today, STALE_MONTHS):
        return (
            "warning",
            f"source last checked {checked.isoformat()}, more than {STALE_MONTHS} months ago: "
            "read the page again and update checked:",
        )
    return None
