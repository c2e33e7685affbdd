"""Slack: bolt's ``AsyncApp`` routes deliveries to the core, and slack_sdk talks back.

Over HTTP, :mod:`bot.adapters.slack.door` verifies, keeps and acknowledges each
request; :class:`SlackIntake` then handles the kept requests through bolt's listeners.
Socket Mode deliveries come through bolt directly and join the same inbox. Either way
the core sees an :class:`~bot.core.model.Incoming` and a :class:`SlackResponder`.
"""

from __future__ import annotations

import logging
import re

from slack_bolt.app.async_app import AsyncApp

from bot.adapters.slack.client import configure_client
from bot.adapters.slack.dialogs import Dialogs
from bot.adapters.slack.intake import OUTCOME, REACHED, SlackIntake
from bot.adapters.slack.translate import UNREADABLE
from bot.core import Bot
from bot.http.errors import where
from bot.storage.inbox import Inbox
from bot.tasks import TaskSet

log = logging.getLogger(__name__)


def build_slack_app(settings, bot: Bot, tasks: TaskSet) -> tuple[AsyncApp, SlackIntake]:
    """The bolt app, with one listener per kind of delivery, each handing off to the core.

    Bolt routes what the consumer dispatches and what Socket Mode delivers. HTTP
    signatures are checked by the front door before anything is kept, so bolt's own
    check is off here: a kept delivery handled after a restart would otherwise fail
    its five-minute timestamp window. Slack's retries are handled by de-duplicating on
    delivery identity.
    """
    app = AsyncApp(
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,
        request_verification_enabled=False,
    )
    configure_client(app.client, settings.slack_api_url)
    intake = SlackIntake(
        bot,
        app,
        tasks,
        Inbox(bot.services.db),
        handlers=settings.slack_handlers,
        defer_seconds=settings.slack_defer_seconds,
        max_attempts=settings.dead_letter_attempts,
        max_age_hours=settings.dead_letter_hours,
        retention_days=settings.inbox_retention_days,
        dialogs=Dialogs(app.client, settings.slack_signing_secret or "", bot.services.clock),
    )

    @app.error
    async def on_error(error: Exception, context: dict) -> None:
        """Bolt's own default logs the error's text (it may quote the body) with a
        traceback. A body of an unexpected shape (signed, so Slack's or a secret
        holder's) is dropped: trying it again would fail again. An error once a listener
        has the delivery is left to the intake (kept, then dead-lettered)."""
        reached = REACHED in (context.get(OUTCOME) or ())
        if isinstance(error, UNREADABLE) and not reached:
            log.warning("dropping a Slack delivery bolt could not read (%s)", type(error).__name__)
            intake.ignore(context)
        else:
            log.error("Slack: bolt failed (%s at %s)", type(error).__name__, where(error))

    @app.command(re.compile(r"^/.+"))
    async def on_command(ack, body, context):
        await intake.take("command", body, ack, context)

    @app.action(re.compile(r".+"))
    async def on_action(ack, body, context):
        await intake.take("action", body, ack, context)

    @app.view(re.compile(r".+"))
    async def on_view(ack, body, context):
        await intake.take("view", body, ack, context)

    @app.shortcut(re.compile(r".+"))
    async def on_shortcut(ack, body, context):
        if body.get("type") == "message_action":  # a message shortcut: on one message
            await intake.take("shortcut", body, ack, context)
        else:
            await ack()
            intake.ignore(context)  # no global shortcuts: the manifest declares none

    async def on_text(body, event, context):
        if event.get("bot_id") or event.get("subtype"):
            intake.ignore(context)  # our own posts and edits: nothing to do
            return
        await intake.take("event", body, None, context)

    app.event("app_mention")(on_text)

    async def on_message(body, event, context):
        if event.get("subtype") == "file_share" and isinstance(event.get("files"), list):
            if event.get("bot_id"):
                intake.ignore(context)  # our own uploads (reports)
            else:
                await intake.take("files", body, None, context)  # evidence, if a room's
        elif event.get("channel_type") == "im":
            await on_text(body, event, context)
        else:
            intake.ignore(context)  # channel chatter: we only answer mentions there

    app.event("message")(on_message)
    return app, intake
