"""docs/configuration.md, generated from the settings model
(``python -m bot.settings --markdown > docs/configuration.md``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from annotated_types import Ge, Le

from bot.settings.base import bounds
from bot.settings.model import Settings
from bot.settings.retention import LONGEST, SHORTEST, duration_text


def markdown() -> str:
    """docs/configuration.md: every setting, grouped, from the model."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from bot/settings/ by `python -m bot.settings --markdown`;"
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
        low, high = bounds(field)
        kind = _kind(field.annotation)
        if kind in ("whole number", "number") and any(
            isinstance(m, (Ge, Le)) for m in field.metadata
        ):
            limits = f"{low:g} to {high:g}" if high is not None else f"at least {low:g}"
        elif kind == "duration":
            limits = f"{duration_text(SHORTEST)} to {duration_text(LONGEST)}"
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
    if annotation is timedelta:
        return "duration"
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
    if isinstance(value, timedelta):
        return f"`{duration_text(value)}`"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"

