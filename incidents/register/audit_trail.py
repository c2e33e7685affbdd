"""The one place every register change is recorded for the audit log (issue 18).

h18-audit is building ``bot.audit.record(turn, action, target)`` on branch
s6-h18-audit; it is not on main while this is written. Every register change calls
:func:`changed` and nothing else, so pointing the register at the audit log is one line
here once it lands. Until then the change is logged (what was done and to which account
number, by whose key: no typed text), which is a real record, not the audit log.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core import Turn

log = logging.getLogger("secbot.register")


async def changed(turn: Turn, action: str, target: str) -> None:
    """``action``: a short verb phrase ("added an account to the register"); ``target``:
    what it was done to, in plain words ("account #12")."""
    # AUDIT: when bot.audit is on main, this becomes
    #     await audit.record(turn, action, target)
    log.info("register: %s (%s) by %s", action, target, turn.actor.key)
