"""Settings, read once from the environment and an optional ``.env`` file.

Start-up problems are reported as one :class:`ConfigError` line naming the
variable, because a person fixing a deployment needs the name, not a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    db_path: str = "./secbot.db"
    host: str = "127.0.0.1"
    port: int = 3978
    admins: frozenset[str] = frozenset()
    # Optional allow-lists (SECBOT_SLACK_TEAM_IDS, SECBOT_TEAMS_TENANT_IDS): when set,
    # requests from any other Slack workspace or Teams tenant are refused (bot.tenancy).
    slack_team_ids: frozenset[str] = frozenset()
    teams_tenant_ids: frozenset[str] = frozenset()
    timezone: str = "Europe/London"
    content_dir: str | None = None
    webchat: bool = True
    # SECBOT_MODE=development: the explicit mode for local conveniences (the web chat with
    # no sign-in, Teams without an app id). `make run` turns it on; the default is production.
    dev_mode: bool = False

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"

    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_type: str = "MultiTenant"
    microsoft_app_tenant_id: str | None = None

    extra: dict[str, str] = field(default_factory=dict)

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
        Emulator, is only offered when listening on this machine."""
        return self.teams_authenticated or is_loopback(self.host)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Feature-specific settings (``SECBOT_*``) that the core does not model."""
        return self.extra.get(name, default)

    def number(
        self,
        name: str,
        default: float,
        low: float,
        high: float | None = None,
        *,
        whole: bool = True,
    ) -> float:
        """A numeric feature setting, or a :class:`ConfigError` naming it.

        Features read these in their ``setup``, so a bad value stops start-up with one
        line like every other setting.
        """
        raw = (self.get(name) or "").strip()
        if not raw:
            return default
        try:
            value = int(raw) if whole else float(raw)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            kind = "a whole number" if whole else "a number"
            span = f"of at least {low:g}" if high is None else f"from {low:g} to {high:g}"
            raise ConfigError(f"{name} must be {kind} {span}, not {raw!r}")
        return value


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


def _admins(text: str | None) -> list[str]:
    """Platform user ids (``U0123ABCD``, an Azure AD object id, ``slack:U0123ABCD``)."""
    admins = [a.strip() for a in (text or "").split(",") if a.strip()]
    for admin in admins:
        if admin == "*":
            raise ConfigError(
                "SECBOT_ADMINS can't be '*': list the user ids of the people who may run "
                "admin commands, separated by commas"
            )
        if any(c.isspace() or c in ";'\"" for c in admin):
            raise ConfigError(
                f"SECBOT_ADMINS must be user ids separated by commas; {admin!r} is not one"
            )
    return admins


_SLACK_TEAM = re.compile(r"^[TE][A-Z0-9]{2,30}$")


def _id_list(name: str, text: str | None, valid, example: str) -> frozenset[str]:
    """A comma-separated allow-list; a value that can't be an id stops start-up."""
    ids = [v.strip() for v in (text or "").split(",") if v.strip()]
    for value in ids:
        if not valid(value):
            raise ConfigError(
                f"{name} must be ids separated by commas, like {example}; {value[:60]!r} is not one"
            )
    return frozenset(ids)


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def load_settings(
    environ: dict[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``) over ``env_file``."""
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        return _blank_to_none(values.get(name))

    port_text = get("PORT") or "3978"
    try:
        port = int(port_text)
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise ConfigError(f"PORT must be a number from 0 to 65535, not {port_text!r}") from None

    timezone = get("SECBOT_TIMEZONE") or "Europe/London"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"SECBOT_TIMEZONE {timezone!r} is not a known time zone (try Europe/London)"
        ) from None

    bot_token, secret, app_token = (
        get("SLACK_BOT_TOKEN"),
        get("SLACK_SIGNING_SECRET"),
        get("SLACK_APP_TOKEN"),
    )
    if bot_token and not secret:
        raise ConfigError("SLACK_SIGNING_SECRET is missing: it is needed with SLACK_BOT_TOKEN")
    if secret and not bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is missing: it is needed with SLACK_SIGNING_SECRET")
    if app_token and not bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is missing: Socket Mode (SLACK_APP_TOKEN) needs it")
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
    api_url = get("SLACK_API_URL") or "https://slack.com/api/"
    if not api_url.startswith(("https://", "http://")):
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL, not {api_url!r}")
    if not api_url.endswith("/"):
        api_url += "/"

    app_type = get("MICROSOFT_APP_TYPE") or "MultiTenant"
    matched = [t for t in APP_TYPES if t.lower() == app_type.lower()]
    if not matched:
        raise ConfigError(
            f"MICROSOFT_APP_TYPE must be one of {', '.join(APP_TYPES)}, not {app_type!r}"
        )
    app_type = matched[0]
    app_id, password, tenant = (
        get("MICROSOFT_APP_ID"),
        get("MICROSOFT_APP_PASSWORD"),
        get("MICROSOFT_APP_TENANT_ID"),
    )
    if app_type == "SingleTenant" and app_id and not tenant:
        raise ConfigError("MICROSOFT_APP_TENANT_ID is missing: SingleTenant needs it")
    if app_id and app_type != "UserAssignedMSI" and not password:
        raise ConfigError("MICROSOFT_APP_PASSWORD is missing: it is needed with MICROSOFT_APP_ID")
    if password and not app_id:
        raise ConfigError("MICROSOFT_APP_ID is missing: it is needed with MICROSOFT_APP_PASSWORD")

    admins = frozenset(_admins(get("SECBOT_ADMINS")))
    slack_team_ids = _id_list(
        "SECBOT_SLACK_TEAM_IDS",
        get("SECBOT_SLACK_TEAM_IDS"),
        _SLACK_TEAM.match,
        "T0123ABCD or an Enterprise Grid id E0123ABCD",
    )
    teams_tenant_ids = frozenset(
        t.lower()
        for t in _id_list(
            "SECBOT_TEAMS_TENANT_IDS",
            get("SECBOT_TEAMS_TENANT_IDS"),
            _is_guid,
            "72f988bf-86f1-41af-91ab-2d7cd011db47 (a Microsoft Entra tenant id)",
        )
    )
    content_dir = get("SECBOT_CONTENT_DIR")
    if content_dir and not Path(content_dir).is_dir():
        raise ConfigError(f"SECBOT_CONTENT_DIR {content_dir!r} is not a folder")

    host = get("HOST") or "127.0.0.1"
    webchat = (get("SECBOT_WEBCHAT") or "auto").lower()
    if webchat not in ("auto", "on", "off"):
        raise ConfigError(f"SECBOT_WEBCHAT must be on, off or auto, not {webchat!r}")

    mode = (get("SECBOT_MODE") or "production").lower()
    if mode not in ("development", "production"):
        raise ConfigError(f"SECBOT_MODE must be development or production, not {mode!r}")

    extra = {k: v for k, v in values.items() if k.startswith("SECBOT_") and v is not None}
    return Settings(
        db_path=get("SECBOT_DB") or "./secbot.db",
        host=host,
        port=port,
        admins=admins,
        slack_team_ids=slack_team_ids,
        teams_tenant_ids=teams_tenant_ids,
        timezone=timezone,
        content_dir=content_dir,
        # The web chat has no sign-in: anyone who can reach it can use the bot (and page
        # the duty team). So by default it is on only when listening on this machine.
        webchat=webchat == "on" or (webchat == "auto" and is_loopback(host)),
        dev_mode=mode == "development",
        slack_bot_token=bot_token,
        slack_signing_secret=secret,
        slack_app_token=app_token,
        slack_api_url=api_url,
        microsoft_app_id=app_id,
        microsoft_app_password=password,
        microsoft_app_type=app_type,
        microsoft_app_tenant_id=tenant,
        extra=extra,
    )
