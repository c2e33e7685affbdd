"""The one place every register change is recorded for the audit log (issue 18).

h18-audit builds ``bot.audit.record(turn, action, target)`` on its own branch; it was not
on main when this was written. Every register change (and every access review and
leaver decision, which build on the register) calls :func:`changed` and nothing else.
Where ``bot.audit`` exists, the change goes to the audit log through it; until then it
is logged (what was done, to which account number, by whose key: no typed text), which
is a real record, though not the audit log. Once both are on main, the import below can
become a plain ``from bot import audit``.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core import Turn

log = logging.getLogger("secbot.register")


def _audit_log() -> Any:
    """``bot.audit`` when this secbot has it, else None."""
    try:
        return importlib.import_module("bot.audit")
    except ModuleNotFoundError:
        return None


async def changed(turn: Turn, action: str, target: str) -> None:
    """``action``: a short verb phrase ("added an account to the register"); ``target``:
    what it was done to, in plain words ("account #12 (X @DeptPress)")."""
    audit = _audit_log()
    if audit is not None:
        await audit.record(turn, action, target)
        return
    log.info("register: %s (%s) by %s", action, target.split(" (", 1)[0], turn.actor.key)
