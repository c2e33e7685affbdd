"""The one place assigning training is recorded in the audit log (issue 18): assigning
calls :func:`assigned` and nothing else, as ``incidents/register/audit_trail.py`` does for
the register, access reviews and leavers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import audit

if TYPE_CHECKING:
    from bot.core import Turn


async def assigned(turn: Turn, target: str) -> None:
    """``target``: what it was assigned to, in plain words ("team press-office, 12 people")."""
    await audit.record(turn, "assigned the security exam", target)
