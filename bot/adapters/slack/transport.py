"""Posting to Slack outside a delivery, and Slack's rooms and people: the neutral
transport operations (see ``bot.core.Transport``)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import history
from bot.adapters.slack.client import failure
from bot.adapters.slack.web_api import may_have_arrived, may_have_posted
from bot.core import DeliveryFailed, PostInDoubt, Sighting
from bot.core.model import Actor, FileRef, Message, MessageRef, Place
from bot.http.download import fetch_at_most
from bot.render.slack import render

log = logging.getLogger(__name__)


class SlackTransport:
    """Posting outside a delivery: scheduled tips, quiz closes, pages to a channel."""

    platform = "slack"
    finds_posts = True  # conversations.history with the message metadata
    names_are_handles = True  # the legacy username, on clicks and slash commands

    def __init__(self, client: AsyncWebClient):
        from bot.adapters.slack.web_api import ChatPoster

        self.client = client
        # A tip fan-out posts one message to thousands of channels: serialise it once
        # and post over the client's session, with slack_sdk's retries and errors.
        self.poster = ChatPoster(client)

    async def post(
        self, place: Place, msg: Message, *, key: str | None = None
    ) -> MessageRef | None:
        """``chat.postMessage``; a ``key`` goes with it as message metadata, so
        :meth:`find_posted` can find the message later (``bot/adapters/slack/history.py``)."""
        resp: Any
        try:
            if self.poster.usable():
                resp = await self.poster.post(place, msg, key)
            else:
                kwargs: dict[str, Any] = {"channel": place.channel, **render(msg)}
                if place.thread:
                    kwargs["thread_ts"] = place.thread
                if key is not None:
                    kwargs["metadata"] = history.metadata(key)
                resp = await self.client.chat_postMessage(**kwargs)
        except SlackApiError as e:
            if key is not None and may_have_posted(e):
                raise PostInDoubt(f"Slack answered {e.response.status_code}") from None
            raise failure(e) from None
        except Exception as e:
            if key is not None and may_have_arrived(e):
                raise PostInDoubt(type(e).__name__) from None
            raise
        return MessageRef(place, resp["ts"])

    async def find_posted(self, place: Place, key: str, since: datetime) -> Sighting:
        """The channel's history since ``since`` (``conversations.history`` with the
        metadata): found, absent, or unknown (missing scope, not a member, an error...).
        A refusal here never pauses the workspace: it is an answer, not a failed post."""
        return await history.find_posted(self.client, place, key, since)

    async def post_private(self, place: Place, actor: Actor, msg: Message) -> None:
        try:
            await self.client.chat_postEphemeral(
                channel=place.channel, user=actor.user_id, **render(msg)
            )
        except SlackApiError as e:
            raise failure(e) from None

    async def update(self, ref: MessageRef, msg: Message) -> None:
        try:
            await self.client.chat_update(channel=ref.place.channel, ts=ref.id, **render(msg))
        except SlackApiError as e:
            raise failure(e) from None

    # --- rooms and people (neutral operations the incident desk and paging use) ---

    private_rooms = True  # open_room can make a private channel

    def thread_under(self, ref: MessageRef) -> Place:
        """Where replies to a message go: its thread."""
        return replace(ref.place, thread=ref.id)

    def direct_place(self, workspace: str, user_id: str) -> Place:
        """A direct conversation with one person (a Slack user id posts as a DM)."""
        return Place("slack", workspace, user_id, is_direct=True)

    async def open_room(self, origin: Place, name: str, people: list[str]) -> Place | None:
        """A private channel named ``name`` with ``people`` (actor keys) invited. None
        when Slack refuses (missing scopes, name taken): the caller falls back."""
        try:
            created = await self.client.conversations_create(name=name, is_private=True)
            channel = created["channel"]["id"]
            users = slack_users(people)
            if users:
                await self.client.conversations_invite(channel=channel, users=",".join(users))
        except Exception as e:  # noqa: BLE001 - SlackApiError or a network error: fall back
            log.warning("could not create a private channel: %s", type(e).__name__)
            return None
        return Place("slack", origin.workspace, channel)

    async def upload(self, place: Place, filename: str, content: str) -> MessageRef | None:
        """A text file in the channel (or its thread). Slack gives a file, not a message,
        so there is no message to update later: None."""
        try:
            await upload_file(self.client, place, filename, content)
        except SlackApiError as e:
            raise failure(e) from None
        return None

    async def download(self, file: FileRef, limit: int) -> bytes | None:
        """A shared file's bytes, from its ``url_private_download`` with the bot token
        (scope files:read). The token goes only to Slack's file host (or to the host
        SLACK_API_URL names, a test's fake Slack); at most ``limit`` bytes are read."""
        url = file.source
        if not self.trusted_file_url(url):
            raise DeliveryFailed("untrusted_file_url", permanent=True)
        headers = {"Authorization": f"Bearer {self.client.token}"}
        return await fetch_at_most(self.client.session, url, limit, headers)

    def trusted_file_url(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname == "files.slack.com":
            return True
        api = urlsplit(self.client.base_url)
        return bool(parts.hostname) and (parts.scheme, parts.netloc) == (api.scheme, api.netloc)

    async def people(self, workspace: str) -> list[Actor]:
        """Slack has a user menu of its own (``users_select``): no list needed."""
        return []

    async def lookup(
        self, workspace: str, user_id: str, where: Place | None = None
    ) -> Actor | None:
        """``users.info``: the person's display name (else real name, else handle)."""
        if not _SLACK_USER.match(user_id):
            return None
        try:
            user = (await self.client.users_info(user=user_id))["user"]
        except (SlackApiError, KeyError, TypeError) as e:
            log.info("could not look a Slack user up: %s", type(e).__name__)
            return None
        profile = user.get("profile") or {}
        name = profile.get("display_name") or user.get("real_name") or user.get("name") or ""
        return Actor("slack", user_id, str(name))

    async def invite(self, room: Place, people: list[str]) -> None:
        """Invite ``people`` (actor keys; those who are not Slack users are ignored)."""
        users = slack_users(people)
        if not users or room.platform != "slack":
            return
        try:
            await self.client.conversations_invite(channel=room.channel, users=",".join(users))
        except Exception as e:  # noqa: BLE001 - already in the channel, or missing scopes
            log.warning("could not invite to a channel: %s", type(e).__name__)


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


async def upload_file(client: AsyncWebClient, place: Place, filename: str, content: str) -> None:
    """``files.upload`` (v2) of a text file into a channel or thread."""
    await client.files_upload_v2(
        channel=place.channel,
        filename=filename,
        content=content,
        title=filename,
        thread_ts=place.thread,
    )


def slack_users(people: list[str]) -> list[str]:
    """Slack user ids among actor keys (``slack:U123``) or bare ids (``U123``)."""
    users: list[str] = []
    for member in people:
        head, sep, rest = member.partition(":")
        user = rest if sep and head == "slack" else (member if not sep else "")
        if _SLACK_USER.match(user) and user not in users:
            users.append(user)
    return users
