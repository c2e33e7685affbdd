"""The environment behind the settings: reading ``.env``, any variable by name (for secrets
a config file names), and ``SECBOT_*`` names that are not settings, with a did-you-mean."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic import PrivateAttr
from rapidfuzz import fuzz, process

from bot.settings.base import PREFIX, ConfigError, SettingsGroup, env_name


class EnvironmentSettings(SettingsGroup):
    """Every variable from the environment and .env, kept next to the settings built from
    them, and the names features have claimed."""

    _environ: dict[str, str] = PrivateAttr(default_factory=dict)
    _claimed: set[str] = PrivateAttr(default_factory=set)

    @property
    def environ(self) -> Mapping[str, str]:
        """Every variable from the environment and .env, for secrets a config file names
        by variable (the routing file's ``routing_key_env: PD_ROUTING_KEY``)."""
        return self._environ

    def env(self, name: str) -> str | None:
        """The value of the environment (or .env) variable ``name``, blank as None.

        A ``SECBOT_*`` name read this way is one secbot knows (no start-up warning)."""
        self._claimed.add(name)
        return blank_to_none(self._environ.get(name))

    def claim(self, *names: str) -> None:
        """Names a config file refers to (``${SECBOT_DUTY_PHONE}``): known, not misspelt."""
        self._claimed.update(names)

    def unknown_names(self) -> list[tuple[str, str | None]]:
        """``SECBOT_*`` variables that are set but not a setting, each with the nearest
        setting's name (or None)."""
        names = [env_name(f) for f in type(self).model_fields.values()]
        known = [n for n in names if n.startswith(PREFIX)]
        suffixes = {n[len(PREFIX) :]: n for n in known}
        unknown = []
        for name in sorted(self._environ):
            if not name.startswith(PREFIX) or name in known or name in self._claimed:
                continue
            best = process.extractOne(
                name[len(PREFIX) :], list(suffixes), scorer=fuzz.ratio, score_cutoff=75
            )
            unknown.append((name, suffixes[best[0]] if best else None))
        return unknown


def blank_to_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def read_env_file(path: Path) -> dict[str, str | None]:
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
