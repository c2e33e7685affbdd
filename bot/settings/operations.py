"""Operations settings: how secbot is watched (metrics) and what its logs look like."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import field_validator

from bot.settings.base import SettingsGroup, choice, setting


class OperationsSettings(SettingsGroup):
    metrics_port: int | None = setting(
        "SECBOT_METRICS_PORT", None,
        "Serve GET /metrics (Prometheus) on this port of HOST only, not on PORT (unset:"
        " /metrics is on PORT with everything else).",
        group="Operations", ge=1, le=65535,
    )
    metrics_token: str | None = setting(
        "SECBOT_METRICS_TOKEN", None,
        "A bearer token Prometheus must send to read GET /metrics (Authorization: Bearer"
        " <token>), on PORT or SECBOT_METRICS_PORT; at least 16 characters. Unset: anyone"
        " who can reach /metrics reads it.",
        group="Operations", secret=True,
    )
    log_format: Literal["text", "json"] = setting(
        "SECBOT_LOG_FORMAT", "text",
        "text: one readable line per event (make run); json: one JSON object per line, for a"
        " log collector.",
        group="Operations",
    )

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _metrics_token(cls, value: Any) -> Any:
        # Prometheus sends it in a header: printable ASCII with no spaces, and long enough
        # that it can't be guessed.
        if value is None or value == "":
            return None
        text = str(value)
        if len(text) < 16 or not (text.isascii() and text.isprintable()) or " " in text:
            raise ValueError("must be at least 16 printable ASCII characters with no spaces")
        return text

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: Any) -> Any:
        return choice(value, ("text", "json"))
