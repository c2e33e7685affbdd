"""The one place every register change is recorded for the audit log (issue 18).

Every register change (and every access review and leaver decision, which build on the
register) calls :func:`changed` and nothing else, so the register's audit trail is one
function to read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import audit

if TYPE_CHECKING:
    from bot.core import Turn


async def changed(turn: Turn, action: str, target: str) -> None:
    """``action``: a short verb phrase ("added an account to the register"); ``target``:
    what it was done to, in plain words ("account #12 (X @DeptPress)")."""
    await audit.record(turn, action, target)
