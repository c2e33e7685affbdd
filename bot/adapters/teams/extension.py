"""Teams' two ways in for evidence, translated to the neutral model:

- the message action "Add to incident timeline" (a messaging extension action command,
  ``composeExtension/submitAction`` with ``messagePayload``) becomes the action
  ``incident.timeline:add`` with the message in ``Incoming.shared``; the command's small
  form has one optional field, ``incident``, for someone on several incidents;
- files attached to a message (``application/vnd.microsoft.teams.file.download.info``:
  Teams hands the bot a short-lived pre-authorised ``downloadUrl``) become a ``files``
  delivery. Teams delivers such attachments in personal chats; a file posted in a
  channel reaches a bot only through Microsoft Graph, which secbot does not use, so in
  a channel people share evidence with ``/compromised evidence`` or the message action.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from urllib.parse import urlsplit

from botbuilder.schema import Activity

from bot.adapters.teams.translate import dict_of, text_of
from bot.core.model import Actor, FileRef, SharedMessage

SUBMIT_ACTION = "composeExtension/submitAction"
FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(br|/p|/div)\s*/?>", re.IGNORECASE)


def plain_from_html(content: str) -> str:
    """Teams sends a message's body as HTML: its words, as text (made inert later)."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", content))).strip()


def _when(text: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def shared_message(activity: Activity) -> tuple[str, SharedMessage] | None:
    """(the command id, the message) from a message action's submitAction invoke."""
    value = dict_of(activity.value)
    command = text_of(value.get("commandId"))
    payload = dict_of(value.get("messagePayload"))
    if not command or not payload:
        return None
    user = dict_of(dict_of(payload.get("from")).get("user"))
    body = dict_of(payload.get("body"))
    content = text_of(body.get("content"))
    text = plain_from_html(content) if text_of(body.get("contentType")) == "html" else content
    link = text_of(payload.get("linkToMessage"))
    conversation = activity.conversation.id if activity.conversation else ""
    shared = SharedMessage(
        key=f"teams:{conversation.split(';messageid=', 1)[0]}:{text_of(payload.get('id'))}",
        author=Actor("teams", text_of(user.get("id")), text_of(user.get("displayName"))),
        text=text,
        at=_when(text_of(payload.get("createdDateTime"))),
        link=link if link.startswith("https://") else "",
        incident=text_of(dict_of(value.get("data")).get("incident")).strip()[:40],
    )
    return command, shared


def shared_files(activity: Activity) -> tuple[FileRef, ...]:
    """Files attached to a message that Teams lets the bot fetch. A download URL is
    used only over https, or from the activity's own (already trusted) serviceUrl host."""
    service = urlsplit(activity.service_url or "")
    found = []
    for attachment in activity.attachments or []:
        if attachment.content_type != FILE_INFO:
            continue
        content = dict_of(attachment.content)
        url = text_of(content.get("downloadUrl"))
        parts = urlsplit(url)
        same_host = (parts.scheme, parts.netloc) == (service.scheme, service.netloc)
        if not (parts.scheme == "https" or same_host) or not parts.hostname:
            continue
        ident = text_of(content.get("uniqueId")) or url
        found.append(FileRef("teams", ident, text_of(attachment.name), None, source=url))
    return tuple(found)
