"""Each provider against a local fake of the real service, called the way the outbox
calls it: GOV.UK Notify through the real notifications-python-client, SMTP through
aiosmtpd, webhooks with a verifiable signature, chat through a transport."""

from __future__ import annotations

import asyncio
import json
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.core import DeliveryFailed
from bot.core.clock import FakeClock
from bot.core.model import Actions, MessageRef, Place
from bot.settings import load_settings
from incidents.paging import verify_webhook
from incidents.paging.providers import (
    PageRequest,
    ProviderContext,
    build_providers,
    target_from_json,
)
from tests.fakes.notify import API_KEY, SERVICE_ID, FakeNotify
from tests.fakes.pagerduty import FakePagerDuty
from tests.test_paging_harness import (
    HOOK_SECRET,
    SECRETS,
    T0,
    closed_port_url,
    free_port,
    hook_target,
    info,
    routing,
    start_paging,
)


def make_ctx(env: dict[str, str] | None = None, transports: dict | None = None) -> ProviderContext:
    settings = load_settings({**SECRETS, **(env or {})}, env_file=None)
    return ProviderContext(settings, transports or {}, FakeClock(T0))


def request(target: dict, action: str = "trigger", **kw: Any) -> PageRequest:
    fields: dict[str, Any] = {
        "key": f"INC-1/1/1/t/{action}",
        "action": action,
        "incident": info(),
        "target_id": "t",
        "target": target_from_json(target),
        "step": 1,
        "round": 1,
        "attempt": 1,
        "now": T0,
    }
    fields.update(kw)
    return PageRequest(**fields)


async def send(ctx: ProviderContext, target: dict, **kw: Any):
    try:
        return await build_providers(ctx)[target["type"]].send(request(target, **kw))
    finally:
        await ctx.close()


# --- GOV.UK Notify ----------------------------------------------------------------------


@pytest.fixture
async def notify():
    server = await FakeNotify().start()
    yield server
    await server.close()


def notify_env(server) -> dict[str, str]:
    return {"SECBOT_NOTIFY_API_KEY": API_KEY, "SECBOT_NOTIFY_URL": server.url.rstrip("/")}


SMS = {"type": "notify_sms", "phone": "07700 900123", "template_id": "tpl-sms"}
EMAIL = {"type": "notify_email", "email": "duty@example.gov.uk", "template_id": "tpl-email"}


async def test_notify_sms_through_the_real_client(notify):
    result = await send(make_ctx(notify_env(notify)), SMS)
    assert result.ok and result.ref["notification_id"]
    (body,) = notify.sms_sent()
    assert body["phone_number"] == "07700 900123" and body["template_id"] == "tpl-sms"
    assert body["reference"] == "INC-1/1/1/t/trigger"
    fields = body["personalisation"]
    assert fields["incident_id"] == "INC-1" and fields["severity"] == "2 (high)"
    assert "@ExampleDept" in fields["message"] and "Password changed" in fields["message"]
    (claims,) = notify.tokens  # a JWT signed with the key's secret, issued by the service
    assert claims["iss"] == SERVICE_ID


async def test_notify_email_through_the_real_client(notify):
    result = await send(make_ctx(notify_env(notify)), EMAIL)
    assert result.ok
    (body,) = notify.emails_sent()
    assert body["email_address"] == "duty@example.gov.uk"
    assert body["personalisation"]["account"] == "@ExampleDept"


async def test_notify_errors_are_classified(notify):
    notify.responses = [400, 429, 500]
    env = notify_env(notify)
    bad = await send(make_ctx(env), SMS)
    assert not bad.ok and not bad.retryable and "400" in bad.detail
    limited = await send(make_ctx(env), SMS)
    assert not limited.ok and limited.retryable
    broken = await send(make_ctx(env), SMS)
    assert not broken.ok and broken.retryable and "500" in broken.detail


async def test_notify_wrong_key_and_no_key_are_permanent(notify):
    wrong = API_KEY[:-36] + "00000000-0000-0000-0000-000000000000"
    env = {**notify_env(notify), "SECBOT_NOTIFY_API_KEY": wrong}
    result = await send(make_ctx(env), SMS)
    assert not result.ok and not result.retryable and "403" in result.detail
    missing = await send(make_ctx({}), SMS)
    assert not missing.ok and not missing.retryable
    assert "SECBOT_NOTIFY_API_KEY" in missing.detail


async def test_notify_unreachable_is_retryable():
    env = {"SECBOT_NOTIFY_API_KEY": API_KEY, "SECBOT_NOTIFY_URL": closed_port_url()}
    result = await send(make_ctx(env), SMS)
    assert not result.ok and result.retryable and "could not be reached" in result.detail


async def test_notify_sms_as_an_escalation_step(tmp_path, notify):
    config = routing({"sms": SMS}, [{"targets": ["sms"]}])
    h = await start_paging(tmp_path, config, env=notify_env(notify))
    try:
        await h.pager.start(info("INC-9"))
        (body,) = await notify.wait_for(lambda s: s.sms_sent())
        assert body["reference"] == "INC-9/1/1/sms/trigger"
        await h.pager.flush()
        assert [p.status for p in await h.pager.pages("INC-9")] == ["sent"]
    finally:
        await h.stop()


# --- SMTP -------------------------------------------------------------------------------


class Recorder:
    def __init__(self, refuse: str | None = None):
        self.envelopes: list[Any] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse and address == self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
async def smtp():
    handler = Recorder(refuse="nobody@example.gov.uk")
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    await asyncio.to_thread(controller.start)
    yield controller, handler
    await asyncio.to_thread(controller.stop)


def smtp_env(controller) -> dict[str, str]:
    return {
        "SECBOT_SMTP_HOST": "127.0.0.1",
        "SECBOT_SMTP_PORT": str(controller.port),
        "SECBOT_SMTP_FROM": "secbot@example.gov.uk",
        "SECBOT_SMTP_STARTTLS": "false",
    }


async def test_smtp_email_through_aiosmtpd(smtp):
    controller, handler = smtp
    target = {"type": "email", "to": ["duty@example.gov.uk", "deputy@example.gov.uk"]}
    result = await send(make_ctx(smtp_env(controller)), target)
    assert result.ok, result.detail
    (env,) = handler.envelopes
    assert env.mail_from == "secbot@example.gov.uk"
    assert env.rcpt_tos == ["duty@example.gov.uk", "deputy@example.gov.uk"]
    msg = message_from_bytes(env.content, policy=default_policy)
    assert msg["Subject"] == "Severity 2 (high) incident: @ExampleDept on x"
    assert msg["To"] == "duty@example.gov.uk, deputy@example.gov.uk"
    body = msg.get_content()
    assert "Password changed and posts deleted" in body and "Incident: INC-1" in body


async def test_smtp_refusal_is_permanent_and_no_server_is_retryable(smtp):
    controller, _ = smtp
    refused = await send(
        make_ctx(smtp_env(controller)), {"type": "email", "to": "nobody@example.gov.uk"}
    )
    assert not refused.ok and not refused.retryable and "550" in refused.detail
    down = {**smtp_env(controller), "SECBOT_SMTP_PORT": str(free_port())}
    result = await send(make_ctx(down), {"type": "email", "to": "duty@example.gov.uk"})
    assert not result.ok and result.retryable
    unset = await send(make_ctx({}), {"type": "email", "to": "duty@example.gov.uk"})
    assert not unset.ok and not unset.retryable and "SECBOT_SMTP_HOST" in unset.detail


async def test_smtp_email_as_an_escalation_step(tmp_path, smtp):
    controller, handler = smtp
    config = routing(
        {"mail": {"type": "email", "to": "duty@example.gov.uk"}}, [{"targets": ["mail"]}]
    )
    h = await start_paging(tmp_path, config, env=smtp_env(controller))
    try:
        await h.pager.start(info())
        for _ in range(100):
            if handler.envelopes:
                break
            await asyncio.sleep(0.02)
        await h.pager.flush()
        assert len(handler.envelopes) == 1
        assert [p.status for p in await h.pager.pages("INC-1")] == ["sent"]
    finally:
        await h.stop()


# --- webhook ----------------------------------------------------------------------------


async def test_webhook_signature_is_verifiable(hook):
    result = await send(make_ctx(), hook_target(hook))
    assert result.ok
    (delivery,) = hook.deliveries
    signature = delivery.headers["X-Secbot-Signature"]
    assert signature.startswith("sha256=")
    assert verify_webhook(HOOK_SECRET, delivery.raw, signature)
    assert not verify_webhook("another-secret-entirely", delivery.raw, signature)
    assert not verify_webhook(HOOK_SECRET, delivery.raw.replace(b"INC-1", b"INC-2"), signature)
    body = json.loads(delivery.raw)
    assert delivery.headers["X-Secbot-Timestamp"] == str(body["timestamp"])
    assert body["timestamp"] == int(T0.timestamp())
    assert body["event"] == "incident.triggered" == delivery.headers["X-Secbot-Event"]
    assert body["incident"]["id"] == "INC-1" and body["step"] == 1
    assert delivery.headers["X-Secbot-Delivery"] == "INC-1/1/1/t/trigger"


async def test_webhook_secret_from_settings_and_status_handling(hook):
    hook.responses = [410, 503]
    target = hook_target(hook, secret="${SECBOT_HOOK_SECRET}")
    env = {"SECBOT_HOOK_SECRET": "from-settings-0123456789"}
    gone = await send(make_ctx(env), target)
    assert not gone.ok and not gone.retryable and "410" in gone.detail
    busy = await send(make_ctx(env), target, action="resolve")
    assert not busy.ok and busy.retryable
    ok = await send(make_ctx(env), target, action="acknowledge", acknowledged_by="slack:U1")
    assert ok.ok
    last = hook.deliveries[-1]
    assert verify_webhook("from-settings-0123456789", last.raw, last.headers["X-Secbot-Signature"])
    assert json.loads(last.raw)["event"] == "incident.acknowledged"
    assert json.loads(last.raw)["acknowledged_by"] == "slack:U1"


# --- PagerDuty --------------------------------------------------------------------------


async def test_pagerduty_classifies_answers():
    pd = await FakePagerDuty(responses=[202, 400, 429, 502]).start()
    try:
        target = {"type": "pagerduty", "routing_key_env": "PD_KEY", "base_url": pd.url}
        results = [await send(make_ctx(), target) for _ in range(4)]
        assert [(r.ok, r.retryable) for r in results] == [
            (True, False),
            (False, False),
            (False, True),
            (False, True),
        ]
        default = await send(
            make_ctx({"SECBOT_PAGERDUTY_URL": pd.url}), {**target, "base_url": None}
        )
        assert default.ok and len(pd.events()) == 5
        down = await send(make_ctx(), {**target, "base_url": closed_port_url()})
        assert not down.ok and down.retryable and "could not connect" in down.detail
    finally:
        await pd.close()


async def test_pagerduty_long_ids_still_make_a_valid_dedup_key():
    pd = await FakePagerDuty().start()
    try:
        target = {"type": "pagerduty", "routing_key_env": "PD_KEY", "base_url": pd.url}
        result = await send(make_ctx(), target, incident=info("X" * 300, summary="y" * 5000))
        assert result.ok, result.detail  # the fake rejects what PagerDuty rejects
        (event,) = pd.events()
        assert len(event["dedup_key"]) <= 255 and len(event["payload"]["summary"]) <= 1024
    finally:
        await pd.close()


# --- chat -------------------------------------------------------------------------------


class RecordingTransport:
    platform = "slack"

    def __init__(self, fail: DeliveryFailed | None = None):
        self.posts: list[tuple[Place, Any]] = []
        self.updates: list[tuple[MessageRef, Any]] = []
        self.fail = fail

    async def post(self, place, msg):
        if self.fail:
            raise self.fail
        self.posts.append((place, msg))
        return MessageRef(place, f"ts-{len(self.posts)}")

    async def post_private(self, place, actor, msg):
        raise AssertionError("pages are never private")

    async def update(self, ref, msg):
        self.updates.append((ref, msg))

    def direct_place(self, workspace, user_id):
        return Place("slack", workspace, user_id, is_direct=True)


async def test_chat_page_has_an_acknowledge_button_and_is_updated_after():
    transport = RecordingTransport()
    ctx = make_ctx(transports={"slack": transport})
    target = {"type": "chat", "platform": "slack", "channel": "CDUTY", "workspace": "T1"}
    result = await send(ctx, target)
    assert result.ok
    ((place, msg),) = transport.posts
    assert place == Place("slack", "T1", "CDUTY")
    (button,) = msg.buttons()
    assert (button.label, button.action_id, button.value) == (
        "Acknowledge",
        "incident:ack",
        "INC-1",
    )
    assert "@ExampleDept" in msg.text

    ack = await send(ctx, target, action="acknowledge", ref=result.ref, acknowledged_by="slack:U1")
    assert ack.ok
    ((ref, updated),) = transport.updates
    assert ref == MessageRef(place, "ts-1")
    assert updated.buttons() == [] and not any(isinstance(b, Actions) for b in updated.blocks)
    assert "Acknowledged by slack:U1" in updated.text


async def test_chat_to_a_user_and_to_the_origin():
    transport = RecordingTransport()
    ctx = make_ctx(transports={"slack": transport})
    await send(ctx, {"type": "chat", "platform": "slack", "user": "slack:UDUTY"})
    origin = {"platform": "slack", "workspace": "T1", "channel": "CREPORT", "thread": "1.2"}
    await send(ctx, {"type": "chat", "origin": True}, incident=info(origin=origin))
    assert [p for p, _ in transport.posts] == [
        Place("slack", "", "UDUTY", is_direct=True),
        Place("slack", "T1", "CREPORT", thread="1.2"),
    ]
    no_origin = await send(ctx, {"type": "chat", "origin": True})
    assert not no_origin.ok and not no_origin.retryable


async def test_chat_failures_are_classified():
    gone = RecordingTransport(DeliveryFailed("is_archived", permanent=True))
    result = await send(
        make_ctx(transports={"slack": gone}), {"type": "chat", "platform": "slack", "channel": "C1"}
    )
    assert not result.ok and not result.retryable and "is_archived" in result.detail
    busy = RecordingTransport(DeliveryFailed("ratelimited", retry_after=3))
    result = await send(
        make_ctx(transports={"slack": busy}), {"type": "chat", "platform": "slack", "channel": "C1"}
    )
    assert not result.ok and result.retryable and result.retry_after == 3
    result = await send(make_ctx(), {"type": "chat", "platform": "teams", "channel": "19:x"})
    assert not result.ok and not result.retryable and "teams is not connected" in result.detail
