"""Slack settings: tokens, the API address, allowed workspaces and the kept-delivery inbox."""

from __future__ import annotations

import re
from typing import Any

from pydantic import field_validator

from bot.settings.base import SettingsGroup, http_url, id_list, setting

_SLACK_TEAM = re.compile(r"^[TE][A-Z0-9]{2,30}$")


class SlackSettings(SettingsGroup):
    slack_bot_token: str | None = setting(
        "SLACK_BOT_TOKEN", None, "The Slack bot token (xoxb-...); Slack is on when set.",
        group="Slack", secret=True,
    )
    slack_signing_secret: str | None = setting(
        "SLACK_SIGNING_SECRET", None,
        "Verifies that requests come from Slack; needed with SLACK_BOT_TOKEN.",
        group="Slack", secret=True,
    )
    slack_app_token: str | None = setting(
        "SLACK_APP_TOKEN", None,
        "An app-level token (xapp-...) to connect by Socket Mode instead of HTTP.",
        group="Slack", secret=True,
    )
    slack_api_url: str = setting(
        "SLACK_API_URL", "https://slack.com/api/",
        "Base URL of the Slack Web API (tests point it at a fake).",
        group="Slack",
    )
    slack_team_ids: frozenset[str] = setting(
        "SECBOT_SLACK_TEAM_IDS", frozenset(),
        "Comma-separated Slack workspace ids (T0123ABCD) or Enterprise Grid org ids"
        " (E0123ABCD); when set, requests from any other workspace are refused and logged.",
        group="Slack",
    )
    slack_handlers: int = setting(
        "SECBOT_SLACK_HANDLERS", 500,
        "How many kept Slack deliveries are handled at once; the rest wait in the database.",
        group="Slack", ge=1, le=100_000,
    )
    slack_defer_seconds: float = setting(
        "SECBOT_SLACK_DEFER_SECONDS", 10.0,
        "Under a burst, acknowledging Slack comes first for at most this many seconds of"
        " queued work; then handling gets an even share (0 turns the priority off).",
        group="Slack", ge=0, le=3600,
    )
    slack_dialog_answer_seconds: float = setting(
        "SECBOT_SLACK_DIALOG_ANSWER_SECONDS", 2.0,
        "How long a submitted Slack modal's request waits for corrections to show under its"
        " fields; later ones come as a private message with the form again (0 never waits)."
        " Slack waits 3 seconds: above about 2.5 a late correction shows as an error.",
        group="Slack", ge=0, le=30,
    )
    dead_letter_attempts: int = setting(
        "SECBOT_DEAD_LETTER_ATTEMPTS", 5,
        "A failing Slack delivery is tried at most this many times (each start that replays"
        " it counts), then set aside as a dead letter.",
        group="Slack", ge=1, le=100,
    )
    dead_letter_hours: float = setting(
        "SECBOT_DEAD_LETTER_HOURS", 24.0,
        "A failed Slack delivery older than this many hours is set aside as a dead letter.",
        group="Slack", ge=0.01, le=24 * 365,
    )
    inbox_retention_days: float = setting(
        "SECBOT_INBOX_RETENTION_DAYS", 7,
        "Kept Slack request bodies and dead letters are deleted after this many days.",
        group="Slack", ge=0.001, le=3650,
    )

    @field_validator("slack_team_ids", mode="before")
    @classmethod
    def _slack_teams(cls, value: Any) -> Any:
        example = "T0123ABCD or an Enterprise Grid id E0123ABCD"
        return id_list(value, _SLACK_TEAM.match, example)

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value and not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        value = http_url(value)
        return value if value.endswith("/") else value + "/"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def socket_mode_enabled(self) -> bool:
        return bool(self.slack_enabled and self.slack_app_token)
