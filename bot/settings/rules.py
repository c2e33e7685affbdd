"""Rules across settings: credentials that come in pairs, and the refusals that keep a
development convenience from facing the world."""

from __future__ import annotations

import ipaddress
from typing import Protocol

from bot.settings.base import ConfigError


class _Credentials(Protocol):
    @property
    def slack_bot_token(self) -> str | None: ...
    @property
    def slack_signing_secret(self) -> str | None: ...
    @property
    def slack_app_token(self) -> str | None: ...
    @property
    def microsoft_app_id(self) -> str | None: ...
    @property
    def microsoft_app_password(self) -> str | None: ...
    @property
    def microsoft_app_type(self) -> str: ...
    @property
    def microsoft_app_tenant_id(self) -> str | None: ...


class _Modes(_Credentials, Protocol):
    @property
    def host(self) -> str: ...
    @property
    def allowed_hosts(self) -> tuple[str, ...]: ...
    @property
    def dev_mode(self) -> bool: ...
    @property
    def webchat(self) -> bool: ...
    @property
    def webchat_authenticated(self) -> bool: ...


def check_pairs(settings: _Credentials) -> None:
    """Slack's token and signing secret, and a Teams app's id and password, come together;
    SingleTenant needs its tenant."""
    if settings.slack_bot_token and not settings.slack_signing_secret:
        raise ConfigError("SLACK_SIGNING_SECRET is missing: it is needed with SLACK_BOT_TOKEN")
    if settings.slack_signing_secret and not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is missing: it is needed with SLACK_SIGNING_SECRET")
    if settings.slack_app_token and not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is missing: Socket Mode (SLACK_APP_TOKEN) needs it")
    app_id, password = settings.microsoft_app_id, settings.microsoft_app_password
    single = settings.microsoft_app_type == "SingleTenant"
    if single and app_id and not settings.microsoft_app_tenant_id:
        raise ConfigError("MICROSOFT_APP_TENANT_ID is missing: SingleTenant needs it")
    if app_id and settings.microsoft_app_type != "UserAssignedMSI" and not password:
        raise ConfigError("MICROSOFT_APP_PASSWORD is missing: it is needed with MICROSOFT_APP_ID")
    if password and not app_id:
        raise ConfigError("MICROSOFT_APP_ID is missing: it is needed with MICROSOFT_APP_PASSWORD")


def check_modes(settings: _Modes) -> None:
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


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.1, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
