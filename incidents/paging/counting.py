"""What counts as a page: one definition, so the report, its summary and any other
place that says "N pages sent" never disagree.

A *page* is a trigger that went out to a person (``action == "trigger"`` and
``status == "sent"``). The acknowledge and resolve messages secbot sends afterwards are
*updates*, not pages; a drill does not page targets that are not drill-safe, and those
are *skipped in the drill*, not sent. Both are shown apart so nobody reads a drill or a
tidy-up message as someone being woken up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

UPDATE_ACTIONS = frozenset({"acknowledge", "resolve"})


def is_update(page: Any) -> bool:
    """An acknowledge or resolve message to a paging tool, not a page to a person."""
    return str(getattr(page, "action", "")) in UPDATE_ACTIONS


@dataclass(frozen=True)
class PageCounts:
    """Every :class:`incidents.paging.model.PageRecord` of an incident, sorted once."""

    sent: tuple[Any, ...] = ()  # pages that reached a person's paging tool or phone
    failed: tuple[Any, ...] = ()  # pages that were tried and did not go
    drill_skipped: tuple[Any, ...] = ()  # not sent because it was a drill
    not_sent: tuple[Any, ...] = ()  # cancelled (acknowledged first) or still waiting
    updates: tuple[Any, ...] = ()  # acknowledge and resolve messages, sent or not
    all: tuple[Any, ...] = field(default=(), repr=False)

    @property
    def pages(self) -> tuple[Any, ...]:
        """Every page to a person, whatever became of it (not the updates)."""
        return tuple(p for p in self.all if not is_update(p))

    def summary(self) -> str:
        """Like "3 pages sent, 1 failed, 2 skipped (drill), 1 update": the sent number
        is pages to people only."""
        n = len(self.sent)
        parts = [f"{n} page{'' if n == 1 else 's'} sent"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.drill_skipped:
            parts.append(f"{len(self.drill_skipped)} skipped (drill)")
        if self.updates:
            u = len(self.updates)
            parts.append(f"{u} acknowledge/resolve update{'' if u == 1 else 's'}")
        return ", ".join(parts)


def count_pages(pages: Iterable[Any]) -> PageCounts:
    """Sort an incident's page records into pages sent, failed, skipped in a drill,
    not sent, and updates (:data:`UPDATE_ACTIONS`)."""
    records = tuple(pages)
    sent, failed, skipped, not_sent, updates = [], [], [], [], []
    for p in records:
        status = str(getattr(p, "status", ""))
        if is_update(p):
            updates.append(p)
        elif status == "sent":
            sent.append(p)
        elif status == "failed":
            failed.append(p)
        elif status == "skipped":
            skipped.append(p)
        else:
            not_sent.append(p)
    return PageCounts(
        tuple(sent), tuple(failed), tuple(skipped), tuple(not_sent), tuple(updates), records
    )
