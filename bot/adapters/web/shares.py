"""The web chat's two ways to hand something to a feature besides typing and clicking:
"Add to incident timeline" on a message already in the conversation (``share``), and a
file uploaded into the conversation (``upload``). Each becomes the same neutral
delivery Slack and Teams make (``Incoming.shared``; ``kind="files"``), so the incident
desk treats all three platforms alike.

An upload's bytes stay in memory (:class:`Uploads`) only until the feature fetches them
through ``WebTransport.download`` within the same request: the web chat keeps no files.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections import OrderedDict
from datetime import datetime

from bot.core.inert import one_line
from bot.core.model import Actor, FileRef, Incoming, Place, SharedMessage

ACTION = "incident.timeline:add"  # what the page's per-message button asks for
MAX_NAME = 200
MAX_KEPT = 20  # uploads held at once, waiting to be fetched


class Uploads:
    """Uploaded bytes by id, until fetched (at most :data:`MAX_KEPT`, oldest dropped)."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, bytes] = OrderedDict()

    def keep(self, data: bytes) -> str:
        ident = secrets.token_hex(8)
        self._kept[ident] = data
        while len(self._kept) > MAX_KEPT:
            self._kept.popitem(last=False)
        return ident

    def take(self, ident: str) -> bytes | None:
        return self._kept.pop(ident, None)


def shared_incoming(
    actor: Actor, place: Place, delivery: str, message: dict, at: datetime | None
) -> Incoming:
    """The per-message action on a message the person can see (``message`` as the
    store holds it: its id, its author's name, its text)."""
    author = Actor("web", str(message.get("user_id") or ""), str(message.get("name") or ""))
    shared = SharedMessage(
        key=f"web:{place.channel}:{message['id']}",
        author=author,
        text=str(message.get("text") or ""),
        at=at,
    )
    return Incoming(
        actor=actor, place=place, kind="action", delivery_id=delivery, action_id=ACTION,
        shared=shared,
    )  # fmt: skip


def upload_incoming(
    actor: Actor, place: Place, delivery: str, upload: dict, uploads: Uploads
) -> Incoming | str:
    """A file uploaded into the conversation, or a friendly refusal."""
    name = one_line(str(upload.get("name") or ""), MAX_NAME)
    try:
        data = base64.b64decode(str(upload.get("content") or ""), validate=True)
    except (binascii.Error, ValueError):
        return "The file didn't arrive whole. Choose it and send it again."
    if not name or not data:
        return "Choose a file to send first."
    ident = uploads.keep(data)
    file = FileRef("web", ident, name, len(data), source=ident)
    return Incoming(actor=actor, place=place, kind="files", delivery_id=delivery, files=(file,))
