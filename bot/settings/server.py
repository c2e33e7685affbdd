"""Server settings: where secbot listens, its mode, database, time zone and admins."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.core.access import LOOPBACK_NAMES, parse_allowed_hosts
from bot.settings.base import SettingsGroup, choice, comma_list, setting
from bot.storage.engine import hide_password

ORGANISATION_LIMIT = 120
# The drivers secbot uses for each database (URLs naming another are refused at start).
POSTGRES_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres")


def database_url(value: str) -> str:
    """A PostgreSQL URL for asyncpg, or a ValueError that names what is wrong (never the
    password). ``postgresql://`` and ``postgres://`` (what hosting providers print) mean
    asyncpg too."""
    try:
        url = make_url(value.strip())
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ValueError(
            "must be a URL like postgresql+asyncpg://user:password@host:5432/secbot"
        ) from None
    if url.drivername not in POSTGRES_SCHEMES:
        raise ValueError(
            f"must be a PostgreSQL URL (postgresql+asyncpg://...), not {url.drivername}://;"
            " for SQLite set SECBOT_DB to the file instead"
        )
    if not url.host or not url.database:
        raise ValueError("must name a host and a database: postgresql+asyncpg://host/secbot")
    return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


class ServerSettings(SettingsGroup):
    host: str = setting(
        "HOST",
        "127.0.0.1",
        "Address to listen on (development mode allows only 127.0.0.1, ::1 or localhost).",
        group="Server",
    )
    port: int = setting(
        "PORT",
        3978,
        "The TCP port secbot listens on (0: any free port).",
        group="Server",
        ge=0,
        le=65535,
    )
    mode: Literal["production", "development"] = setting(
        "SECBOT_MODE",
        "production",
        "development turns on local conveniences (web chat without sign-in, Teams Emulator);"
        " it refuses platform credentials and a non-loopback HOST.",
        group="Server",
    )
    allowed_hosts: tuple[str, ...] = setting(
        "SECBOT_ALLOWED_HOSTS",
        (),
        "Comma-separated host names secbot answers to (any port is ignored); any other Host"
        " gets 421. Needed with the web chat in production; development mode allows"
        " localhost, 127.0.0.1 and [::1].",
        group="Server",
    )
    db_path: str = setting(
        "SECBOT_DB",
        "./secbot.db",
        "The SQLite database file (WAL mode), used unless SECBOT_DATABASE_URL is set.",
        group="Server",
    )
    database_url: str | None = setting(
        "SECBOT_DATABASE_URL",
        None,
        "A PostgreSQL database instead of the SQLite file, as"
        " postgresql+asyncpg://user:password@host:5432/name (postgresql:// and postgres://"
        " mean the same). Several secbot instances can share one.",
        group="Server",
        secret=True,
    )
    timezone: str = setting(
        "SECBOT_TIMEZONE",
        "Europe/London",
        "Time zone for schedules, working days and dates shown to people.",
        group="Server",
    )
    admins: frozenset[str] = setting(
        "SECBOT_ADMINS",
        frozenset(),
        "Comma-separated user ids allowed to run admin commands: a platform's own id"
        " (U0123ABCD, an Azure AD object id) or one tied to a platform (slack:U0123ABCD,"
        " web:me).",
        group="Server",
    )
    content_dir: str | None = setting(
        "SECBOT_CONTENT_DIR",
        None,
        "A folder of your organisation's own content packs (quiz and tips YAML).",
        group="Server",
    )
    organisation: str = setting(
        "SECBOT_ORGANISATION",
        "",
        "The organisation that runs this secbot, as its privacy and terms pages (/privacy,"
        " /terms) name it; the Teams app listing links to those pages.",
        group="Server",
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _mode(cls, value: Any) -> Any:
        return choice(value, ("development", "production"))

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        return database_url(value)

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
        admins = comma_list(value)
        for admin in admins:
            if admin == "*":
                raise ValueError(
                    "can't be '*': list the user ids of the people who may run "
                    "admin commands, separated by commas"
                )
            if any(c.isspace() or c in ";'\"" for c in admin):
                raise ValueError(f"must be user ids separated by commas; {admin!r} is not one")
        return frozenset(admins)

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

    @field_validator("organisation")
    @classmethod
    def _organisation(cls, value: str) -> str:
        shown = " ".join(value.split())
        if len(shown) > ORGANISATION_LIMIT:
            raise ValueError(f"must be a name of at most {ORGANISATION_LIMIT} characters")
        if any(not c.isprintable() for c in shown):
            raise ValueError("must be a plain name, with no control characters")
        return shown

    @field_validator("content_dir")
    @classmethod
    def _folder(cls, value: str | None) -> str | None:
        if value and not Path(value).is_dir():
            raise ValueError(f"{value!r} is not a folder")
        return value

    @property
    def dev_mode(self) -> bool:
        """SECBOT_MODE=development: the explicit mode for local conveniences. `make run`
        turns it on; the default is production."""
        return self.mode == "development"

    @property
    def host_allow_list(self) -> tuple[str, ...]:
        """The Host names every request must carry; empty means no check (production with
        no web chat and SECBOT_ALLOWED_HOSTS unset)."""
        if self.allowed_hosts:
            return self.allowed_hosts
        return LOOPBACK_NAMES if self.dev_mode else ()

    @property
    def database(self) -> str:
        """The SQLAlchemy URL of the database to use: SECBOT_DATABASE_URL, or else the
        SQLite file SECBOT_DB through aiosqlite."""
        return self.database_url or f"sqlite+aiosqlite:///{self.db_path}"

    @property
    def database_shown(self) -> str:
        """Which database, for a message: the URL without its password, or the file."""
        if self.database_url:
            return f"SECBOT_DATABASE_URL {hide_password(self.database_url)!r}"
        return f"SECBOT_DB {self.db_path!r}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
