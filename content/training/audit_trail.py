"""The one place assigning training is recorded for the audit log (issue 18).

h18-audit is building ``bot.audit.record(turn, action, target)`` on branch s6-h18-audit;
it is not on main while this is written. Assigning calls :func:`assigned` and nothing
else, so pointing it at the audit log is one line here once it lands (as
``incidents/register/audit_trail.py`` does for the register, access reviews and leavers).
Until then the assignment is logged: what was done, to how many, by whose key; no names.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core import Turn

log = logging.getLogger("secbot.training")


async def assigned(turn: Turn, target: str) -> None:
    """``target``: what it was assigned to, in plain words ("team press-office, 12 people")."""
    # AUDIT: when bot.audit is on main, this becomes
    #     await audit.record(turn, "assigned the security exam", target)
    log.info("training: assigned the security exam (%s) by %s", target, turn.actor.key)
