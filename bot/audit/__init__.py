"""The audit log: who did what as an admin, when, and through which front door.

One helper records an admin action, :func:`record`, called where the action takes effect
(the dead-letter retry, a workspace resume, acknowledging or closing for someone else, an
export or an erasure; the accounts register and access reviews call it too). It takes
who, when and the front door from the turn, so a caller says only what was done and to
what, in plain words::

    from bot import audit
    await audit.record(turn, "retried a dead letter", "dead letter #3")

Operators' commands, which have no turn, use :func:`record_operator` (front door
``cli``). Entries are never changed or deleted (``bot.audit.store``); admins read them
with ``/secbot audit`` and export them as CSV (``bot.audit.command``).
"""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.audit.store import AuditLog, Entry, audit_log
from bot.storage.sql import Db

if TYPE_CHECKING:
    from bot.core.turn import Turn

__all__ = ["AuditLog", "Entry", "audit_log", "record", "record_operator"]


async def record(turn: Turn, action: str, target: str, *, about: str | None = None) -> None:
    """Keep one admin action done in chat. ``action`` is a short verb phrase ("retried a
    dead letter"), ``target`` what it was done to in plain words, ``about`` the pseudonym
    of a person it concerned (``bot.privacy.pseudonyms``), never their name or id."""
    actor = turn.actor
    await AuditLog(turn.services.db).add(
        at=turn.services.clock.now(),
        door=turn.place.platform,
        workspace=turn.place.workspace,
        actor=actor.key,
        actor_name=actor.name or actor.user_id,
        action=action,
        target=target,
        subject=about,
    )


async def record_operator(
    db: Db, at: datetime, action: str, target: str, *, who: str | None = None
) -> None:
    """Keep one action an operator took with ``python app.py …`` (front door ``cli``);
    ``who`` defaults to the operating-system account that ran it."""
    name = who or _os_user()
    await AuditLog(db).add(
        at=at,
        door="cli",
        workspace="",
        actor=f"cli:{name}",
        actor_name=name,
        action=action,
        target=target,
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's random user)
        return "unknown operator"
