"""The ways a page reaches a person, all behind one interface.

Each provider's ``send(page)`` returns a :class:`ProviderResult` and never raises:
``ok`` (delivered, don't resend), or not ok with ``retryable`` saying whether trying
again later can help (rate limits, 5xx, network) or not (bad request, bad key). The
outbox does the retrying and the falling back; providers only say what happened.
Errors are described without secrets or message text, since they reach the timeline.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
import aiosmtplib
from pydantic import TypeAdapter

from bot.core import DeliveryFailed
from bot.core.model import MessageRef, Place
from incidents.paging import wording
from incidents.paging.model import IncidentInfo, severity_label
from incidents.paging.routing import SETTING_REF, Target

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.clock import Clock

log = logging.getLogger(__name__)

PAGERDUTY_URL = "https://events.pagerduty.com"
NOTIFY_URL = "https://api.notifications.service.gov.uk"
HTTP_TIMEOUT = 15.0
DEFAULT_ACK_HINT = "Acknowledge it in secbot to stop further paging."

PD_SEVERITY = {1: "critical", 2: "error", 3: "warning", 4: "info"}
TARGET_ADAPTER: TypeAdapter[Any] = TypeAdapter(Target)


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
    acknowledged_by: str | None = None


@dataclass(frozen=True)
class ProviderResult:
    ok: bool
    retryable: bool = False
    detail: str = ""
    ref: dict | None = None  # kept with the page, e.g. the chat message to update later
    retry_after: float | None = None  # seconds, when the provider said so


class Provider(Protocol):
    kind: str
    label: str
    actions: frozenset[str]  # which of trigger/acknowledge/resolve it handles
    per_page_followups: bool  # acknowledge each page (chat) or once per target (PagerDuty)

    async def send(self, page: PageRequest) -> ProviderResult: ...


class MissingSetting(Exception):
    pass


class ProviderContext:
    """What providers share: settings, chat transports, the clock and one HTTP session."""

    def __init__(self, settings: Settings, transports: dict[str, Any], clock: Clock):
        self.settings = settings
        self.transports = transports
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None

    def setting(self, name: str, default: str | None = None) -> str | None:
        value = (self.settings.get(name) or "").strip()
        return value or default

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
        found = self.setting(m.group(1))
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


def _network_detail(e: BaseException) -> str:
    if isinstance(e, TimeoutError):
        return "no answer in time"
    if isinstance(e, aiohttp.ClientConnectorError):
        return f"could not connect ({e.os_error.strerror or type(e.os_error).__name__})"
    return f"network error ({type(e).__name__})"


async def _post(
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


def _http_result(who: str, status: int, text: str, retry_after: float | None) -> ProviderResult:
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


# --- PagerDuty --------------------------------------------------------------------------


def dedup_key(incident_id: str) -> str:
    """PagerDuty allows 255 characters; a longer id is hashed (still stable)."""
    if len(incident_id) <= 255:
        return incident_id
    return "secbot-" + hashlib.sha256(incident_id.encode()).hexdigest()


class PagerDutyProvider:
    kind = "pagerduty"
    label = "PagerDuty"
    actions = frozenset({"trigger", "acknowledge", "resolve"})
    per_page_followups = False

    def __init__(self, ctx: ProviderContext):
        self.ctx = ctx

    def event(self, page: PageRequest, routing_key: str) -> dict[str, Any]:
        info = page.incident.inert()
        body: dict[str, Any] = {
            "routing_key": routing_key,
            "event_action": page.action,
            "dedup_key": dedup_key(info.id),
        }
        if page.action == "trigger":
            body["payload"] = {
                "summary": wording.one_line(
                    wording.title(info) + ": " + wording.summary(info, 900),
                    wording.PAGERDUTY_SUMMARY_LIMIT,
                ),
                "source": wording.one_line(f"{info.platform}:{info.account}", 255),
                "severity": PD_SEVERITY.get(min(4, max(1, info.severity)), "critical"),
                "timestamp": page.now.isoformat(),
                "component": info.account,
                "group": wording.one_line(info.department or "unassigned", 255),
                "class": "social media account incident",
                "custom_details": {
                    "incident_id": info.id,
                    "summary": info.summary,
                    "severity": severity_label(info.severity),
                    "platform": info.platform,
                    "account": info.account,
                    "department": info.department,
                    "drill": info.drill,
                    "reported_by": info.reporter,
                    "escalation_step": page.step,
                    "escalation_round": page.round,
                },
            }
            body["client"] = "secbot"
        return body

    async def send(self, page: PageRequest) -> ProviderResult:
        t = page.target
        try:
            key = self.ctx.secret(t.routing_key_env)
        except MissingSetting as e:
            return ProviderResult(False, False, f"PagerDuty routing key: {e}")
        base = (t.base_url or self.ctx.setting("SECBOT_PAGERDUTY_URL", PAGERDUTY_URL)).rstrip("/")
        data = json.dumps(self.event(page, key)).encode()
        try:
            status, text, retry_after = await _post(
                self.ctx, f"{base}/v2/enqueue", data, {"Content-Type": "application/json"}
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            return ProviderResult(False, True, f"PagerDuty: {_network_detail(e)}")
        return _http_result("PagerDuty", status, text, retry_after)


# --- GOV.UK Notify ----------------------------------------------------------------------


def _notify_message(e: Any) -> str:
    msg = getattr(e, "message", "")
    if isinstance(msg, list):
        msg = "; ".join(str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in msg)
    return wording.one_line(str(msg), 160)


class NotifyProvider:
    """SMS or email through GOV.UK Notify. The client is synchronous: it runs in a thread."""

    actions = frozenset({"trigger"})
    per_page_followups = False

    def __init__(self, ctx: ProviderContext, kind: str):
        self.ctx = ctx
        self.kind = kind
        self.label = "GOV.UK Notify text message" if kind == "notify_sms" else "GOV.UK Notify email"

    async def send(self, page: PageRequest) -> ProviderResult:
        from notifications_python_client.errors import APIError, HTTPError, InvalidResponse
        from notifications_python_client.notifications import NotificationsAPIClient

        t = page.target
        try:
            api_key = self.ctx.secret(t.api_key_env)
        except MissingSetting as e:
            return ProviderResult(False, False, f"GOV.UK Notify API key: {e}")
        base = self.ctx.setting("SECBOT_NOTIFY_URL", NOTIFY_URL)
        try:
            recipient = self.ctx.resolve(t.phone if self.kind == "notify_sms" else t.email)
        except MissingSetting as e:
            return ProviderResult(False, False, f"GOV.UK Notify: {e}")
        sms = self.kind == "notify_sms"
        fields = wording.personalisation(
            page.incident.inert(), page.ack_hint, page.step, page.round, sms=sms
        )

        def call() -> Any:
            client = NotificationsAPIClient(api_key, base_url=base, timeout=HTTP_TIMEOUT)
            try:
                if self.kind == "notify_sms":
                    return client.send_sms_notification(
                        phone_number=recipient,
                        template_id=t.template_id,
                        personalisation=fields,
                        reference=page.key,
                    )
                return client.send_email_notification(
                    email_address=recipient,
                    template_id=t.template_id,
                    personalisation=fields,
                    reference=page.key,
                    sanitise_content_for=wording.NOTIFY_SANITISE,
                )
            finally:
                client.request_session.close()

        try:
            resp = await asyncio.to_thread(call)
        except InvalidResponse:
            # A 2xx whose body was not JSON: Notify took it; resending would duplicate it.
            return ProviderResult(True, detail="GOV.UK Notify accepted it (no JSON answer)")
        except HTTPError as e:
            status = e.status_code
            retryable = status == 429 or status >= 500
            what = "could not be reached" if e.response is None else f"answered HTTP {status}"
            return ProviderResult(
                False, retryable, f"GOV.UK Notify {what}: {_notify_message(e)}".rstrip(": ")
            )
        except APIError as e:
            return ProviderResult(False, True, f"GOV.UK Notify error: {_notify_message(e)}")
        except ValueError as e:  # e.g. an API key of the wrong shape
            return ProviderResult(False, False, f"GOV.UK Notify: {type(e).__name__}")
        ref = {"notification_id": resp.get("id")} if isinstance(resp, dict) else None
        return ProviderResult(True, detail="GOV.UK Notify accepted it", ref=ref)


# --- SMTP email -------------------------------------------------------------------------


def _bool_setting(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


class SmtpProvider:
    kind = "email"
    label = "email"
    actions = frozenset({"trigger"})
    per_page_followups = False

    def __init__(self, ctx: ProviderContext):
        self.ctx = ctx

    def message(self, page: PageRequest, sender: str) -> EmailMessage:
        """A plain-text email (no HTML part, so nothing typed can become markup); every
        fact is inert and on its own line, and the subject is one line of at most 200."""
        info = page.incident.inert()
        msg = EmailMessage()
        msg["Subject"] = wording.one_line(wording.title(info), wording.SUBJECT_LIMIT)
        msg["From"] = sender
        msg["To"] = ", ".join(page.target.to)
        msg["Date"] = format_datetime(page.now)
        digest = hashlib.sha256(page.key.encode()).hexdigest()[:32]
        msg["Message-ID"] = f"<{digest}@secbot.paging>"
        msg["X-Secbot-Incident"] = wording.one_line(info.id, 200)
        lines = [
            wording.page_text(info, page.ack_hint, page.step, page.round),
            "",
            f"Summary: {info.summary}",
            f"Severity: {severity_label(info.severity)}",
            f"Account: {info.account} on {info.platform}",
            f"Department: {info.department or 'not given'}",
            f"Reported by: {info.reporter}",
            f"Incident: {info.id}",
        ]
        msg.set_content("\n".join(lines) + "\n")
        return msg

    async def send(self, page: PageRequest) -> ProviderResult:
        host = self.ctx.setting("SECBOT_SMTP_HOST")
        sender = self.ctx.setting("SECBOT_SMTP_FROM")
        if not host or not sender:
            missing = "SECBOT_SMTP_HOST" if not host else "SECBOT_SMTP_FROM"
            return ProviderResult(False, False, f"email: {missing} is not set")
        port = int(self.ctx.setting("SECBOT_SMTP_PORT", "587"))  # checked at start-up
        implicit_tls = port == 465
        starttls = _bool_setting(self.ctx.setting("SECBOT_SMTP_STARTTLS"))
        try:
            await aiosmtplib.send(
                self.message(page, sender),
                hostname=host,
                port=port,
                username=self.ctx.setting("SECBOT_SMTP_USER"),
                password=self.ctx.setting("SECBOT_SMTP_PASSWORD"),
                use_tls=implicit_tls,
                start_tls=False if implicit_tls else starttls,
                timeout=HTTP_TIMEOUT,
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = [r.code for r in e.recipients]
            retryable = bool(codes) and all(400 <= c < 500 for c in codes)
            return ProviderResult(
                False, retryable, f"email: the server refused the recipients {codes}"
            )
        except aiosmtplib.SMTPResponseException as e:
            retryable = 400 <= e.code < 500
            return ProviderResult(False, retryable, f"email: the server answered {e.code}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            return ProviderResult(False, True, f"email: {_network_detail(e)}")
        return ProviderResult(True, detail="the SMTP server accepted it")


# --- chat -------------------------------------------------------------------------------


def _place_dict(place: Place) -> dict[str, Any]:
    return asdict(place)


class ChatProvider:
    """A message with an Acknowledge button (action ``incident:ack``, value = incident id)."""

    kind = "chat"
    label = "chat"
    actions = frozenset({"trigger", "acknowledge", "resolve"})
    per_page_followups = True

    def __init__(self, ctx: ProviderContext):
        self.ctx = ctx

    def place(self, page: PageRequest) -> Place:
        t = page.target
        if t.origin:
            o = page.incident.origin
            if not o or not o.get("platform") or not o.get("channel"):
                raise ValueError("the incident has no place it was reported from")
            return Place(
                str(o["platform"]),
                str(o.get("workspace") or ""),
                str(o["channel"]),
                is_direct=bool(o.get("is_direct", False)),
                thread=o.get("thread"),
            )
        if t.user:
            user = t.user.removeprefix(f"{t.platform}:")
            transport = self.ctx.transports.get(t.platform)
            if transport is None:  # send() then says the platform is not connected
                return Place(t.platform, t.workspace, user, is_direct=True)
            return transport.direct_place(t.workspace, user)
        return Place(t.platform, t.workspace, t.channel, thread=t.thread)

    async def send(self, page: PageRequest) -> ProviderResult:
        if page.action == "trigger":
            try:
                place = self.place(page)
            except ValueError as e:
                return ProviderResult(False, False, f"chat: {e}")
            msg = wording.chat_page(page.incident.inert(), page.ack_hint, page.step, page.round)
        else:
            if not page.ref or "place" not in page.ref:
                return ProviderResult(True, detail="no chat message to update")
            place = Place(**page.ref["place"])
            msg = wording.chat_closed(
                page.incident.inert(),
                page.action,
                page.now,
                self.ctx.settings.tz,
                page.acknowledged_by,
            )
        transport = self.ctx.transports.get(place.platform)
        if transport is None:
            return ProviderResult(False, False, f"chat: {place.platform} is not connected")
        try:
            if page.action == "trigger":
                ref = await transport.post(place, msg)
            else:
                await transport.update(MessageRef(place, str(page.ref["id"])), msg)  # type: ignore[index]
                return ProviderResult(True, detail="chat message updated", ref=page.ref)
        except DeliveryFailed as e:
            return ProviderResult(
                False,
                not e.permanent,
                f"chat: {place.platform} said {wording.one_line(e.reason, 80)}",
                retry_after=e.retry_after,
            )
        stored = {"place": _place_dict(place), "id": ref.id} if ref is not None else None
        return ProviderResult(True, detail=f"posted in {place.platform}", ref=stored)


# --- webhook ----------------------------------------------------------------------------


def sign_webhook(secret: str, body: bytes) -> str:
    """The ``X-Secbot-Signature`` header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_webhook(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver runs: compare in constant time over the raw body it received."""
    return hmac.compare_digest(sign_webhook(secret, body), signature or "")


WEBHOOK_EVENTS = {
    "trigger": "incident.triggered",
    "acknowledge": "incident.acknowledged",
    "resolve": "incident.resolved",
}


class WebhookProvider:
    kind = "webhook"
    label = "webhook"
    actions = frozenset({"trigger", "acknowledge", "resolve"})
    per_page_followups = False

    def __init__(self, ctx: ProviderContext):
        self.ctx = ctx

    async def send(self, page: PageRequest) -> ProviderResult:
        t = page.target
        try:
            secret = self.ctx.secret(t.secret_env)
            url = self.ctx.secret(t.url_env) if t.url_env else t.url
        except MissingSetting as e:
            return ProviderResult(False, False, f"webhook: {e}")
        stamp = int(page.now.timestamp())
        event = WEBHOOK_EVENTS[page.action]
        info = page.incident.inert()
        body = {
            "event": event,
            "delivery_id": page.key,
            "timestamp": stamp,
            "incident": info.to_json(),
            "target": page.target_id,
            "step": page.step,
            "round": page.round,
            "text": wording.page_text(info, page.ack_hint, page.step, page.round),
            "acknowledged_by": page.acknowledged_by,
        }
        raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Secbot-Signature": sign_webhook(secret, raw),
            "X-Secbot-Timestamp": str(stamp),
            "X-Secbot-Event": event,
            "X-Secbot-Delivery": page.key,
        }
        try:
            status, text, retry_after = await _post(self.ctx, url, raw, headers)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            return ProviderResult(False, True, f"webhook: {_network_detail(e)}")
        return _http_result("the webhook", status, "", retry_after)


def build_providers(ctx: ProviderContext) -> dict[str, Provider]:
    return {
        "pagerduty": PagerDutyProvider(ctx),
        "notify_sms": NotifyProvider(ctx, "notify_sms"),
        "notify_email": NotifyProvider(ctx, "notify_email"),
        "email": SmtpProvider(ctx),
        "chat": ChatProvider(ctx),
        "webhook": WebhookProvider(ctx),
    }


def target_from_json(data: dict[str, Any]) -> Any:
    return TARGET_ADAPTER.validate_python(data)
