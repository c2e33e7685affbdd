"""Settings, read once from the environment and an optional ``.env`` file.

Start-up problems are reported as one :class:`ConfigError` line naming the
variable, because a person fixing a deployment needs the name, not a traceback.
"""

from __future__ import annotations

import io
import ipaddress
import math
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.core.access import LOOPBACK_NAMES, UsersFileError, WebUser, load_users, parse_allowed_hosts

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
    # requests from any other Slack workspace or Teams tenant are refused (bot.core.tenancy).
    slack_team_ids: frozenset[str] = frozenset()
    teams_tenant_ids: frozenset[str] = frozenset()
    timezone: str = "Europe/London"
    content_dir: str | None = None
    webchat: bool = False
    # SECBOT_MODE=development: the explicit mode for local conveniences (the web chat with
    # no sign-in, Teams without an app id). `make run` turns it on; the default is production.
    # It refuses platform credentials and a non-loopback HOST (see check_modes).
    dev_mode: bool = False
    # The web chat's people (SECBOT_WEBCHAT_USERS_FILE): each signs in with their own secret.
    webchat_users: tuple[WebUser, ...] = ()
    webchat_users_file: str | None = None
    # SECBOT_ALLOWED_HOSTS: the host names secbot answers to (empty: see host_allow_list).
    allowed_hosts: tuple[str, ...] = ()

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"

    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_type: str = "MultiTenant"
    microsoft_app_tenant_id: str | None = None

    extra: dict[str, str] = field(default_factory=dict)
    # Every variable from the environment and .env, for secrets a config file names by
    # variable (the routing file's ``routing_key_env: PD_ROUTING_KEY``). Never shown.
    environ: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

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

    def get(self, name: str, default: str | None = None) -> str | None:
        """Feature-specific settings (``SECBOT_*``) that the core does not model."""
        return self.extra.get(name, default)

    def env(self, name: str) -> str | None:
        """The value of the environment (or .env) variable ``name``, blank as None."""
        return _blank_to_none(self.environ.get(name))

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
        # float() takes "nan", "inf" and "1e999": nan passes every comparison below.
        if value is not None and not math.isfinite(value):
            value = None
        if value is None or value < low or (high is not None and value > high):
            kind = "a whole number" if whole else "a number"
            span = f"of at least {low:g}" if high is None else f"from {low:g} to {high:g}"
            raise ConfigError(f"{name} must be {kind} {span}, not {raw!r}")
        return value


def check_modes(settings: Settings) -> None:
    """Refuse combinations where a development convenience could face the world.

    Called by ``load_settings`` and again by ``create_app``, so settings built by hand
    are held to the same rules."""
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
    environ: dict[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``) over ``env_file``."""
    values: dict[str, str] = {}
    if env_file and os.path.lexists(env_file):
        values.update({k: v for k, v in _read_env_file(Path(env_file)).items() if v is not None})
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
    dev_mode = mode == "development"

    users_file = get("SECBOT_WEBCHAT_USERS_FILE")
    users: tuple[WebUser, ...] = ()
    if users_file and webchat != "off":
        try:
            users = load_users(users_file)
        except UsersFileError as e:
            raise ConfigError(f"SECBOT_WEBCHAT_USERS_FILE {e}") from None
    try:
        allowed_hosts = parse_allowed_hosts(get("SECBOT_ALLOWED_HOSTS") or "")
    except ValueError as e:
        raise ConfigError(
            f"SECBOT_ALLOWED_HOSTS must be host names separated by commas; {str(e)!r} is not one"
        ) from None

    extra = {k: v for k, v in values.items() if k.startswith("SECBOT_") and v is not None}
    settings = Settings(
        db_path=get("SECBOT_DB") or "./secbot.db",
        host=host,
        port=port,
        admins=admins,
        slack_team_ids=slack_team_ids,
        teams_tenant_ids=teams_tenant_ids,
        timezone=timezone,
        content_dir=content_dir,
        # Without a users file the web chat has no sign-in: anyone who reaches it could
        # use the bot (and page the duty team). So auto means: development, or users.
        webchat=webchat == "on" or (webchat == "auto" and (dev_mode or bool(users))),
        dev_mode=dev_mode,
        webchat_users=users,
        webchat_users_file=users_file,
        allowed_hosts=allowed_hosts,
        slack_bot_token=bot_token,
        slack_signing_secret=secret,
        slack_app_token=app_token,
        slack_api_url=api_url,
        microsoft_app_id=app_id,
        microsoft_app_password=password,
        microsoft_app_type=app_type,
        microsoft_app_tenant_id=tenant,
        extra=extra,
        environ={k: v for k, v in values.items() if v is not None},
    )
    check_modes(settings)
    return settings
