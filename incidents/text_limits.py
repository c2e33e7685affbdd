"""How long the things people type into an incident may be, checked where they are typed.

Every one of these ends up in cards, checklists, pages, text messages, emails and the
report, each with its own size limit. Refusing an over-long entry with the limit in
the message (and keeping nothing of it) is kinder than cutting it short silently.
"""

from __future__ import annotations

from bot.core.inert import inert, too_long

ACCOUNT = 100  # a social media handle; the platforms allow far fewer
DEPARTMENT = 100
PERSON = 100  # a name typed in a mention
EVIDENCE = 1000  # a link or a note
REASON = 300  # why a checklist step was skipped
SUMMARY = 500  # what happened, given when closing

__all__ = ["ACCOUNT", "DEPARTMENT", "EVIDENCE", "PERSON", "REASON", "SUMMARY", "check", "clean"]
# (Not to be confused with incidents.access's start limits, which count incidents.)


def check(what: str, text: str, limit: int) -> str | None:
    """A friendly refusal naming the limit, or None when ``text`` fits."""
    return too_long(what, text, limit)


def clean(text: str) -> str:
    """What is stored: the text made inert (see :mod:`bot.core.inert`), trimmed."""
    return inert(text).strip()
