"""The values paging shares with the incident feature: what happened, and what was sent."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from bot.core.inert import one_line

# How long each fact may be in a page. People's text is limited where it is typed
# (incidents.text_limits); these keep a page bounded whatever is stored.
FIELD_LIMITS = {
    "id": 64,
    "summary": 900,
    "platform": 40,
    "platform_name": 40,
    "account": 120,
    "department": 120,
    "reporter": 200,
    "owning_team": 200,
}


@dataclass(frozen=True)
class IncidentInfo:
    """What paging needs to know about an incident; the incident feature builds it."""

    id: str
    summary: str
    platform: str  # the social media platform, e.g. "x", "facebook"
    account: str  # the account's handle
    department: str | None
    severity: int  # 1 (worst) .. 4
    drill: bool
    reporter: str  # actor.key
    origin: dict | None = None  # place fields of where it was reported, for chat targets/links
    # The platform as it writes its own name ("X", "LinkedIn"), for what people read;
    # ``platform`` stays the id routing rules match. Empty in records from before it.
    platform_name: str = ""
    # The account's owning team in the accounts register ("" when it is not registered).
    owning_team: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def inert(self) -> IncidentInfo:
        """The same facts, each made inert and on one line, and cut to its limit: what
        every provider sends (pages, SMS, emails, webhooks), so text someone typed can
        carry no control or bidi characters and no line breaks into a header."""
        changes: dict[str, Any] = {
            name: one_line(getattr(self, name), limit) for name, limit in FIELD_LIMITS.items()
        }
        if self.department is None:
            changes["department"] = None
        return replace(self, **changes)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IncidentInfo:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass(frozen=True)
class PageRecord:
    """One page (or acknowledge/resolve message) to one target, for the incident report."""

    target: str  # the target's name in the routing file
    provider: str  # pagerduty, notify_sms, notify_email, email, chat, webhook
    step: int  # 1-based step of its team's chain; 0 for acknowledge/resolve messages
    round: int  # 1-based pass through the chain; 0 for acknowledge/resolve messages
    action: str  # trigger, acknowledge or resolve
    status: str  # pending, sending, sent, failed, cancelled or skipped
    attempts: int
    sent_at: datetime | None
    detail: str | None = None  # the last error, or why it was skipped or cancelled
    fallback_for: str | None = None  # the target this one stood in for
    team: str | None = None  # the team whose chain it belonged to


@dataclass(frozen=True)
class Notice:
    """What paging says about an incident, twice: ``detail`` names the routing file's
    targets, providers and their errors (the timeline's admin view, and admins), and
    ``plain`` says the same in words anyone can read, with no settings, file or target
    names (everyone else: the reporter, the room)."""

    detail: str
    plain: str


SEVERITY_WORDS = {1: "critical", 2: "high", 3: "moderate", 4: "low"}


def severity_label(severity: int) -> str:
    return f"{severity} ({SEVERITY_WORDS.get(severity, 'unknown')})"


def severity_change(was: int, now: int) -> str:
    """ "Severity raised from 3 (moderate) to 1 (critical)": the one wording of a change,
    so the room, the timeline and the pager's own entry say the same (1 is the worst)."""
    way = "raised" if now < was else "lowered"
    return f"Severity {way} from {severity_label(was)} to {severity_label(now)}"
