"""Who gets paged for an incident, and how: the routing file (SECBOT_ROUTING).

The file is YAML checked by pydantic. Targets are named once and referred to by
name from escalation steps and from each other's ``fallback``, so a typo shows up
at start-up as one clear error naming the file and the field, not in the middle of
an incident.

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
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.settings import ConfigError

if TYPE_CHECKING:
    from incidents.paging.model import IncidentInfo

DEFAULT_ROUTING = Path(__file__).resolve().parent.parent / "data" / "routing.example.yml"

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SETTING_REF = re.compile(r"^\$\{(SECBOT_[A-Z0-9_]+)\}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# URL parts that carry a credential: a query parameter with one of these words in its
# name, a user:password@ part, or a host whose URLs are themselves the secret.
_SECRET_WORDS = ("token", "key", "secret", "sig", "signature", "password", "auth", "code")
_SECRET_HOSTS = ("hooks.slack.com", ".webhook.office.com", ".logic.azure.com")
CHAT_PLATFORMS = ("slack", "teams", "web")


class RoutingError(ConfigError):
    """The routing file is missing or wrong; the message names the file and the field."""


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str | int) and not isinstance(value, bool) else value


def _secret_or_text(value: str, what: str) -> str:
    value = value.strip()
    if value.startswith("${") and not SETTING_REF.match(value):
        raise ValueError(
            f"{what} must be the value itself or ${{SECBOT_NAME}} naming a setting, not {value!r}"
        )
    return value


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    drill_safe: bool = False
    fallback: str | None = None
    description: str = ""


def _env_name(value: str, field: str) -> str:
    value = value.strip()
    if not ENV_NAME.match(value):
        raise ValueError(
            f"{field} must be the name of an environment variable (letters, digits and _),"
            f" not {value!r}"
        )
    return value


def _named_secret(data: Any, field: str, example: str) -> Any:
    """``field: ${NAME}`` → ``field_env: NAME``; ``field: <the secret itself>`` refused."""
    if not isinstance(data, dict) or field not in data:
        return data
    data = dict(data)
    value = data.pop(field)
    if f"{field}_env" in data:
        raise ValueError(f"give {field}_env only, not {field} as well")
    m = SETTING_REF.match(str(value).strip()) if isinstance(value, str) else None
    if m is None:
        raise ValueError(
            f"{field}: don't write secrets in the routing file. Put it in an environment "
            f"variable and name that here instead, for example {field}_env: {example}"
        )
    data[f"{field}_env"] = m.group(1)
    return data


def url_has_secret(url: str) -> bool:
    """True when a URL carries a credential: user:password@, a query parameter such as
    ``token=`` or ``sig=``, or a host (Slack, Teams or Power Automate webhooks) whose
    URLs are secrets in themselves."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.password or parts.username:
        return True
    if host in _SECRET_HOSTS or any(host.endswith(h) for h in _SECRET_HOSTS if h[0] == "."):
        return True
    return any(
        any(word in name.lower() for word in _SECRET_WORDS)
        for name, _ in parse_qsl(parts.query, keep_blank_values=True)
    )


class PagerDutyTarget(_Target):
    """A PagerDuty service, through its Events API v2 integration key, which is read from
    the environment variable named by ``routing_key_env``."""

    type: Literal["pagerduty"]
    routing_key_env: str
    base_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_inline_key(cls, data: Any) -> Any:
        return _named_secret(data, "routing_key", "PD_ROUTING_KEY")

    @field_validator("routing_key_env")
    @classmethod
    def _key(cls, v: str) -> str:
        return _env_name(v, "routing_key_env")

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("https://", "http://")):
            raise ValueError(f"base_url must be an http(s) URL, not {v!r}")
        if v is not None and url_has_secret(v):
            raise ValueError("base_url must not carry a token or password")
        return v

    def secret_names(self) -> dict[str, str]:
        return {"routing_key_env": self.routing_key_env}


class NotifySmsTarget(_Target):
    """A text message through GOV.UK Notify."""

    type: Literal["notify_sms"]
    phone: str = Field(min_length=6)
    template_id: str = Field(min_length=1)
    api_key_env: str = "SECBOT_NOTIFY_API_KEY"

    @model_validator(mode="before")
    @classmethod
    def _no_inline_key(cls, data: Any) -> Any:
        return _named_secret(data, "api_key", "NOTIFY_API_KEY")

    @field_validator("api_key_env")
    @classmethod
    def _key_name(cls, v: str) -> str:
        return _env_name(v, "api_key_env")

    def secret_names(self) -> dict[str, str]:
        return {"api_key_env": self.api_key_env}

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        v = _secret_or_text(v, "phone")
        if not SETTING_REF.match(v) and not re.fullmatch(r"\+?[0-9 ()-]{6,20}", v):
            raise ValueError(f"phone must be a phone number such as 07700 900123, not {v!r}")
        return v


class NotifyEmailTarget(_Target):
    """An email through GOV.UK Notify."""

    type: Literal["notify_email"]
    email: str
    template_id: str = Field(min_length=1)
    api_key_env: str = "SECBOT_NOTIFY_API_KEY"

    @model_validator(mode="before")
    @classmethod
    def _no_inline_key(cls, data: Any) -> Any:
        return _named_secret(data, "api_key", "NOTIFY_API_KEY")

    @field_validator("api_key_env")
    @classmethod
    def _key_name(cls, v: str) -> str:
        return _env_name(v, "api_key_env")

    def secret_names(self) -> dict[str, str]:
        return {"api_key_env": self.api_key_env}

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        v = _secret_or_text(v, "email")
        if not SETTING_REF.match(v) and "@" not in v:
            raise ValueError(f"email must be an email address, not {v!r}")
        return v


class EmailTarget(_Target):
    """An email through the organisation's own SMTP server (SECBOT_SMTP_*)."""

    type: Literal["email"]
    to: list[str] = Field(min_length=1)

    @field_validator("to", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return _as_list(v)

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for addr in v:
            if "@" not in addr or any(c in addr for c in "\r\n,;"):
                raise ValueError(f"to must hold email addresses, not {addr!r}")
        return v


class ChatTarget(_Target):
    """A message with an Acknowledge button in Slack, Teams or the web chat.

    Give ``channel`` (a channel or conversation id), ``user`` (a Slack or web chat
    user, messaged directly) or ``origin: true`` (wherever the incident was reported).
    """

    type: Literal["chat"]
    platform: Literal["slack", "teams", "web"] | None = None
    channel: str | None = None
    user: str | None = None
    workspace: str = ""
    thread: str | None = None
    origin: bool = False

    @model_validator(mode="after")
    def _one_place(self) -> ChatTarget:
        chosen = [n for n in ("channel", "user") if getattr(self, n)] + (
            ["origin"] if self.origin else []
        )
        if len(chosen) != 1:
            raise ValueError("a chat target needs exactly one of channel, user or origin: true")
        if not self.origin and self.platform is None:
            raise ValueError("a chat target needs platform: slack, teams or web")
        if self.user and self.platform == "teams":
            raise ValueError(
                "Teams users can't be messaged by id: give the personal chat's"
                " conversation id as channel instead"
            )
        return self


class WebhookTarget(_Target):
    """A JSON POST signed with HMAC-SHA256, for any other system. The signing secret is
    read from the variable named by ``secret_env``; a URL with a token in it is named
    by ``url_env`` instead of written as ``url``."""

    type: Literal["webhook"]
    url: str | None = None
    url_env: str | None = None
    secret_env: str

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secret(cls, data: Any) -> Any:
        return _named_secret(data, "secret", "SOC_WEBHOOK_SECRET")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.startswith(("https://", "http://")):
            raise ValueError(f"url must be an http(s) URL, not {v!r}")
        if url_has_secret(v):
            raise ValueError(
                "url: this URL carries a token or password, so it is a secret. Put it in "
                "an environment variable and name that here instead, for example "
                "url_env: SOC_WEBHOOK_URL"
            )
        return v

    @field_validator("url_env", "secret_env")
    @classmethod
    def _names(cls, v: str | None, info: Any) -> str | None:
        return None if v is None else _env_name(v, info.field_name)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookTarget:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("a webhook target needs exactly one of url or url_env")
        return self

    def secret_names(self) -> dict[str, str]:
        names = {"secret_env": self.secret_env}
        if self.url_env:
            names["url_env"] = self.url_env
        return names


Target = Annotated[
    PagerDutyTarget
    | NotifySmsTarget
    | NotifyEmailTarget
    | EmailTarget
    | ChatTarget
    | WebhookTarget,
    Field(discriminator="type"),
]
TARGET_TYPES = ("pagerduty", "notify_sms", "notify_email", "email", "chat", "webhook")


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: list[str] = Field(min_length=1)
    wait_minutes: float = Field(default=5, ge=0, le=24 * 60)

    @field_validator("targets", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return _as_list(v)


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
    account: list[str] | None = None
    platform: list[str] | None = None
    severity: list[int] | None = None
    min_severity: int | None = Field(default=None, ge=1, le=4)

    @field_validator("department", "account", "platform", "severity", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return _as_list(v)

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


class RoutingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    default_team: str
    targets: dict[str, Target] = Field(min_length=1)
    teams: dict[str, Team] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)

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
            names = getattr(target, "secret_names", dict)()
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


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice (PyYAML keeps the last one silently)."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


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
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise RoutingError(f"routing file {path} nests too deeply to be a routing file") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise RoutingError(f"routing file {path} is not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise RoutingError(
            f"routing file {path} must be a mapping with default_team, targets and teams"
        )
    try:
        return RoutingConfig.model_validate(data)
    except ValidationError as e:
        raise RoutingError(describe(e, path)) from None
