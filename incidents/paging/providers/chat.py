"""A page posted in Slack, Teams or the web chat through the neutral transports, with
an Acknowledge button; updated in place when acknowledged or resolved.
"""

from __future__ import annotations

from bot.core import DeliveryFailed
from bot.core.model import MessageRef, Place
from incidents.paging import wording
from incidents.paging.providers.base import (
    PageRequest,
    Provider,
    ProviderResult,
)


class ChatProvider(Provider):
    """A message with an Acknowledge button (action ``incident:ack``, value = incident id)."""

    kind = "chat"
    label = "chat"
    actions = frozenset({"trigger", "acknowledge", "resolve"})
    per_page_followups = True

    def place(self, page: PageRequest) -> Place:
        t = page.target
        if t.origin:
            try:
                return Place.from_dict(page.incident.origin or {})
            except (KeyError, ValueError):
                raise ValueError("the incident has no place it was reported from") from None
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
            place = Place.from_dict(page.ref["place"])
            msg = wording.chat_closed(
                page.incident.inert(),
                page.action,
                page.now,
                self.ctx.settings.tz,
                page.acknowledged_by_name or page.acknowledged_by,
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
        # The ref's place, not the target's: a Teams message to a person is in the 1:1
        # chat the transport opened, which is where it is updated.
        stored = {"place": ref.place.to_dict(), "id": ref.id} if ref is not None else None
        return ProviderResult(True, detail=f"posted in {place.platform}", ref=stored)
