"""The targets of the routing file: every way of reaching someone, each named once.

Secrets are never written in the file: it names the environment variable that holds
each one (``routing_key_env: PD_ROUTING_KEY``, ``secret_env``, ``url_env`` for a URL
with a token in it, ``api_key_env``). A secret written in the file is refused with a
line saying which ``*_env`` field to use; the older ``${SECBOT_NAME}`` form is read as
naming that variable. Each target type has a provider in ``incidents.paging.providers``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
SETTING_REF = re.compile(r"^\$\{(SECBOT_[A-Z0-9_]+)\}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# URL parts that carry a credential: a query parameter with one of these words in its
# name, a user:password@ part, or a host whose URLs are themselves the secret.
_SECRET_WORDS = ("token", "key", "secret", "sig", "signature", "password", "auth", "code")
_SECRET_HOSTS = ("hooks.slack.com", ".webhook.office.com", ".logic.azure.com")
CHAT_PLATFORMS = ("slack", "teams", "web")


def as_list(value: Any) -> Any:
    return [value] if isinstance(value, str | int) and not isinstance(value, bool) else value


def _secret_or_text(value: str, what: str) -> str:
    value = value.strip()
    if value.startswith("${") and not SETTING_REF.match(value):
        raise ValueError(
            f"{what} must be the value itself or ${{SECBOT_NAME}} naming a setting, not {value!r}"
        )
    return value


class _Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    drill_safe: bool = False
    fallback: str | None = None
    description: str = ""


def _env_name(value: str, field: str) -> str:
    value = value.strip()
    if not ENV_NAME.match(value):
        raise ValueError(
            f"{field} must be the name of an environment variable (letters, digits and _),"
            f" not {value!r}"
        )
    return value


def _named_secret(data: Any, field: str, example: str) -> Any:
    """``field: ${NAME}`` → ``field_env: NAME``; ``field: <the secret itself>`` refused."""
    if not isinstance(data, dict) or field not in data:
        return data
    data = dict(data)
    value = data.pop(field)
    if f"{field}_env" in data:
        raise ValueError(f"give {field}_env only, not {field} as well")
    m = SETTING_REF.match(str(value).strip()) if isinstance(value, str) else None
    if m is None:
        raise ValueError(
            f"{field}: don't write secrets in the routing file. Put it in an environment "
            f"variable and name that here instead, for example {field}_env: {example}"
        )
    data[f"{field}_env"] = m.group(1)
    return data


def url_has_secret(url: str) -> bool:
    """True when a URL carries a credential: user:password@, a query parameter such as
    ``token=`` or ``sig=``, or a host (Slack, Teams or Power Automate webhooks) whose
    URLs are secrets in themselves."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.password or parts.username:
        return True
    if host in _SECRET_HOSTS or any(host.endswith(h) for h in _SECRET_HOSTS if h[0] == "."):
        return True
    return any(
        any(word in name.lower() for word in _SECRET_WORDS)
        for name, _ in parse_qsl(parts.query, keep_blank_values=True)
    )


class PagerDutyTarget(_Target):
    """A PagerDuty service, through its Events API v2 integration key, which is read from
    the environment variable named by ``routing_key_env``."""

    type: Literal["pagerduty"]
    routing_key_env: str
    base_url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_inline_key(cls, data: Any) -> Any:
        return _named_secret(data, "routing_key", "PD_ROUTING_KEY")

    @field_validator("routing_key_env")
    @classmethod
    def _key(cls, v: str) -> str:
        return _env_name(v, "routing_key_env")

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("https://", "http://")):
            raise ValueError(f"base_url must be an http(s) URL, not {v!r}")
        if v is not None and url_has_secret(v):
            raise ValueError("base_url must not carry a token or password")
        return v

    def secret_names(self) -> dict[str, str]:
        return {"routing_key_env": self.routing_key_env}


class _NotifyTarget(_Target):
    """What both GOV.UK Notify targets have: a template and the API key's variable."""

    template_id: str = Field(min_length=1)
    api_key_env: str = "SECBOT_NOTIFY_API_KEY"

    @model_validator(mode="before")
    @classmethod
    def _no_inline_key(cls, data: Any) -> Any:
        return _named_secret(data, "api_key", "NOTIFY_API_KEY")

    @field_validator("api_key_env")
    @classmethod
    def _key_name(cls, v: str) -> str:
        return _env_name(v, "api_key_env")

    def secret_names(self) -> dict[str, str]:
        return {"api_key_env": self.api_key_env}


class NotifySmsTarget(_NotifyTarget):
    """A text message through GOV.UK Notify."""

    type: Literal["notify_sms"]
    phone: str = Field(min_length=6)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        v = _secret_or_text(v, "phone")
        if not SETTING_REF.match(v) and not re.fullmatch(r"\+?[0-9 ()-]{6,20}", v):
            raise ValueError(f"phone must be a phone number such as 07700 900123, not {v!r}")
        return v


class NotifyEmailTarget(_NotifyTarget):
    """An email through GOV.UK Notify."""

    type: Literal["notify_email"]
    email: str

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        v = _secret_or_text(v, "email")
        if not SETTING_REF.match(v) and "@" not in v:
            raise ValueError(f"email must be an email address, not {v!r}")
        return v


class EmailTarget(_Target):
    """An email through the organisation's own SMTP server (SECBOT_SMTP_*)."""

    type: Literal["email"]
    to: list[str] = Field(min_length=1)

    @field_validator("to", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return as_list(v)

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        for addr in v:
            if "@" not in addr or any(c in addr for c in "\r\n,;"):
                raise ValueError(f"to must hold email addresses, not {addr!r}")
        return v


class ChatTarget(_Target):
    """A message with an Acknowledge button in Slack, Teams or the web chat.

    Give ``channel`` (a channel or conversation id), ``user`` (a Slack or web chat
    user, messaged directly) or ``origin: true`` (wherever the incident was reported).
    """

    type: Literal["chat"]
    platform: Literal["slack", "teams", "web"] | None = None
    channel: str | None = None
    user: str | None = None
    workspace: str = ""
    thread: str | None = None
    origin: bool = False

    @model_validator(mode="after")
    def _one_place(self) -> ChatTarget:
        chosen = [n for n in ("channel", "user") if getattr(self, n)] + (
            ["origin"] if self.origin else []
        )
        if len(chosen) != 1:
            raise ValueError("a chat target needs exactly one of channel, user or origin: true")
        if not self.origin and self.platform is None:
            raise ValueError("a chat target needs platform: slack, teams or web")
        if self.user and self.platform == "teams":
            raise ValueError(
                "Teams users can't be messaged by id: give the personal chat's"
                " conversation id as channel instead"
            )
        return self


class WebhookTarget(_Target):
    """A JSON POST signed with HMAC-SHA256, for any other system. The signing secret is
    read from the variable named by ``secret_env``; a URL with a token in it is named
    by ``url_env`` instead of written as ``url``."""

    type: Literal["webhook"]
    url: str | None = None
    url_env: str | None = None
    secret_env: str

    @model_validator(mode="before")
    @classmethod
    def _no_inline_secret(cls, data: Any) -> Any:
        return _named_secret(data, "secret", "SOC_WEBHOOK_SECRET")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not v.startswith(("https://", "http://")):
            raise ValueError(f"url must be an http(s) URL, not {v!r}")
        if url_has_secret(v):
            raise ValueError(
                "url: this URL carries a token or password, so it is a secret. Put it in "
                "an environment variable and name that here instead, for example "
                "url_env: SOC_WEBHOOK_URL"
            )
        return v

    @field_validator("url_env", "secret_env")
    @classmethod
    def _names(cls, v: str | None, info: Any) -> str | None:
        return None if v is None else _env_name(v, info.field_name)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookTarget:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("a webhook target needs exactly one of url or url_env")
        return self

    def secret_names(self) -> dict[str, str]:
        names = {"secret_env": self.secret_env}
        if self.url_env:
            names["url_env"] = self.url_env
        return names


Target = Annotated[
    PagerDutyTarget
    | NotifySmsTarget
    | NotifyEmailTarget
    | EmailTarget
    | ChatTarget
    | WebhookTarget,
    Field(discriminator="type"),
]
TARGET_TYPES = ("pagerduty", "notify_sms", "notify_email", "email", "chat", "webhook")
