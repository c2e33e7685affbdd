"""Web chat settings: whether the chat at / is on, its people and how long it keeps messages."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import PrivateAttr, field_validator

from bot.core.access import UsersFileError, WebUser, load_users
from bot.settings.base import ConfigError, choice, setting
from bot.settings.server import ServerSettings


class WebChatSettings(ServerSettings):
    """Built on the server settings: whether the web chat is on depends on the mode."""

    webchat_mode: Literal["auto", "on", "off"] = setting(
        "SECBOT_WEBCHAT", "auto",
        "The web chat at /: on, off, or auto (on in development mode, or with"
        " SECBOT_WEBCHAT_USERS_FILE); outside development mode on needs a users file.",
        group="Web chat",
    )
    webchat_users_file: str | None = setting(
        "SECBOT_WEBCHAT_USERS_FILE", None,
        "The web chat's people, each with their own secret (README: The web chat in"
        " production).",
        group="Web chat",
    )
    webchat_retention_days: int = setting(
        "SECBOT_WEBCHAT_RETENTION_DAYS", 30,
        "Web chat messages older than this many days are deleted (by the daily prune).",
        group="Web chat", ge=1, le=3650,
    )

    _webchat_users: tuple[WebUser, ...] = PrivateAttr(default=())

    @field_validator("webchat_mode", mode="before")
    @classmethod
    def _webchat_mode(cls, value: Any) -> Any:
        return choice(value, ("on", "off", "auto"))

    def read_webchat_users(self) -> None:
        """Read SECBOT_WEBCHAT_USERS_FILE (unless the web chat is off)."""
        if self.webchat_users_file and self.webchat_mode != "off":
            try:
                self._webchat_users = tuple(load_users(self.webchat_users_file))
            except UsersFileError as e:
                raise ConfigError(f"SECBOT_WEBCHAT_USERS_FILE {e}") from None

    @property
    def webchat_users(self) -> tuple[WebUser, ...]:
        """The web chat's people (SECBOT_WEBCHAT_USERS_FILE), each with their own secret."""
        return self._webchat_users

    @property
    def webchat(self) -> bool:
        """Without a users file the web chat has no sign-in: anyone who reaches it could
        use the bot (and page the duty team). So auto means: development, or users."""
        if self.webchat_mode == "auto":
            return self.dev_mode or bool(self.webchat_users)
        return self.webchat_mode == "on"

    @property
    def webchat_authenticated(self) -> bool:
        """With a users file the web chat knows people by their secret, in either mode;
        without one it takes the user id from the request, which only development allows."""
        return bool(self.webchat_users)
