"""The posture figures in ``/metrics``, worked out afresh at every scrape from the same
reading as ``/secbot posture`` (:func:`incidents.posture.reading.read_posture`).

Counts only: no account handle, person or incident id is ever a label. Labels are the
tenant (``slack:T0123``, ``teams:<tenant id>``, ``web:local``: an organisation, not a
person) and the owning team's name as the register writes it. Both are bounded so a
big or hostile register can't flood Prometheus: at most :data:`MAX_TENANTS` tenants
(the rest are added together as ``(other)``) and :data:`MAX_TEAMS` teams per tenant
(those with the most accounts; the rest are ``(other)``), each name cut to
:data:`TEAM_LABEL` characters; accounts with no owning team are ``(none)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.inert import one_line
from bot.metrics.registry import Metrics
from incidents.posture.figures import Posture, TeamPosture
from incidents.posture.reading import posture_tenants, read_posture

if TYPE_CHECKING:
    from bot.core import Services

MAX_TENANTS = 50
MAX_TEAMS = 20
TEAM_LABEL = 60
OTHER, NONE = "(other)", "(none)"

# gauge name -> (help, what a team contributes)
TEAM_GAUGES = {
    "secbot_posture_accounts": (
        "Registered accounts, by tenant and owning team.",
        lambda t: t.accounts,
    ),
    "secbot_posture_accounts_weak_2fa": (
        "Registered accounts without strong 2FA (SMS, none, or not recorded).",
        lambda t: len(t.weak_2fa),
    ),
    "secbot_posture_accounts_personal_recovery": (
        "Registered accounts whose recovery email or phone is personal (a personal mail"
        " provider, or held by one person rather than a shared team mailbox).",
        lambda t: len(t.personal_recovery),
    ),
    "secbot_posture_access_reviews_overdue": (
        "Access reviews not finished by their due date.",
        lambda t: len(t.overdue_reviews),
    ),
    "secbot_posture_open_incidents": (
        "Incidents not closed (drills not counted), by the account's owning team.",
        lambda t: t.open_incidents,
    ),
}


@dataclass
class _Row:
    values: dict[str, int]
    last_drill: float = 0.0


def team_rows(p: Posture) -> dict[str, _Row]:
    """The posture's teams under bounded labels, figures added up where labels merge."""
    ranked = sorted(p.teams, key=lambda t: (-t.accounts, t.name.casefold()))
    rows: dict[str, _Row] = {}
    for n, team in enumerate(ranked):
        label = OTHER if n >= MAX_TEAMS else (one_line(team.name, TEAM_LABEL) or NONE)
        row = rows.setdefault(label, _Row({name: 0 for name in TEAM_GAUGES}))
        _add(row, team)
    return rows


def _add(row: _Row, team: TeamPosture) -> None:
    for name, (_, value) in TEAM_GAUGES.items():
        row.values[name] += value(team)
    if team.last_drill is not None:
        row.last_drill = max(row.last_drill, team.last_drill.timestamp())


def add_posture_metrics(services: Services) -> None:
    """The posture gauges on the app's metrics (none when the app has no metrics)."""
    metrics = services.find_feature(Metrics)
    if metrics is None:
        return
    labels = ["tenant", "team"]
    gauges = {name: metrics.gauge(name, doc, labels) for name, (doc, _) in TEAM_GAUGES.items()}
    drill = metrics.gauge(
        "secbot_posture_last_drill_timestamp_seconds",
        "When the owning team last started a drill (Unix time; 0: never).",
        labels,
    )
    people = metrics.gauge(
        "secbot_posture_people_with_access",
        "People with access to (or owning) a registered account, by tenant.",
        ["tenant"],
    )
    untrained = metrics.gauge(
        "secbot_posture_untrained_people",
        "People with access to a registered account without an exam pass in the last"
        " twelve months (including those the register has no chat id for), by tenant.",
        ["tenant"],
    )

    async def read(now: datetime) -> None:
        tenants = await posture_tenants(services)
        groups = [(t, [t]) for t in tenants[:MAX_TENANTS]]
        if len(tenants) > MAX_TENANTS:
            groups.append((OTHER, tenants[MAX_TENANTS:]))
        found = [(label, await read_posture(services, keys, now)) for label, keys in groups]
        for gauge in (*gauges.values(), drill, people, untrained):
            gauge.clear()
        for tenant, posture in found:
            for team, row in team_rows(posture).items():
                for name, gauge in gauges.items():
                    gauge.labels(tenant, team).set(row.values[name])
                drill.labels(tenant, team).set(row.last_drill)
            people.labels(tenant).set(posture.people_with_access)
            if posture.training_on:  # else nobody can be counted as trained
                untrained.labels(tenant).set(posture.untrained)

    metrics.add_source("posture", read)
