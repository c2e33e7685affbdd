"""What happened to one delivery attempt, as the fan-out reports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SendResult:
    # sent | retry | gone | failed | missed | unknown | in doubt (looked for later, doubt.py)
    # | cancelled | skipped | deferred | error
    status: str
    detail: str = ""


# Shared instances of the common results: a fan-out of 10,000 need not allocate 10,000.
SENT_RESULT = SendResult("sent")
DEFERRED = SendResult("deferred")
CANCELLED_RESULT = SendResult("cancelled")
