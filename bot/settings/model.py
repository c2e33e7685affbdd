"""Settings, read once from the environment and an optional ``.env`` file.

Every variable secbot reads is declared on :class:`Settings` with its type, default,
range and a one-line description; ``docs/configuration.md`` is generated from it
(``python -m bot.settings --markdown``). Start-up problems are reported as one
:class:`ConfigError` line naming the variable, because a person fixing a deployment
needs the name, not a traceback.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import math
import os
import re
import sys
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Ge, Le
from dotenv import dotenv_values
from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from rapidfuzz import fuzz, process

from bot.core.access import LOOPBACK_NAMES, UsersFileError, WebUser, load_users, parse_allowed_hosts

log = logging.getLogger(__name__)

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
PREFIX = "SECBOT_"


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


def _setting(
    name: str,
    default: Any,
    description: str,
    *,
    group: str,
    ge: float | None = None,
    le: float | None = None,
    secret: bool = False,
) -> Any:
    """A field read from the variable ``name`` (the docs table is built from these)."""
    return Field(
        default,
        validation_alias=name,
        description=description,
        ge=ge,
        le=le,
        repr=not secret,
        json_schema_extra={"env": name, "group": group, "secret": secret},
    )


class Settings(BaseSettings):
    """Every setting secbot reads. Build it with :func:`load_settings` (environment over
    ``.env``); built by hand (tests) it takes field names or variable names."""

    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    # --- Server -------------------------------------------------------------------
    host: str = _setting(
        "HOST", "127.0.0.1",
        "Address to listen on (development mode allows only 127.0.0.1, ::1 or localhost).",
        group="Server",
    )
    port: int = _setting(
        "PORT", 3978, "The TCP port secbot listens on (0: any free port).",
        group="Server", ge=0, le=65535,
    )
    mode: Literal["production", "development"] = _setting(
        "SECBOT_MODE", "production",
        "development turns on local conveniences (web chat without sign-in, Teams Emulator);"
        " it refuses platform credentials and a non-loopback HOST.",
        group="Server",
    )
    allowed_hosts: tuple[str, ...] = _setting(
        "SECBOT_ALLOWED_HOSTS", (),
        "Comma-separated host names secbot answers to (any port is ignored); any other Host"
        " gets 421. Needed with the web chat in production; development mode allows"
        " localhost, 127.0.0.1 and [::1].",
        group="Server",
    )
    db_path: str = _setting(
        "SECBOT_DB", "./secbot.db", "The SQLite database file (WAL mode).", group="Server"
    )
    timezone: str = _setting(
        "SECBOT_TIMEZONE", "Europe/London",
        "Time zone for schedules, working days and dates shown to people.",
        group="Server",
    )
    admins: frozenset[str] = _setting(
        "SECBOT_ADMINS", frozenset(),
        "Comma-separated user ids allowed to run admin commands: a platform's own id"
        " (U0123ABCD, an Azure AD object id) or one tied to a platform (slack:U0123ABCD,"
        " web:me).",
        group="Server",
    )
    content_dir: str | None = _setting(
        "SECBOT_CONTENT_DIR", None,
        "A folder of your organisation's own content packs (quiz and tips YAML).",
        group="Server",
    )

    # --- Slack --------------------------------------------------------------------
    slack_bot_token: str | None = _setting(
        "SLACK_BOT_TOKEN", None, "The Slack bot token (xoxb-...); Slack is on when set.",
        group="Slack", secret=True,
    )
    slack_signing_secret: str | None = _setting(
        "SLACK_SIGNING_SECRET", None,
        "Verifies that requests come from Slack; needed with SLACK_BOT_TOKEN.",
        group="Slack", secret=True,
    )
    slack_app_token: str | None = _setting(
        "SLACK_APP_TOKEN", None,
        "An app-level token (xapp-...) to connect by Socket Mode instead of HTTP.",
        group="Slack", secret=True,
    )
    slack_api_url: str = _setting(
        "SLACK_API_URL", "https://slack.com/api/",
        "Base URL of the Slack Web API (tests point it at a fake).",
        group="Slack",
    )
    slack_team_ids: frozenset[str] = _setting(
        "SECBOT_SLACK_TEAM_IDS", frozenset(),
        "Comma-separated Slack workspace ids (T0123ABCD) or Enterprise Grid org ids"
        " (E0123ABCD); when set, requests from any other workspace are refused and logged.",
        group="Slack",
    )
    slack_handlers: int = _setting(
        "SECBOT_SLACK_HANDLERS", 500,
        "How many kept Slack deliveries are handled at once; the rest wait in the database.",
        group="Slack", ge=1, le=100_000,
    )
    slack_defer_seconds: float = _setting(
        "SECBOT_SLACK_DEFER_SECONDS", 10.0,
        "Under a burst, acknowledging Slack comes first for at most this many seconds of"
        " queued work; then handling gets an even share (0 turns the priority off).",
        group="Slack", ge=0, le=3600,
    )
    dead_letter_attempts: int = _setting(
        "SECBOT_DEAD_LETTER_ATTEMPTS", 5,
        "A failing Slack delivery is tried at most this many times (each start that replays"
        " it counts), then set aside as a dead letter.",
        group="Slack", ge=1, le=100,
    )
    dead_letter_hours: float = _setting(
        "SECBOT_DEAD_LETTER_HOURS", 24.0,
        "A failed Slack delivery older than this many hours is set aside as a dead letter.",
        group="Slack", ge=0.01, le=24 * 365,
    )
    inbox_retention_days: float = _setting(
        "SECBOT_INBOX_RETENTION_DAYS", 7,
        "Kept Slack request bodies and dead letters are deleted after this many days.",
        group="Slack", ge=0.001, le=3650,
    )

    # --- Microsoft Teams ------------------------------------------------------------
    microsoft_app_id: str | None = _setting(
        "MICROSOFT_APP_ID", None,
        "The Azure Bot's app id; with it, every Teams request must carry a valid token.",
        group="Teams",
    )
    microsoft_app_password: str | None = _setting(
        "MICROSOFT_APP_PASSWORD", None,
        "The app's client secret; needed with MICROSOFT_APP_ID (except UserAssignedMSI).",
        group="Teams", secret=True,
    )
    microsoft_app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = _setting(
        "MICROSOFT_APP_TYPE", "MultiTenant", "The Azure bot's app type.", group="Teams"
    )
    microsoft_app_tenant_id: str | None = _setting(
        "MICROSOFT_APP_TENANT_ID", None, "The app's tenant id; needed for SingleTenant.",
        group="Teams",
    )
    teams_tenant_ids: frozenset[str] = _setting(
        "SECBOT_TEAMS_TENANT_IDS", frozenset(),
        "Comma-separated Microsoft Entra tenant ids; when set, requests from any other tenant"
        " are refused and logged.",
        group="Teams",
    )
    botframework_openid_url: str = _setting(
        "SECBOT_BOTFRAMEWORK_OPENID_URL",
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        "Where the Bot Framework's token signing keys are found (tests point it at a fake).",
        group="Teams",
    )
    botframework_keys_timeout: float = _setting(
        "SECBOT_BOTFRAMEWORK_KEYS_TIMEOUT", 5.0,
        "Seconds to wait for the Bot Framework's signing keys before a Teams request gets 503.",
        group="Teams", ge=0.1, le=60,
    )

    # --- Web chat -------------------------------------------------------------------
    webchat_mode: Literal["auto", "on", "off"] = _setting(
        "SECBOT_WEBCHAT", "auto",
        "The web chat at /: on, off, or auto (on in development mode, or with"
        " SECBOT_WEBCHAT_USERS_FILE); outside development mode on needs a users file.",
        group="Web chat",
    )
    webchat_users_file: str | None = _setting(
        "SECBOT_WEBCHAT_USERS_FILE", None,
        "The web chat's people, each with their own secret (README: The web chat in"
        " production).",
        group="Web chat",
    )
    webchat_retention_days: int = _setting(
        "SECBOT_WEBCHAT_RETENTION_DAYS", 30,
        "Web chat messages older than this many days are deleted (checked hourly).",
        group="Web chat", ge=1, le=3650,
    )

    # --- Quiz and tips ----------------------------------------------------------------
    exam_refresh_months: int = _setting(
        "SECBOT_EXAM_REFRESH_MONTHS", 12,
        "Months an exam pass lasts before a refresher is due.",
        group="Quiz and tips", ge=1, le=120,
    )
    tip_grace_minutes: int = _setting(
        "SECBOT_TIP_GRACE_MINUTES", 180,
        "After downtime, a missed tip is still sent if at most this many minutes late; older"
        " ones are skipped and logged.",
        group="Quiz and tips", ge=0, le=24 * 60,
    )
    tip_concurrency: int = _setting(
        "SECBOT_TIP_CONCURRENCY", 50, "How many channels are sent tips at once, per platform.",
        group="Quiz and tips", ge=1, le=10_000,
    )
    tip_test_interval: int = _setting(
        "SECBOT_TIP_TEST_INTERVAL", 0,
        "For trying it out only: every subscription also gets a tip every this many seconds,"
        " whatever the day and time (0: off).",
        group="Quiz and tips", ge=0, le=7 * 86400,
    )
    tip_drain_seconds: int = _setting(
        "SECBOT_TIP_DRAIN_SECONDS", 5,
        "On a graceful stop, seconds tips already being posted get to finish.",
        group="Quiz and tips", ge=0, le=3600,
    )

    # --- Incidents ------------------------------------------------------------------
    department: str | None = _setting(
        "SECBOT_DEPARTMENT", None,
        "The department used for routing when a report gives no dept=.",
        group="Incidents",
    )
    incident_channels: bool = _setting(
        "SECBOT_INCIDENT_CHANNELS", False,
        "Create a private Slack channel per incident (else a thread under the card).",
        group="Incidents",
    )
    incident_max_open_triage: int = _setting(
        "SECBOT_INCIDENT_MAX_OPEN_TRIAGE", 3,
        "Incidents one person may have waiting for triage at once.",
        group="Incidents", ge=1, le=100,
    )
    incident_max_per_user_hour: int = _setting(
        "SECBOT_INCIDENT_MAX_PER_USER_HOUR", 5, "Incidents one person may start in an hour.",
        group="Incidents", ge=1, le=1000,
    )
    incident_max_per_workspace_hour: int = _setting(
        "SECBOT_INCIDENT_MAX_PER_WORKSPACE_HOUR", 20,
        "Incidents one workspace or tenant may start in an hour.",
        group="Incidents", ge=1, le=10_000,
    )

    # --- Paging ---------------------------------------------------------------------
    routing: str | None = _setting(
        "SECBOT_ROUTING", None,
        "The paging routing file (teams, targets, rules); unset: the shipped example,"
        " which only warns about missing secrets.",
        group="Paging",
    )
    paging_max_attempts: int = _setting(
        "SECBOT_PAGING_MAX_ATTEMPTS", 4, "Tries of one page before it counts as failed.",
        group="Paging", ge=1, le=20,
    )
    paging_retry_seconds: float = _setting(
        "SECBOT_PAGING_RETRY_SECONDS", 10.0,
        "Seconds before a failed page is tried again (doubling each time).",
        group="Paging", ge=0.1, le=600,
    )
    pagerduty_url: str = _setting(
        "SECBOT_PAGERDUTY_URL", "https://events.pagerduty.com",
        "Base URL of PagerDuty's Events API (tests point it at a fake).",
        group="Paging",
    )
    notify_url: str = _setting(
        "SECBOT_NOTIFY_URL", "https://api.notifications.service.gov.uk",
        "Base URL of the GOV.UK Notify API (tests point it at a fake).",
        group="Paging",
    )
    notify_api_key: str | None = _setting(
        "SECBOT_NOTIFY_API_KEY", None,
        "The GOV.UK Notify API key for text and email pages (a target may name another"
        " variable with api_key_env).",
        group="Paging", secret=True,
    )
    smtp_host: str | None = _setting(
        "SECBOT_SMTP_HOST", None, "The SMTP server for email pages.", group="Paging"
    )
    smtp_port: int = _setting(
        "SECBOT_SMTP_PORT", 587, "The SMTP server's port.", group="Paging", ge=1, le=65535
    )
    smtp_from: str | None = _setting(
        "SECBOT_SMTP_FROM", None, "The sender address of email pages.", group="Paging"
    )
    smtp_starttls: bool | None = _setting(
        "SECBOT_SMTP_STARTTLS", None,
        "Use STARTTLS with the SMTP server (unset: when the server offers it; port 465 means"
        " TLS from the start).",
        group="Paging",
    )
    smtp_user: str | None = _setting(
        "SECBOT_SMTP_USER", None, "The SMTP user name, if the server needs one.", group="Paging"
    )
    smtp_password: str | None = _setting(
        "SECBOT_SMTP_PASSWORD", None, "The SMTP password, if the server needs one.",
        group="Paging", secret=True,
    )

    _environ: dict[str, str] = PrivateAttr(default_factory=dict)
    _claimed: set[str] = PrivateAttr(default_factory=set)
    _webchat_users: tuple[WebUser, ...] = PrivateAttr(default=())

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as e:
            raise ConfigError(_one_line(e)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings reads the environment and .env itself (an unreadable .env is one
        # line, not a skip) and passes every value in; a hand-built Settings reads nothing.
        return (init_settings,)

    # --- field checks (the message follows the variable's name) -----------------------

    @field_validator("*", mode="before")
    @classmethod
    def _numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """A text number in range, with one wording for every numeric setting; float()
        takes "nan", "inf" and "1e999", and nan passes every comparison."""
        field = cls.model_fields[info.field_name or ""]
        if field.annotation not in (int, float) or not isinstance(value, str):
            return value
        whole = field.annotation is int
        low, high = _bounds(field)
        number: float | None
        try:
            number = int(value.strip()) if whole else float(value.strip())
        except ValueError:
            number = None
        if number is None or not math.isfinite(number) or number < low or (
            high is not None and number > high
        ):
            kind = "a whole number" if whole else "a number"
            span = f"of at least {low:g}" if high is None else f"from {low:g} to {high:g}"
            raise ValueError(f"must be {kind} {span}, not {value!r}")
        return number

    @field_validator("mode", "webchat_mode", mode="before")
    @classmethod
    def _choice(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        choices = {"mode": ("development", "production"), "webchat_mode": ("on", "off", "auto")}
        options = choices[info.field_name or ""]
        if value.lower() not in options:
            listed = f"{', '.join(options[:-1])} or {options[-1]}"
            raise ValueError(f"must be {listed}, not {value.lower()!r}")
        return value.lower()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone (try Europe/London)") from None
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> Any:
        """Platform user ids (``U0123ABCD``, an Azure AD object id, ``slack:U0123ABCD``)."""
        if not isinstance(value, str):
            return value
        admins = _comma_list(value)
        for admin in admins:
            if admin == "*":
                raise ValueError(
                    "can't be '*': list the user ids of the people who may run "
                    "admin commands, separated by commas"
                )
            if any(c.isspace() or c in ";'\"" for c in admin):
                raise ValueError(f"must be user ids separated by commas; {admin!r} is not one")
        return frozenset(admins)

    @field_validator("slack_team_ids", mode="before")
    @classmethod
    def _slack_teams(cls, value: Any) -> Any:
        example = "T0123ABCD or an Enterprise Grid id E0123ABCD"
        return _id_list(value, _SLACK_TEAM.match, example)

    @field_validator("teams_tenant_ids", mode="before")
    @classmethod
    def _tenants(cls, value: Any) -> Any:
        example = "72f988bf-86f1-41af-91ab-2d7cd011db47 (a Microsoft Entra tenant id)"
        ids = _id_list(value, _is_guid, example)
        return frozenset(t.lower() for t in ids)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return parse_allowed_hosts(value)
        except ValueError as e:
            raise ValueError(
                f"must be host names separated by commas; {str(e)!r} is not one"
            ) from None

    @field_validator("content_dir")
    @classmethod
    def _folder(cls, value: str | None) -> str | None:
        if value and not Path(value).is_dir():
            raise ValueError(f"{value!r} is not a folder")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_api_url", "botframework_openid_url", "pagerduty_url", "notify_url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"must be an http(s) URL, not {value!r}")
        if info.field_name == "slack_api_url" and not value.endswith("/"):
            value += "/"
        return value

    @field_validator("microsoft_app_type", mode="before")
    @classmethod
    def _app_type(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        matched = [t for t in APP_TYPES if t.lower() == value.lower()]
        if not matched:
            raise ValueError(f"must be one of {', '.join(APP_TYPES)}, not {value!r}")
        return matched[0]

    # --- rules across settings ------------------------------------------------------

    @model_validator(mode="after")
    def _together(self) -> Settings:
        if self.slack_bot_token and not self.slack_signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET is missing: it is needed with SLACK_BOT_TOKEN")
        if self.slack_signing_secret and not self.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is missing: it is needed with SLACK_SIGNING_SECRET")
        if self.slack_app_token and not self.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is missing: Socket Mode (SLACK_APP_TOKEN) needs it")
        app_id, password = self.microsoft_app_id, self.microsoft_app_password
        single = self.microsoft_app_type == "SingleTenant"
        if single and app_id and not self.microsoft_app_tenant_id:
            raise ConfigError("MICROSOFT_APP_TENANT_ID is missing: SingleTenant needs it")
        if app_id and self.microsoft_app_type != "UserAssignedMSI" and not password:
            raise ConfigError(
                "MICROSOFT_APP_PASSWORD is missing: it is needed with MICROSOFT_APP_ID"
            )
        if password and not app_id:
            raise ConfigError(
                "MICROSOFT_APP_ID is missing: it is needed with MICROSOFT_APP_PASSWORD"
            )
        if self.webchat_users_file and self.webchat_mode != "off":
            try:
                self._webchat_users = tuple(load_users(self.webchat_users_file))
            except UsersFileError as e:
                raise ConfigError(f"SECBOT_WEBCHAT_USERS_FILE {e}") from None
        check_modes(self)
        return self

    # --- what the rest of secbot asks ----------------------------------------------------

    @property
    def dev_mode(self) -> bool:
        """SECBOT_MODE=development: the explicit mode for local conveniences. `make run`
        turns it on; the default is production."""
        return self.mode == "development"

    @property
    def webchat_users(self) -> tuple[WebUser, ...]:
        """The web chat's people (SECBOT_WEBCHAT_USERS_FILE), each with their own secret."""
        return self._webchat_users

    @property
    def webchat(self) -> bool:
        """Without a users file the web chat has no sign-in: anyone who reaches it could
        use the bot (and page the duty team). So auto means: development, or users."""
        if self.webchat_mode == "auto":
            return self.dev_mode or bool(self.webchat_users)
        return self.webchat_mode == "on"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def socket_mode_enabled(self) -> bool:
        return bool(self.slack_enabled and self.slack_app_token)

    @property
    def teams_authenticated(self) -> bool:
        return bool(self.microsoft_app_id)

    @property
    def teams_enabled(self) -> bool:
        """Without an app id anyone could post to /api/messages as any Teams user (and
        name the URL the bot replies to), so that open mode, for the Bot Framework
        Emulator, is only offered in development mode (and then only for loopback
        serviceUrls). Where the server listens grants nothing."""
        return self.teams_authenticated or self.dev_mode

    @property
    def webchat_authenticated(self) -> bool:
        """With a users file the web chat knows people by their secret, in either mode;
        without one it takes the user id from the request, which only development allows."""
        return bool(self.webchat_users)

    @property
    def host_allow_list(self) -> tuple[str, ...]:
        """The Host names every request must carry; empty means no check (production with
        no web chat and SECBOT_ALLOWED_HOSTS unset)."""
        if self.allowed_hosts:
            return self.allowed_hosts
        return LOOPBACK_NAMES if self.dev_mode else ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def environ(self) -> Mapping[str, str]:
        """Every variable from the environment and .env, for secrets a config file names
        by variable (the routing file's ``routing_key_env: PD_ROUTING_KEY``)."""
        return self._environ

    def env(self, name: str) -> str | None:
        """The value of the environment (or .env) variable ``name``, blank as None.

        A ``SECBOT_*`` name read this way is one secbot knows (no start-up warning)."""
        self._claimed.add(name)
        return _blank_to_none(self._environ.get(name))

    def claim(self, *names: str) -> None:
        """Names a config file refers to (``${SECBOT_DUTY_PHONE}``): known, not misspelt."""
        self._claimed.update(names)

    def unknown_names(self) -> list[tuple[str, str | None]]:
        """``SECBOT_*`` variables that are set but not a setting, each with the nearest
        setting's name (or None)."""
        known = [n for n in variable_names() if n.startswith(PREFIX)]
        suffixes = {n[len(PREFIX) :]: n for n in known}
        unknown = []
        for name in sorted(self._environ):
            if not name.startswith(PREFIX) or name in known or name in self._claimed:
                continue
            best = process.extractOne(
                name[len(PREFIX) :], list(suffixes), scorer=fuzz.ratio, score_cutoff=75
            )
            unknown.append((name, suffixes[best[0]] if best else None))
        return unknown


def warn_unknown(settings: Settings) -> None:
    """Log one warning per ``SECBOT_*`` name that is not a setting (a misspelt setting is
    otherwise silently ignored). Called once features have read their config files."""
    for name, near in settings.unknown_names():
        hint = f"; did you mean {near}?" if near else ""
        log.warning("%s is not a setting secbot knows%s", name, hint)


def variable_names() -> list[str]:
    """Every variable name the settings model reads, in declaration order."""
    return [_env_name(f) for f in Settings.model_fields.values()]


def _env_name(field: FieldInfo) -> str:
    return str(field.validation_alias)


def _bounds(field: FieldInfo) -> tuple[float, float | None]:
    low: float = 0
    high: float | None = None
    for item in field.metadata:
        if isinstance(item, Ge):
            low = float(item.ge)  # type: ignore[arg-type]
        if isinstance(item, Le):
            high = float(item.le)  # type: ignore[arg-type]
    return low, high


def _one_line(error: ValidationError) -> str:
    """The first problem, as ``NAME <what is wrong>``."""
    problem = error.errors()[0]
    field = problem["loc"][0] if problem["loc"] else ""
    info = Settings.model_fields.get(str(field))
    name = _env_name(info) if info is not None else str(field)
    if problem["type"] == "value_error":
        return f"{name} {problem['ctx']['error']}"
    if problem["type"] == "bool_parsing":
        return f"{name} must be true or false, not {problem['input']!r}"
    return f"{name} {problem['msg'][:1].lower()}{problem['msg'][1:]}, not {problem['input']!r}"


def check_modes(settings: Settings) -> None:
    """Refuse combinations where a development convenience could face the world.

    Run whenever settings are built, and again by ``create_app``."""
    if settings.dev_mode:
        slack = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", settings.slack_bot_token),
                ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
                ("SLACK_APP_TOKEN", settings.slack_app_token),
            )
            if value
        ]
        teams = [
            name
            for name, value in (
                ("MICROSOFT_APP_ID", settings.microsoft_app_id),
                ("MICROSOFT_APP_PASSWORD", settings.microsoft_app_password),
            )
            if value
        ]
        if slack or teams:
            raise ConfigError(
                f"SECBOT_MODE=development can't be used with {', '.join(slack + teams)}: "
                "development mode has sign-in-free doors, so unset the credentials or leave "
                "SECBOT_MODE unset (production)"
            )
        if not is_loopback(settings.host):
            raise ConfigError(
                f"SECBOT_MODE=development listens on this machine only: HOST must be "
                f"127.0.0.1, ::1 or localhost, not {settings.host!r}"
            )
    if settings.webchat and not settings.dev_mode:
        if not settings.webchat_authenticated:
            raise ConfigError(
                "SECBOT_WEBCHAT=on needs SECBOT_WEBCHAT_USERS_FILE outside development mode: "
                "the web chat must know each person by their own secret"
            )
        if not settings.allowed_hosts:
            raise ConfigError(
                "SECBOT_ALLOWED_HOSTS is missing: the web chat needs the host names it is "
                "served on, such as secbot.example.gov.uk"
            )


def _blank_to_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.1, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_SLACK_TEAM = re.compile(r"^[TE][A-Z0-9]{2,30}$")


def _comma_list(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _id_list(value: Any, valid: Callable[[str], object], example: str) -> Any:
    """A comma-separated allow-list; a value that can't be an id stops start-up."""
    if not isinstance(value, str):
        return value
    ids = _comma_list(value)
    for item in ids:
        if not valid(item):
            raise ValueError(
                f"must be ids separated by commas, like {example}; {item[:60]!r} is not one"
            )
    return frozenset(ids)


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def _read_env_file(path: Path) -> dict[str, str | None]:
    """The settings file, or a :class:`ConfigError`: one that is there but can't be read
    would otherwise be skipped silently (and secbot start with the wrong settings) or
    stop start-up with a traceback."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"the settings file {path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"the settings file {path} can't be read ({e.strerror})") from None
    return dotenv_values(stream=io.StringIO(text))


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``) over ``env_file``."""
    values: dict[str, str] = {}
    if env_file and os.path.lexists(env_file):
        values.update({k: v for k, v in _read_env_file(Path(env_file)).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    names = set(variable_names())
    given = {k: v.strip() for k, v in values.items() if k in names and v.strip()}
    settings = Settings(**given)
    settings._environ = values
    return settings


def markdown() -> str:
    """docs/configuration.md: every setting, grouped, from the model."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from bot/settings.py by `python -m bot.settings --markdown`;"
        " tests/test_settings.py fails when this file is stale. -->",
        "",
        "secbot reads these variables from the environment, or from a `.env` file in the",
        "folder it starts in (the environment wins). A wrong value stops start-up with one",
        "line naming the variable; a `SECBOT_*` name that is not listed here gives a warning",
        "with the nearest name. A routing file may name further variables for its secrets",
        "(`routing_key_env: PD_ROUTING_KEY`); those are read as they are.",
        "",
    ]
    groups: dict[str, list[str]] = {}
    for field in Settings.model_fields.values():
        extra = field.json_schema_extra
        assert isinstance(extra, dict)
        low, high = _bounds(field)
        kind = _kind(field.annotation)
        if kind in ("whole number", "number") and any(
            isinstance(m, (Ge, Le)) for m in field.metadata
        ):
            limits = f"{low:g} to {high:g}" if high is not None else f"at least {low:g}"
        else:
            limits = ""
        row = (
            f"| `{extra['env']}` | {kind} | {_default(field.default)} | {limits} | "
            f"{field.description}{' (secret)' if extra['secret'] else ''} |"
        )
        groups.setdefault(str(extra["group"]), []).append(row)
    for group, rows in groups.items():
        lines += [
            f"## {group}",
            "",
            "| Variable | Type | Default | Range | Description |",
            "| --- | --- | --- | --- | --- |",
            *rows,
            "",
        ]
    return "\n".join(lines)


def _kind(annotation: Any) -> str:
    text = str(annotation)
    if annotation is int:
        return "whole number"
    if annotation is float:
        return "number"
    if annotation is bool or text == "bool | None":
        return "true or false"
    if "Literal" in text:
        return " or ".join(re.findall(r"'([^']+)'", text))
    if "frozenset" in text or "tuple" in text:
        return "list, comma-separated"
    return "text"


def _default(value: Any) -> str:
    if value is None or value == () or value == frozenset():
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"

