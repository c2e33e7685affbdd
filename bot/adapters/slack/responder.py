"""Answering within one Slack delivery: in the channel, privately (ephemeral or via
the ``response_url``), or by replacing the message a button was on."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack.client import GONE, WORKSPACE_ERRORS
from bot.adapters.slack.transport import upload_file
from bot.core.model import Actor, Message, MessageRef, Place
from bot.render.slack import render

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
    ):
        self.client = client
        self.place = place
        self.actor = actor
        self.respond = respond
        self.original = original
        self.original_ephemeral = original_ephemeral

    async def reply(self, msg: Message) -> MessageRef | None:
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
