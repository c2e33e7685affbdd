"""People's rights settings: the key that turns an erased person into a pseudonym."""

from __future__ import annotations

from bot.settings.base import SettingsGroup, setting


class PrivacySettings(SettingsGroup):
    pseudonym_secret: str | None = setting(
        "SECBOT_PSEUDONYM_SECRET",
        None,
        "The key behind the pseudonyms that replace an erased person in incident records"
        ' ("Person 3f2a9c"): keep it out of the database and its backups, so neither can'
        " turn a pseudonym back into a person. Unset: a random key kept in the database.",
        group="Operations",
        secret=True,
    )
