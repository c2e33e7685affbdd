"""The posture figures of one tenant, per owning team: plain values worked out from what
the stores read, with no database and no awaiting, so the work can run off the event
loop (``asyncio.to_thread``) and be tested on its own.

What counts:

- **without strong 2FA**: the register's own rule (``Details.weak_2fa``): SMS, no second
  factor, or none recorded;
- **personal recovery contacts**: the recovery email is at a mail provider anyone can
  sign up to (``model.personal_address``), or the recovery email or phone is held by
  one person rather than a shared team mailbox (``recovery_shared``): either way the
  organisation can't get the account back without that person;
- **overdue access reviews**, **untrained people with access** and **open incidents**
  as their own modules decide (``incidents.reviews``, ``incidents.store.summary``);
- **last drill**: the newest drill started for an account of the team.

Teams are the register's owning teams, folded with ``model.team_key`` so "Press office"
and "press  Office" are one; an incident or review whose account has no team (or is no
longer registered) counts under "no owning team".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from incidents.register.model import Account, Details, personal_address, team_key
from incidents.reviews.store import Review
from incidents.reviews.trained import TrainedCheck
from incidents.store.summary import LastDrill, OpenCount, OpenIncident

WEAK_WORDS = {"sms": "SMS", "none": "no 2FA", "unknown": "not recorded"}
STATUS_WORDS = {"triage": "in triage"}


@dataclass(frozen=True)
class Flagged:
    """One thing on a list: what it is (an account, an incident) and why, in words."""

    what: str
    why: str = ""


@dataclass
class TeamPosture:
    name: str  # as the register writes it; "" for accounts with no owning team
    accounts: int = 0
    weak_2fa: list[Flagged] = field(default_factory=list)
    personal_recovery: list[Flagged] = field(default_factory=list)
    overdue_reviews: list[Flagged] = field(default_factory=list)
    untrained: list[str] = field(default_factory=list)  # names
    open_incidents: int = 0
    open_listed: list[Flagged] = field(default_factory=list)  # the newest, by id
    open_drills: int = 0
    last_drill: datetime | None = None

    @property
    def problems(self) -> int:
        return (
            len(self.weak_2fa)
            + len(self.personal_recovery)
            + len(self.overdue_reviews)
            + len(self.untrained)
            + self.open_incidents
        )


@dataclass
class Posture:
    """One tenant (or the tenants a caller belongs to) at ``at``."""

    at: datetime
    teams: list[TeamPosture]  # most to fix first
    people_with_access: int
    untrained: int
    unchecked: int  # of the untrained, people the register has no chat id for
    training_on: bool

    def total(self, what: str) -> int:
        return sum(
            len(v) if isinstance(v := getattr(t, what), list) else int(v) for t in self.teams
        )

    @property
    def last_drill(self) -> TeamPosture | None:
        drilled = [t for t in self.teams if t.last_drill is not None]
        return max(drilled, key=lambda t: t.last_drill or self.at) if drilled else None


def recovery_problem(d: Details) -> str | None:
    """Why the recovery contacts are personal, or None when the organisation holds them."""
    if personal_address(d.recovery_email):
        return "personal email address"
    if not d.recovery_shared and (d.recovery_email or d.recovery_phone):
        return "held by one person"
    return None


def _by_team(teams: dict[str, TeamPosture], name: str) -> TeamPosture:
    key = team_key(name)
    if key not in teams:
        teams[key] = TeamPosture(name.strip())
    return teams[key]


def tally(
    at: datetime,
    accounts: Iterable[Account],
    overdue: Iterable[Review],
    trained: TrainedCheck,
    open_counts: Iterable[OpenCount],
    open_listed: Iterable[OpenIncident],
    drills: Iterable[LastDrill],
) -> Posture:
    teams: dict[str, TeamPosture] = {}
    team_of_account: dict[int, str] = {}
    team_of_title: dict[str, str] = {}
    for a in accounts:
        team = _by_team(teams, a.team)
        team.accounts += 1
        team_of_account[a.id] = a.team
        team_of_title.setdefault(a.title, a.team)
        d = a.details
        if d.weak_2fa:
            team.weak_2fa.append(Flagged(a.title, WEAK_WORDS.get(d.two_factor, d.two_factor)))
        why = recovery_problem(d)
        if why is not None:
            team.personal_recovery.append(Flagged(a.title, why))
    for r in overdue:
        due = f"due {r.due_on.day} {r.due_on:%b %Y}"
        team = _by_team(teams, team_of_account.get(r.account_id, ""))
        team.overdue_reviews.append(Flagged(r.account_title, due))
    for u in trained.untrained if trained.training_on else ():
        for key in dict.fromkeys(team_key(team_of_title.get(t, "")) for t in u.accounts):
            _by_team(teams, teams[key].name if key in teams else "").untrained.append(u.name)
    for team in teams.values():
        team.untrained.sort(key=str.casefold)
    for c in open_counts:
        team = _by_team(teams, c.team)
        if c.drill:
            team.open_drills += c.count
        else:
            team.open_incidents += c.count
    for inc in open_listed:
        status = STATUS_WORDS.get(inc.status, inc.status)
        why = f"{inc.account}, {status}" if inc.account else status
        _by_team(teams, inc.team).open_listed.append(Flagged(inc.id, why))
    for drill in drills:
        team = _by_team(teams, drill.team)
        if team.last_drill is None or drill.at > team.last_drill:
            team.last_drill = drill.at
    ordered = sorted(teams.values(), key=lambda t: (-t.problems, not t.name, t.name.casefold()))
    untrained = trained.untrained if trained.training_on else []
    unchecked = sum(not u.checkable for u in untrained)
    return Posture(at, ordered, trained.people, len(untrained), unchecked, trained.training_on)
