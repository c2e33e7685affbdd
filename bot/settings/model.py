"""The settings model: every variable secbot reads, one group per area, combined into
:class:`Settings`, and how it is built (:func:`load_settings`).

Every variable is declared with its type, default, range and a one-line description;
``docs/configuration.md`` is generated from them (``python -m bot.settings --markdown``).
Start-up problems are reported as one :class:`ConfigError` line naming the variable,
because a person fixing a deployment needs the name, not a traceback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import model_validator

from bot.settings.base import env_name
from bot.settings.environment import EnvironmentSettings, read_env_file
from bot.settings.incidents import IncidentSettings, PagingSettings
from bot.settings.operations import OperationsSettings
from bot.settings.people import PeopleSettings
from bot.settings.privacy import PrivacySettings
from bot.settings.quiz_tips import QuizTipsSettings
from bot.settings.retention import RetentionSettings
from bot.settings.rules import check_modes, check_pairs
from bot.settings.server import ServerSettings
from bot.settings.slack import SlackSettings
from bot.settings.teams import TeamsSettings
from bot.settings.webchat import WebChatSettings

log = logging.getLogger("bot.settings")  # the name people filter on


# pydantic orders fields from the last base to the first, so the groups are listed in the
# reverse of the order docs/configuration.md shows them (Server first).
class Settings(
    EnvironmentSettings,
    RetentionSettings,
    OperationsSettings,
    PrivacySettings,
    PeopleSettings,
    PagingSettings,
    IncidentSettings,
    QuizTipsSettings,
    WebChatSettings,
    TeamsSettings,
    SlackSettings,
    ServerSettings,
):
    """Every setting secbot reads. Build it with :func:`load_settings` (environment over
    ``.env``); built by hand (tests) it takes field names or variable names."""

    @model_validator(mode="after")
    def _together(self) -> Settings:
        check_pairs(self)
        self.read_webchat_users()
        check_modes(self)
        return self


def variable_names() -> list[str]:
    """Every variable name the settings model reads, in declaration order."""
    return [env_name(f) for f in Settings.model_fields.values()]


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``) over ``env_file``."""
    values: dict[str, str] = {}
    if env_file and os.path.lexists(env_file):
        values.update({k: v for k, v in read_env_file(Path(env_file)).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    names = set(variable_names())
    given: dict[str, Any] = {k: v.strip() for k, v in values.items() if k in names and v.strip()}
    settings = Settings(**given)
    settings._environ = values
    return settings


def warn_unknown(settings: Settings) -> None:
    """Log one warning per ``SECBOT_*`` name that is not a setting (a misspelt setting is
    otherwise silently ignored). Called once features have read their config files."""
    for name, near in settings.unknown_names():
        hint = f"; did you mean {near}?" if near else ""
        log.warning("%s is not a setting secbot knows%s", name, hint)
