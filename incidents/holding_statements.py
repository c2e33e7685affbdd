"""The ready-made holding statements (incidents/data/holding_statements.yml), filled in
for one incident, and who may approve one.

Who approves: the press office, as the routing file names it (``press_office:`` a list
of people, like a team's ``members``). When the routing file names no press office
(or paging is not set up), the incident's commander approves. A press office, once
named, is the only one who can: a public line is theirs to sign off, and a commander
who is not press office asks them. Anyone on the incident can draft, edit and, once it
is approved, mark a line as posted.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bot.core.model import Actor
from incidents.paging.routing import member_matches
from incidents.store import Incident
from incidents.triage import platform_in_words

DATA = Path(__file__).parent / "data" / "holding_statements.yml"
TEXT_LIMIT = 1500  # what someone may type as a holding statement
NO_ACCOUNT = "[our account]"  # shown when the incident names no account: edit it


class Situation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    label: str = Field(min_length=1, max_length=60)
    text: str = Field(min_length=1, max_length=TEXT_LIMIT)


class HoldingStatements(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    situations: dict[str, Situation] = Field(min_length=1)


@cache
def statements(path: Path = DATA) -> HoldingStatements:
    return HoldingStatements.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def label(situation: str) -> str:
    found = statements().situations.get(situation)
    return found.label if found else situation


def suggested(inc: Incident) -> list[str]:
    """The situations in the order most likely wanted: impersonation first for a fake
    account, a compromise first otherwise."""
    names = list(statements().situations)
    first = "impersonation" if inc.kind == "impersonation" else "compromised"
    return sorted(names, key=lambda name: name != first)


def filled(inc: Incident, situation: str) -> str:
    """The ready-made words for this incident: its account and platform filled in."""
    text = statements().situations[situation].text
    platform = platform_in_words(inc.platform)
    return " ".join(
        text.replace("{platform}", platform).replace("{account}", inc.account or NO_ACCOUNT).split()
    )


def press_office(pager: Any) -> list[str]:
    """The people the routing file names as press office (none without paging)."""
    routing = getattr(pager, "routing", None)
    return list(getattr(routing, "press_office", None) or [])


def may_approve(actor: Actor, inc: Incident, pager: Any) -> bool:
    office = press_office(pager)
    if office:
        return member_matches(office, actor.key)
    return actor.key == inc.commander
