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
    log_format: Literal["text", "json"] = setting(
        "SECBOT_LOG_FORMAT", "text",
        "text: one readable line per event (make run); json: one JSON object per line, for a"
        " log collector.",
        group="Operations",
    )

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: Any) -> Any:
        return choice(value, ("text", "json"))
