"""Answering within one Teams activity: in the conversation, privately (the invoke
response card or the personal chat), or by replacing the card a button was on."""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.core.invoke_response import InvokeResponse
from botbuilder.integration.aiohttp import (
    CloudAdapter,
)
from botbuilder.schema import (
    ActivityTypes,
)

from bot.adapters.teams.extension import SUBMIT_ACTION
from bot.adapters.teams.translate import place_of
from bot.adapters.teams.transport import (
    file_as_text,
    file_type,
    send_personal,
    to_activity_of,
    with_file,
)
from bot.core.model import Message, MessageRef
from bot.render.teams import CARD_CONTENT_TYPE, plain_text, render_card

log = logging.getLogger(__name__)


class TeamsResponder:
    """Answers within one turn. For a card click (an invoke), a private answer becomes
    the invoke response card, which Teams shows to the clicking user only."""

    def __init__(self, ctx: TurnContext, adapter: CloudAdapter, app_id: str):
        self.ctx = ctx
        self.adapter = adapter
        self.app_id = app_id
        self.invoke_card: dict | None = None
        self.is_invoke = ctx.activity.type == ActivityTypes.invoke
        # A message action (messaging extension): a private answer is the dialog's text.
        self.is_extension = self.is_invoke and ctx.activity.name == SUBMIT_ACTION
        self.extension_text: str | None = None

    async def reply(self, msg: Message) -> MessageRef | None:
        activity = self.ctx.activity
        place = place_of(activity)
        if self.is_extension and msg.private and self.extension_text is None:
            self.extension_text = plain_text(msg.text)
            return None
        if msg.private and not place.is_direct:
            if self.is_invoke and self.invoke_card is None:
                self.invoke_card = render_card(msg)
                return None
            sender = activity.from_property.id if activity.from_property else ""
            try:
                await send_personal(self.adapter, self.app_id, activity, sender, msg)
            except Exception as e:  # noqa: BLE001 - as before: logged, the turn goes on
                # The person blocked secbot or Teams refused: the rest of the turn (its
                # public answer, its card update) still stands, and a kept activity is
                # not run again for a private line.
                log.warning("teams: a private reply could not be sent (%s)", type(e).__name__)
            return None
        out = to_activity_of(msg)
        if msg.attachment:
            out = with_file(out, *msg.attachment)
        resp = await self.ctx.send_activity(out)
        if msg.attachment and file_type(msg.attachment[0]) == "text/markdown":
            # Some Teams clients offer no download for a data-URL file, so the text also
            # goes in the conversation, where Teams renders its Markdown.
            await self.ctx.send_activity(file_as_text(*msg.attachment))
        return MessageRef(place, resp.id) if resp is not None and resp.id else None

    async def update_original(self, msg: Message) -> None:
        reply_to = self.ctx.activity.reply_to_id
        if not reply_to:
            await self.reply(msg)
            return
        await self.ctx.update_activity(to_activity_of(msg, id=reply_to))

    def invoke_response(self) -> InvokeResponse:
        if self.is_extension:
            # What Teams shows the person in the message action's dialog.
            text = self.extension_text or "Done"
            return InvokeResponse(status=200, body={"task": {"type": "message", "value": text}})
        if self.invoke_card is not None:
            body = {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": self.invoke_card}
        else:
            body = {
                "statusCode": 200,
                "type": "application/vnd.microsoft.activity.message",
                "value": "Done",
            }
        return InvokeResponse(status=200, body=body)
