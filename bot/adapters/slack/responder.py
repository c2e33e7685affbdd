"""Answering within one Slack delivery: in the channel, privately (ephemeral or via
the ``response_url``), or by replacing the message a button was on."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack.client import GONE, WORKSPACE_ERRORS
from bot.adapters.slack.transport import upload_file
from bot.core.inert import one_line
from bot.core.model import Actor, Message, MessageRef, Place
from bot.render.slack import render

if TYPE_CHECKING:
    from bot.adapters.slack.dialogs import DeliveryDialogs, WaitingAnswers

log = logging.getLogger(__name__)


class ResponseUrl:
    """Posts to a delivery's ``response_url`` (valid for 30 minutes, 5 uses)."""

    def __init__(self, url: str, client: AsyncWebClient):
        self.url = url
        self.client = client

    async def __call__(self, **body: Any) -> None:
        hook = AsyncWebhookClient(self.url, session=self.client.session)
        resp = await hook.send_dict(body)
        if resp.status_code >= 400:
            log.warning("response_url answered %s", resp.status_code)


def response_url_of(body: dict, client: AsyncWebClient) -> ResponseUrl | None:
    url = body.get("response_url")
    return ResponseUrl(url, client) if url else None



class SlackResponder:
    """Answers within one delivery, preferring ``response_url`` for private replies
    because it works in every kind of conversation, DMs included."""

    def __init__(
        self,
        client: AsyncWebClient,
        place: Place,
        actor: Actor,
        respond: Any = None,
        original: MessageRef | None = None,
        original_ephemeral: bool = False,
        dialogs: DeliveryDialogs | None = None,
        trigger_id: str = "",
    ):
        self.client = client
        self.place = place
        self.actor = actor
        self.respond = respond
        self.original = original
        self.original_ephemeral = original_ephemeral
        self.dialogs = dialogs
        self.trigger_id = trigger_id  # opens one modal (bot/adapters/slack/dialogs.py)

    async def reply(self, msg: Message) -> MessageRef | None:
        if msg.dialog and self.dialogs is not None and self.trigger_id:
            trigger, self.trigger_id = self.trigger_id, ""  # Slack takes each one once
            if await self.dialogs.open(trigger, self.place, self.actor, msg):
                return None
        if msg.attachment:
            await self._upload(msg)
        body = render(msg)
        if msg.private:
            if self.respond is not None:
                await self.respond(response_type="ephemeral", replace_original=False, **body)
            else:
                await self.client.chat_postEphemeral(
                    channel=self.place.channel, user=self.actor.user_id, **body
                )
            return None
        try:
            kwargs: dict[str, Any] = {"channel": self.place.channel, **body}
            if self.place.thread:
                kwargs["thread_ts"] = self.place.thread
            resp = await self.client.chat_postMessage(**kwargs)
            return MessageRef(self.place, resp["ts"])
        except SlackApiError as e:
            # A slash command in a conversation the bot is not part of: fall back.
            error = e.response.get("error")
            if self.respond is None or (error not in GONE and error not in WORKSPACE_ERRORS):
                raise
            await self.respond(response_type="in_channel", **body)
            return None

    async def update_original(self, msg: Message) -> None:
        body = render(msg)
        if self.original is None:
            await self.reply(msg)
        elif self.original_ephemeral and self.respond is not None:
            await self.respond(replace_original=True, **body)
        else:
            await self.client.chat_update(
                channel=self.original.place.channel, ts=self.original.id, **body
            )

    async def _upload(self, msg: Message) -> None:
        filename, content = msg.attachment  # type: ignore[misc]
        await upload_file(self.client, self.place, filename, content)


class SubmissionResponder(SlackResponder):
    """Answers a submitted modal. Corrections to typed fields go back in the submission's
    own HTTP answer while the front door still waits for it (``response_action:
    errors``, under each field); everything else, and corrections too late for that, is
    private: an ephemeral message where the modal was opened from, else (the app is not
    in that conversation) a direct message. The form it came from was private, so what
    replaces it is too."""

    def __init__(
        self,
        client: AsyncWebClient,
        place: Place,
        actor: Actor,
        answers: WaitingAnswers,
        key: str,
        blocks: dict[str, str],
    ):
        super().__init__(client, place, actor)
        self.answers = answers
        self.key = key  # the delivery id the front door waits under
        self.blocks = blocks  # input name -> the modal's block id

    async def reply(self, msg: Message) -> MessageRef | None:
        errors = {self.blocks[n]: one_line(t, 150) for n, t in msg.field_errors if n in self.blocks}
        said = {"response_action": "errors", "errors": errors}
        if errors and self.answers.answer(self.key, said):
            return None
        try:
            return await super().reply(msg)
        except SlackApiError as e:
            if not msg.private or e.response.get("error") not in GONE:
                raise
        await self.client.chat_postMessage(channel=self.actor.user_id, **render(msg))
        return None

    async def update_original(self, msg: Message) -> None:
        await self.reply(replace(msg, private=True, replace_original=False))
