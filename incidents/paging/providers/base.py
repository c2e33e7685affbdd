"""What every paging provider shares: the request, the result, the base class and
the context (settings, chat transports, the clock, one HTTP session).

Each provider's ``send(page)`` returns a :class:`ProviderResult` and never raises:
``ok`` (delivered, don't resend), or not ok with ``retryable`` saying whether trying
again later can help (rate limits, 5xx, network) or not (bad request, bad key). The
outbox does the retrying and the falling back; providers only say what happened.
Errors are described without secrets or message text, since they reach the timeline.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from incidents.paging import wording
from incidents.paging.model import IncidentInfo
from incidents.paging.targets import SETTING_REF

if TYPE_CHECKING:
    from bot.core.clock import Clock
    from bot.settings import Settings


HTTP_TIMEOUT = 15.0
DEFAULT_ACK_HINT = "Acknowledge it in secbot to stop further paging."


@dataclass(frozen=True)
class PageRequest:
    """One outbox row, ready to send."""

    key: str  # unique per outbox row: incident/step/round/target/action
    action: str  # trigger | acknowledge | resolve
    incident: IncidentInfo
    target_id: str
    target: Any  # one of the routing.*Target models
    step: int
    round: int
    attempt: int
    now: datetime
    ack_hint: str = DEFAULT_ACK_HINT
    ref: dict | None = None  # what the provider returned for the trigger (chat message)
    acknowledged_by: str | None = None  # an actor key, for machines (webhooks)
    acknowledged_by_name: str | None = None  # the person's name, for people


@dataclass(frozen=True)
class ProviderResult:
    ok: bool
    retryable: bool = False
    detail: str = ""
    ref: dict | None = None  # kept with the page, e.g. the chat message to update later
    retry_after: float | None = None  # seconds, when the provider said so


class Provider(ABC):
    """One way of reaching people. ``send`` never raises: it says what happened."""

    kind: str
    label: str
    actions: frozenset[str] = frozenset({"trigger"})  # which of trigger/acknowledge/resolve
    per_page_followups = False  # acknowledge each page (chat) or once per target (PagerDuty)

    def __init__(self, ctx: ProviderContext):
        self.ctx = ctx

    @abstractmethod
    async def send(self, page: PageRequest) -> ProviderResult:
        """Deliver ``page`` once and say what happened; never raise."""


class MissingSetting(Exception):
    pass


class ProviderContext:
    """What providers share: settings, chat transports, the clock and one HTTP session."""

    def __init__(self, settings: Settings, transports: dict[str, Any], clock: Clock):
        self.settings = settings
        self.transports = transports
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None

    def secret(self, name: str) -> str:
        """The value of the environment variable ``name`` a target names for a secret."""
        value = self.settings.env(name)
        if not value:
            raise MissingSetting(f"the environment variable {name} is not set")
        return value.strip()

    def resolve(self, value: str) -> str:
        """``${SECBOT_X}`` → the setting's value; anything else as it is."""
        m = SETTING_REF.match(value)
        if not m:
            return value
        found = self.settings.env(m.group(1))
        if not found:
            raise MissingSetting(f"the setting {m.group(1)} is not set")
        return found

    def http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT),
                headers={"User-Agent": "secbot-paging"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def network_detail(e: BaseException) -> str:
    if isinstance(e, TimeoutError):
        return "no answer in time"
    if isinstance(e, aiohttp.ClientConnectorError):
        return f"could not connect ({e.os_error.strerror or type(e.os_error).__name__})"
    return f"network error ({type(e).__name__})"


async def http_post(
    ctx: ProviderContext, url: str, data: bytes, headers: dict[str, str]
) -> tuple[int, str, float | None]:
    async with ctx.http().post(url, data=data, headers=headers) as r:
        text = await r.text()
        retry_after = None
        if "Retry-After" in r.headers:
            try:
                retry_after = float(r.headers["Retry-After"])
            except ValueError:
                retry_after = None
        return r.status, text, retry_after


def http_result(who: str, status: int, text: str, retry_after: float | None) -> ProviderResult:
    if 200 <= status < 300:
        return ProviderResult(True, detail=f"{who} accepted it ({status})")
    message = ""
    try:
        body = json.loads(text)
        if isinstance(body, dict):
            message = str(body.get("message") or body.get("status") or "")
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    detail = f"{who} answered HTTP {status}" + (
        f": {wording.one_line(message, 120)}" if message else ""
    )
    retryable = status in (408, 429) or status >= 500
    return ProviderResult(False, retryable, detail, retry_after=retry_after)
