"""Whether a post made with an idempotency key reached its place: the answer a transport
gives to ``Transport.find_posted``.

A proactive post (a daily tip) can be cut off in the middle: the process is killed, or
the request times out, after the platform may or may not have taken it. Neither Slack nor
the Bot Connector de-duplicates a repeated post, so the poster cannot simply send it
again. Instead it stamps the post with a key of its own (``post(place, msg, key=...)``)
and later asks the platform whether a message with that key is there. Three answers:

- **found**: it is there (``ref`` names it); record it as sent, never post it again;
- **absent**: the platform can say, and it is not there: posting it now is safe;
- **unknown**: the platform can't say (it has no history a bot may read, a scope is
  missing, an error, a rate limit): the caller must not post it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from bot.core.model import MessageRef

FOUND: Final = "found"
ABSENT: Final = "absent"
UNKNOWN: Final = "unknown"


@dataclass(frozen=True, slots=True)
class Sighting:
    state: Literal["found", "absent", "unknown"]
    ref: MessageRef | None = None
    why: str = ""  # for unknown: an error code or a short reason, never message text

    @classmethod
    def found(cls, ref: MessageRef) -> Sighting:
        return cls(FOUND, ref)

    @classmethod
    def absent(cls) -> Sighting:
        return cls(ABSENT)

    @classmethod
    def unknown(cls, why: str) -> Sighting:
        return cls(UNKNOWN, why=why)
