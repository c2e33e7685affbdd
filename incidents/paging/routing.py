"""Who gets paged for an incident, and how: the routing file (SECBOT_ROUTING).

The file is YAML checked by pydantic. Targets are named once and referred to by
name from escalation steps and from each other's ``fallback``, so a typo shows up
at start-up as one clear error naming the file and the field, not in the middle of
an incident. The targets themselves (and the rules for secrets in them) are in
``incidents.paging.targets``; this module has the teams, their escalation, the rules
that pick a team, and loading the file.

Secrets are never written in the file: it names the environment variable that holds
each one (``routing_key_env: PD_ROUTING_KEY``, ``secret_env``, ``url_env`` for a URL
with a token in it, ``api_key_env``), so the file can be committed and the database,
which keeps a copy of each incident's chain, holds only the names. A secret written in
the file is refused at start-up with a line saying which ``*_env`` field to use; the
older ``${SECBOT_NAME}`` form is read as naming that variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.settings import ConfigError
from content.library.yamlio import parse_yaml, strip_lines
from incidents.paging.targets import NAME, TARGET_TYPES, Target, as_list

if TYPE_CHECKING:
    from incidents.paging.model import IncidentInfo

DEFAULT_ROUTING = Path(__file__).resolve().parent.parent / "data" / "routing.example.yml"


class RoutingError(ConfigError):
    """The routing file is missing or wrong; the message names the file and the field."""


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: list[str] = Field(min_length=1)
    wait_minutes: float = Field(default=5, ge=0, le=24 * 60)

    @field_validator("targets", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return as_list(v)


class Escalation(BaseModel):
    """Steps run in order, each ``wait_minutes`` after the last; then the whole
    chain runs again ``repeat`` more times unless someone acknowledges."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: list[Step] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=10)


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME)
    description: str = ""
    members: list[str] = Field(default_factory=list)
    escalation: Escalation

    def is_member(self, actor_key: str) -> bool:
        return member_matches(self.members, actor_key)


def member_matches(members: list[str], actor_key: str) -> bool:
    """``slack:U1`` matches the entry ``slack:U1`` and the bare platform id ``U1``."""
    _, _, user_id = actor_key.partition(":")
    return any(m == actor_key or (":" not in m and m == user_id) for m in members)


class Rule(BaseModel):
    """Every field given must match; an empty rule matches everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    team: str
    description: str = ""
    department: list[str] | None = None
    owning_team: list[str] | None = None  # the registered account's owning team
    account: list[str] | None = None
    platform: list[str] | None = None
    severity: list[int] | None = None
    min_severity: int | None = Field(default=None, ge=1, le=4)

    @field_validator("department", "owning_team", "account", "platform", "severity", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return as_list(v)

    @field_validator("severity")
    @classmethod
    def _severities(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and any(not 1 <= s <= 4 for s in v):
            raise ValueError("severity must be from 1 (worst) to 4")
        return v

    def matches(self, info: IncidentInfo) -> bool:
        def fold(s: str | None) -> str:
            return (s or "").strip().casefold()

        def handle(s: str | None) -> str:
            return fold(s).lstrip("@")

        if self.department is not None and fold(info.department) not in {
            fold(d) for d in self.department
        }:
            return False
        if self.owning_team is not None and fold(info.owning_team) not in {
            fold(t) for t in self.owning_team
        }:
            return False
        if self.account is not None and handle(info.account) not in {
            handle(a) for a in self.account
        }:
            return False
        if self.platform is not None and fold(info.platform) not in {
            fold(p) for p in self.platform
        }:
            return False
        if self.severity is not None and info.severity not in self.severity:
            return False
        # 1 is the worst: min_severity 2 means "2 or worse", so 1 and 2 match.
        return self.min_severity is None or info.severity <= self.min_severity


class DataProtectionOfficer(BaseModel):
    """The department's data protection officer, brought in when the ICO 72-hour clock
    starts (``incidents/desk/ico.py``): added to the incident's people, sent a direct
    message with the deadline, and reminded with the commander. ``people`` is the DPO
    on each chat platform, written with the platform (``slack:U0123ABCD``,
    ``teams:<Entra object id>``, ``web:<user id>``); the one on the incident's platform
    is used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    people: list[str] = Field(min_length=1)

    @field_validator("people", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return as_list(v)

    @field_validator("people")
    @classmethod
    def _keys(cls, v: list[str]) -> list[str]:
        for key in v:
            platform, _, user = key.partition(":")
            if platform not in ("slack", "teams", "web") or not user.strip():
                raise ValueError(
                    f"{key!r} is not a person: write slack:U0123ABCD, teams:<object id>"
                    " or web:<user id>"
                )
        return v

    def person_on(self, platform: str) -> str | None:
        """The DPO's person key on ``platform``, if the file names one there."""
        return next((k for k in self.people if k.startswith(f"{platform}:")), None)


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    default_team: str
    targets: dict[str, Target] = Field(min_length=1)
    teams: dict[str, Team] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    # Who approves holding statements (incidents.holding_statements), as platform:id.
    press_office: list[str] = Field(default_factory=list)
    data_protection_officer: DataProtectionOfficer | None = None

    @model_validator(mode="before")
    @classmethod
    def _team_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("teams"), dict):
            teams = {}
            for key, team in data["teams"].items():
                if isinstance(team, dict):
                    team = {"name": key, **team}
                teams[key] = team
            data = {**data, "teams": teams}
        return data

    @model_validator(mode="after")
    def _references(self) -> RoutingConfig:
        problems: list[str] = []
        known = ", ".join(sorted(self.targets))
        for name in self.targets:
            if not re.match(NAME, name):
                problems.append(f"targets.{name}: use letters, digits, '-', '_' or '.' in names")
        for name, target in self.targets.items():
            seen = [name]
            fb = target.fallback
            if fb is not None and fb not in self.targets:
                problems.append(
                    f"targets.{name}.fallback: unknown target {fb!r} (defined: {known})"
                )
                continue
            while fb is not None and fb in self.targets:
                if fb in seen:
                    problems.append(
                        f"targets.{name}.fallback: fallbacks go round in a circle "
                        f"({' -> '.join([*seen, fb])})"
                    )
                    break
                seen.append(fb)
                fb = self.targets[fb].fallback
        for tname, team in self.teams.items():
            if team.name != tname:
                problems.append(f"teams.{tname}.name: must be {tname!r} (the key) or left out")
            for i, step in enumerate(team.escalation.steps):
                for j, tid in enumerate(step.targets):
                    if tid not in self.targets:
                        problems.append(
                            f"teams.{tname}.escalation.steps[{i}].targets[{j}]:"
                            f" unknown target {tid!r} (defined: {known})"
                        )
        teams = ", ".join(sorted(self.teams))
        if self.default_team not in self.teams:
            problems.append(f"default_team: unknown team {self.default_team!r} (defined: {teams})")
        for i, rule in enumerate(self.rules):
            if rule.team not in self.teams:
                problems.append(f"rules[{i}].team: unknown team {rule.team!r} (defined: {teams})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def secret_names(self) -> list[tuple[str, str]]:
        """(where, variable) for every secret the file names, e.g.
        ("targets.duty-pd.routing_key_env", "PD_ROUTING_KEY")."""
        found = []
        for name, target in self.targets.items():
            names: dict[str, str] = getattr(target, "secret_names", dict)()
            found += [(f"targets.{name}.{field}", var) for field, var in names.items()]
        return found

    def missing_secrets(self, environ: Mapping[str, str]) -> list[tuple[str, str]]:
        """The secrets whose variable is not set (or blank) in ``environ``."""
        return [(w, v) for w, v in self.secret_names() if not (environ.get(v) or "").strip()]

    def team_for(self, info: IncidentInfo) -> Team:
        """The first rule that matches wins; otherwise the default team."""
        for rule in self.rules:
            if rule.matches(info):
                return self.teams[rule.team]
        return self.teams[self.default_team]


# --- loading ----------------------------------------------------------------------------


def _where(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    items = list(loc)
    for i, part in enumerate(items):
        # Drop the discriminator tag pydantic adds: targets.duty.pagerduty.routing_key
        if i == 2 and items[0] == "targets" and part in TARGET_TYPES:
            continue
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def describe(e: ValidationError, path: str | Path) -> str:
    lines = []
    for err in e.errors():
        msg = str(err["msg"]).removeprefix("Value error, ")
        where = _where(tuple(err["loc"]))
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        lines.append(f"{where}: {msg}" if where else msg)
    shown = "; ".join(lines[:6])
    more = f" (and {len(lines) - 6} more problems)" if len(lines) > 6 else ""
    return f"routing file {path}: {shown}{more}"


def load_routing(path: str | Path) -> RoutingConfig:
    """Read and check the routing file; any problem raises :class:`RoutingError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RoutingError(
            f"routing file {path} was not found: set SECBOT_ROUTING to your routing file"
        ) from None
    except UnicodeDecodeError:
        raise RoutingError(f"routing file {path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as e:
        raise RoutingError(f"routing file {path} can't be read ({e.strerror})") from None
    result = parse_yaml(text)
    if result.too_deep:
        raise RoutingError(f"routing file {path} nests too deeply to be a routing file")
    if result.error is not None:
        where = (
            f" at line {result.error_line}, column {result.error_column}"
            if result.error_line
            else ""
        )
        raise RoutingError(f"routing file {path} is not valid YAML{where}: {result.reason}")
    if result.duplicate_keys:
        line, key = result.duplicate_keys[0]
        raise RoutingError(
            f"routing file {path} is not valid YAML at line {line}: the key {key!r} is given twice"
        )
    data = strip_lines(result.data)
    if not isinstance(data, dict):
        raise RoutingError(
            f"routing file {path} must be a mapping with default_team, targets and teams"
        )
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as e:
        raise RoutingError(describe(e, path)) from None
