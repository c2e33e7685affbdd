"""An escalation chain as paging snapshots it, and where each page sat in it.

Paging copies a team's chain into the incident's record when it starts (Grafana OnCall's
rule: a later change to the routing file never changes an escalation under way). When a
higher severity re-routes the incident to another team, that team's chain is appended:
its step numbers continue after the old chain's, and ``history`` says which team's chain
began at which number, so a page can be reported as "step 2 of comms-security" rather
than as a raw stored step.
"""

from __future__ import annotations

from typing import Any

from incidents.paging.model import PageRecord
from incidents.paging.routing import RoutingConfig, Team
from incidents.paging.store.rows import IncidentRow, PageRow


def snapshot(routing: RoutingConfig, team: Team) -> dict[str, Any]:
    """The team's chain with every target it can reach (fallbacks too), as plain data."""
    wanted: list[str] = []
    for step in team.escalation.steps:
        for first in step.targets:
            tid: str | None = first
            while tid is not None and tid not in wanted:
                wanted.append(tid)
                tid = routing.targets[tid].fallback
    return {
        "team": team.name,
        "members": list(team.members),
        "repeat": team.escalation.repeat,
        "steps": [s.model_dump() for s in team.escalation.steps],
        "targets": {t: routing.targets[t].model_dump() for t in wanted},
    }


def history(chain: dict[str, Any]) -> list[dict[str, Any]]:
    """Which team's chain started at which step number, oldest first."""
    return chain.get("history") or [{"team": chain.get("team"), "offset": 0}]


def page_records(inc: IncidentRow | None, rows: list[PageRow]) -> list[PageRecord]:
    """The incident's pages, each with its step in its own team's chain and that team."""
    started = history(inc.chain) if inc else []

    def placed(step: int) -> tuple[int, str | None]:
        """A stored step number → (step in its team's chain, that team)."""
        if step <= 0:
            return step, None
        where = [h for h in started if int(h["offset"]) < step]
        if not where:
            return step, None
        return step - int(where[-1]["offset"]), where[-1]["team"]

    records = []
    for r in rows:
        step, team = placed(r.step)
        records.append(
            PageRecord(
                target=r.target_id,
                provider=r.provider,
                step=step,
                round=r.round,
                action=r.action,
                status=r.status,
                attempts=r.attempts,
                sent_at=r.sent_at,
                detail=r.detail,
                fallback_for=r.fallback_for,
                team=team,
            )
        )
    return records
