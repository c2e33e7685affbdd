"""Microsoft Teams settings: the Azure Bot's app, allowed tenants and the token keys."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import field_validator

from bot.settings.base import http_url, id_list, is_guid, setting
from bot.settings.server import ServerSettings

APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")


class TeamsSettings(ServerSettings):
    """Built on the server settings: whether Teams is open depends on the mode."""

    microsoft_app_id: str | None = setting(
        "MICROSOFT_APP_ID", None,
        "The Azure Bot's app id; with it, every Teams request must carry a valid token.",
        group="Teams",
    )
    microsoft_app_password: str | None = setting(
        "MICROSOFT_APP_PASSWORD", None,
        "The app's client secret; needed with MICROSOFT_APP_ID (except UserAssignedMSI).",
        group="Teams", secret=True,
    )
    microsoft_app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = setting(
        "MICROSOFT_APP_TYPE", "MultiTenant", "The Azure bot's app type.", group="Teams"
    )
    microsoft_app_tenant_id: str | None = setting(
        "MICROSOFT_APP_TENANT_ID", None, "The app's tenant id; needed for SingleTenant.",
        group="Teams",
    )
    teams_tenant_ids: frozenset[str] = setting(
        "SECBOT_TEAMS_TENANT_IDS", frozenset(),
        "Comma-separated Microsoft Entra tenant ids; when set, requests from any other tenant"
        " are refused and logged.",
        group="Teams",
    )
    botframework_openid_url: str = setting(
        "SECBOT_BOTFRAMEWORK_OPENID_URL",
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        "Where the Bot Framework's token signing keys are found (tests point it at a fake).",
        group="Teams",
    )
    botframework_keys_timeout: float = setting(
        "SECBOT_BOTFRAMEWORK_KEYS_TIMEOUT", 5.0,
        "Seconds to wait for the Bot Framework's signing keys before a Teams request gets 503.",
        group="Teams", ge=0.1, le=60,
    )

    @field_validator("teams_tenant_ids", mode="before")
    @classmethod
    def _tenants(cls, value: Any) -> Any:
        example = "72f988bf-86f1-41af-91ab-2d7cd011db47 (a Microsoft Entra tenant id)"
        ids = id_list(value, is_guid, example)
        return frozenset(t.lower() for t in ids)

    @field_validator("microsoft_app_type", mode="before")
    @classmethod
    def _app_type(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        matched = [t for t in APP_TYPES if t.lower() == value.lower()]
        if not matched:
            raise ValueError(f"must be one of {', '.join(APP_TYPES)}, not {value!r}")
        return matched[0]

    @field_validator("botframework_openid_url")
    @classmethod
    def _openid_url(cls, value: str) -> str:
        return http_url(value)

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
