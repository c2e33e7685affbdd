"""The teams file (``SECBOT_PEOPLE_TEAMS``): who leads and who is in each team.

Why a file and not a Slack user group or a Teams team: a team has to mean the same thing
on Slack, Teams and the web chat, and a department often has people on more than one.
A user group exists only on Slack, a Teams team only in one tenant, and the web chat has
neither; a short YAML file, kept like the routing file, works on every front door and is
reviewed like any other change. People are named by ``platform:id`` (``slack:U0123ABCD``,
``teams:29:1abc…``, ``web:alice``) with an optional display name for reports, because
ids are what the platforms give and names are what people read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.settings import ConfigError
from content.library.yamlio import parse_yaml, strip_lines

PLATFORMS = ("slack", "teams", "web")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_KEY = re.compile(r"^(slack|teams|web):[A-Za-z0-9_.:\-]{1,100}$")
MAX_MEMBERS = 10_000


class TeamsFileError(ConfigError):
    """The teams file is missing or wrong; the message names the file and the field."""


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = ""

    @field_validator("id")
    @classmethod
    def _key(cls, v: str) -> str:
        if not _KEY.match(v):
            raise ValueError(
                f"{v!r} is not a person: write platform:id, like slack:U0123ABCD or web:alice"
            )
        return v

    @property
    def platform(self) -> str:
        return self.id.partition(":")[0]

    @property
    def user_id(self) -> str:
        return self.id.partition(":")[2]


def _member(v: Any) -> Any:
    return {"id": v} if isinstance(v, str) else v


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    leads: list[Member] = Field(default_factory=list)
    members: list[Member] = Field(default_factory=list, max_length=MAX_MEMBERS)

    @field_validator("leads", "members", mode="before")
    @classmethod
    def _people(cls, v: Any) -> Any:
        return [_member(x) for x in v] if isinstance(v, list) else v

    def keys(self) -> set[str]:
        return {m.id for m in self.members}

    def led_by(self, key: str) -> bool:
        return any(m.id == key for m in self.leads)


class TeamsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    teams: dict[str, Team] = Field(default_factory=dict)

    @field_validator("teams")
    @classmethod
    def _names(cls, v: dict[str, Team]) -> dict[str, Team]:
        for name in v:
            if not _NAME.match(name):
                raise ValueError(
                    f"team name {name!r}: use lower-case letters, digits and hyphens"
                    " (up to 40), like social-media"
                )
        return v

    def team(self, name: str) -> Team | None:
        return self.teams.get(name.strip().lower())

    def led_by(self, key: str) -> list[str]:
        """The names of the teams this person leads."""
        return sorted(n for n, t in self.teams.items() if t.led_by(key))

    def teams_of(self, key: str) -> list[str]:
        return sorted(n for n, t in self.teams.items() if key in t.keys())

    def name_in_file(self, key: str) -> str:
        for team in self.teams.values():
            for m in (*team.leads, *team.members):
                if m.id == key and m.name:
                    return m.name
        return ""


NO_TEAMS = TeamsFile()


def load_teams(path: str | Path | None) -> TeamsFile:
    """Read and check the teams file (no file set: no teams)."""
    if not path:
        return NO_TEAMS
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TeamsFileError(
            f"teams file {path} was not found: set SECBOT_PEOPLE_TEAMS to your teams file"
        ) from None
    except UnicodeDecodeError:
        raise TeamsFileError(f"teams file {path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as e:
        raise TeamsFileError(f"teams file {path} can't be read ({e.strerror})") from None
    result = parse_yaml(text)
    if result.error is not None or result.too_deep:
        where = f" at line {result.error_line}" if result.error_line else ""
        raise TeamsFileError(f"teams file {path} is not valid YAML{where}")
    if result.duplicate_keys:
        line, key = result.duplicate_keys[0]
        raise TeamsFileError(f"teams file {path} line {line}: the key {key!r} is given twice")
    data = strip_lines(result.data)
    if not isinstance(data, dict):
        raise TeamsFileError(f"teams file {path} must be a mapping with a teams: section")
    try:
        return TeamsFile.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise TeamsFileError(f"teams file {path}: {field}: {first['msg']}") from None
