"""Settings, read once from the environment and an optional ``.env`` file.

One group of settings per area (server, Slack, Teams, web chat, quiz and tips, incidents,
paging), combined into :class:`Settings` in :mod:`bot.settings.model`; the rules across
groups in :mod:`bot.settings.rules`; ``.env`` and misspelt names in
:mod:`bot.settings.environment`; ``python -m bot.settings --markdown`` writes
docs/configuration.md (:mod:`bot.settings.docs`)."""

from bot.settings.base import ConfigError
from bot.settings.docs import markdown
from bot.settings.model import Settings, load_settings, variable_names, warn_unknown
from bot.settings.rules import check_modes, is_loopback

__all__ = [
    "ConfigError",
    "Settings",
    "check_modes",
    "is_loopback",
    "load_settings",
    "markdown",
    "variable_names",
    "warn_unknown",
]
