"""Translating Slack's payloads (slash commands, block actions, view submissions,
events) into the neutral :class:`~bot.core.model.Incoming` and a responder."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.dialogs import view_delivery_id
from bot.adapters.slack.responder import SlackResponder, SubmissionResponder, response_url_of
from bot.adapters.slack.scrub import trigger_key
from bot.core.actions import plain
from bot.core.model import (
    PERSON_FIELD,
    Actor,
    FileRef,
    Incoming,
    MessageRef,
    Place,
    SharedMessage,
)
from bot.render.slack import picker_value

if TYPE_CHECKING:
    from bot.adapters.slack.dialogs import DeliveryDialogs


def _enterprise(body: dict) -> str:
    """The Enterprise Grid org id, where Slack sends one: ``enterprise_id`` on slash
    commands and events, ``enterprise.id`` on interactions, else ``user.enterprise_id``."""
    org = body.get("enterprise")
    found = org.get("id") if isinstance(org, dict) else None
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
    found = found or body.get("enterprise_id") or user.get("enterprise_id")
    return found if isinstance(found, str) else ""


def _place_from(
    body: dict, channel_id: str, channel_name: str = "", thread: str | None = None
) -> Place:
    team = (body.get("team") or {}).get("id") if isinstance(body.get("team"), dict) else None
    team = team or body.get("team_id") or body.get("user", {}).get("team_id", "") or ""
    is_direct = channel_id.startswith("D") or channel_name == "directmessage"
    return Place(
        "slack", team, channel_id, is_direct=is_direct, thread=thread, enterprise=_enterprise(body)
    )


Translated = tuple[Incoming, "SlackResponder"]


_ESCAPED = re.compile(r"<([^<>]*)>")


def _readable(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return match.group(0)  # a person: kept for the command to resolve
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        return label or f"@{target[1:].split('^')[0]}"
    return target  # a link: the address itself, as typed


def command_text(text: str) -> str:
    """A slash command's text as typed. The manifest asks Slack to escape commands
    (``should_escape``), so a mention arrives as ``<@U123>`` or ``<@U123|name>`` and is
    kept for the command to resolve; a link (``<https://…|…>``), a channel (``<#C1|name>``)
    and ``&amp;``, ``&lt;``, ``&gt;`` are read back as the text the person typed."""
    readable = _ESCAPED.sub(_readable, text)
    return readable.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _from_command(
    body: dict, client: AsyncWebClient, dialogs: DeliveryDialogs | None = None
) -> Translated:
    place = _place_from(body, body["channel_id"], body.get("channel_name", ""))
    actor = Actor("slack", body["user_id"], body.get("user_name", ""))
    incoming = Incoming(
        actor=actor,
        place=place,
        kind="command",
        delivery_id=f"slack:cmd:{trigger_key(body.get('trigger_id', '')) or body.get('command')}",
        command=body["command"].lstrip("/"),
        args=command_text(body.get("text") or "").strip(),
    )
    responder = SlackResponder(
        client,
        place,
        actor,
        response_url_of(body, client),
        dialogs=dialogs,
        trigger_id=str(body.get("trigger_id") or ""),
    )
    return incoming, responder


def _from_action(
    body: dict, client: AsyncWebClient, dialogs: DeliveryDialogs | None = None
) -> Translated:
    action = body["actions"][0]
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
    thread = (body.get("message") or {}).get("thread_ts")
    place = _place_from(body, channel, (body.get("channel") or {}).get("name", ""), thread)
    user = body["user"]
    actor = Actor("slack", user["id"], user.get("name") or user.get("username", ""))
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    value = action.get("value")
    if value is None and action.get("selected_option"):
        value = action["selected_option"]["value"]
    form = _typed_inputs(body)
    if action.get("type") == "users_select":
        # A person picker: the person chosen, and the picker's value from its block id.
        form[PERSON_FIELD] = str(action.get("selected_user") or "")
        value = picker_value(str(action.get("block_id") or ""))
    incoming = Incoming(
        actor=actor,
        place=place,
        kind="action",
        delivery_id=(
            f"slack:act:{user['id']}:{action.get('action_ts') or trigger_key(body['trigger_id'])}"
        ),
        action_id=plain(action["action_id"]),
        value=value or "",
        message=MessageRef(place, ts) if ts else None,
        form=form,
    )
    responder = SlackResponder(
        client,
        place,
        actor,
        response_url_of(body, client),
        incoming.message,
        original_ephemeral=bool(container.get("is_ephemeral")),
        dialogs=dialogs if container.get("type") != "view" else None,
        trigger_id=str(body.get("trigger_id") or ""),
    )
    return incoming, responder


def _typed_inputs(body: dict) -> dict[str, str]:
    """What was typed in the message's input blocks (``state.values``), by input name:
    Slack sends them with every button click on that message."""
    form: dict[str, str] = {}
    values = (body.get("state") or {}).get("values") or {}
    for inputs in values.values():
        for action_id, state in inputs.items():
            if isinstance(state, dict) and state.get("type") == "plain_text_input":
                form[plain(action_id)] = str(state.get("value") or "")
    return form


def _slack_time(ts: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def message_link(body: dict, channel: str, ts: str) -> str:
    """The message's address in Slack (what "Copy link" gives), from the workspace's
    domain, the channel and the message's ts; empty when the payload has no domain."""
    domain = (body.get("team") or {}).get("domain") if isinstance(body.get("team"), dict) else ""
    if not isinstance(domain, str) or not re.fullmatch(r"[a-z0-9-]{1,100}", domain or ""):
        return ""
    if not re.fullmatch(r"[0-9]{1,12}\.[0-9]{1,8}", ts) or not re.fullmatch(
        r"[A-Z0-9]{1,40}", channel
    ):
        return ""
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def _from_shortcut(body: dict, client: AsyncWebClient, dialogs: object = None) -> Translated:
    """A message shortcut (``message_action``): the shortcut's callback id is the
    action, and the message it was used on is ``Incoming.shared``."""
    channel = body["channel"]["id"]
    place = _place_from(body, channel, body["channel"].get("name", ""))
    user = body["user"]
    actor = Actor("slack", user["id"], user.get("name") or user.get("username", ""))
    msg = body["message"]
    stamp = body.get("action_ts") or trigger_key(body["trigger_id"])
    ts = str(msg.get("ts") or body.get("message_ts") or "")
    author = msg["user"] if isinstance(msg.get("user"), str) else ""
    shared = SharedMessage(
        key=f"slack:{place.workspace}:{channel}:{ts}",
        author=Actor("slack", author, "" if author else str(msg.get("username") or "an app")),
        text=command_text(str(msg.get("text") or "")),
        at=_slack_time(ts),
        link=message_link(body, channel, ts),
    )
    incoming = Incoming(
        actor=actor,
        place=place,
        kind="action",
        delivery_id=f"slack:act:{user['id']}:{stamp}",
        action_id=plain(body["callback_id"]),
        shared=shared,
    )
    return incoming, SlackResponder(client, place, actor, response_url_of(body, client))


def _from_files(body: dict, client: AsyncWebClient, dialogs: object = None) -> Translated:
    """A message with files in a conversation (subtype ``file_share``): the files, for
    a feature that keeps them (the bot token fetches them: ``SlackTransport.download``)."""
    incoming, responder = _from_event(body, client)
    files = tuple(
        FileRef(
            "slack",
            str(f["id"]),
            str(f.get("name") or f.get("title") or ""),
            f.get("size") if isinstance(f.get("size"), int) else None,
            source=str(f.get("url_private_download") or f.get("url_private") or ""),
        )
        for f in body["event"]["files"]
        if isinstance(f, dict) and f.get("id") and f.get("mode") != "tombstone"
    )
    return replace(incoming, kind="files", text="", files=files), responder


def _from_view(
    body: dict, client: AsyncWebClient, dialogs: DeliveryDialogs | None = None
) -> Translated:
    """A submitted modal (``view_submission``): the action of the form's submit button,
    with what was typed, in the conversation the modal was opened from (all from its
    sealed metadata, bot/adapters/slack/dialogs.py). A modal that is not ours can't be
    read (ValueError)."""
    view = body["view"]
    user = body["user"]
    submitted = dialogs.dialogs.read(view, user["id"]) if dialogs is not None else None
    if dialogs is None or submitted is None:
        raise ValueError("a view submission whose metadata is not ours")
    channel = submitted.channel
    place = Place(
        "slack",
        body.get("team", {}).get("id", "") or user.get("team_id", ""),
        channel,
        is_direct=channel.startswith("D"),
        thread=submitted.thread,
        enterprise=_enterprise(body),
    )
    actor = Actor("slack", user["id"], user.get("name") or user.get("username", ""))
    form: dict[str, str] = {}
    blocks: dict[str, str] = {}  # input name -> block id, for corrections under a field
    for block_id, inputs in (view.get("state") or {}).get("values", {}).items():
        for action_id, state in inputs.items():
            val = state.get("value") or (state.get("selected_option") or {}).get("value")
            form[plain(action_id)] = str(val or "")
            blocks[plain(action_id)] = str(block_id)
    incoming = Incoming(
        actor=actor,
        place=place,
        kind="action",
        delivery_id=view_delivery_id(body),
        action_id=plain(submitted.action_id),
        value=submitted.value,
        form=form,
        dialog=True,
    )
    responder = SubmissionResponder(
        client, place, actor, dialogs.dialogs.answers, incoming.delivery_id, blocks
    )
    return incoming, responder


def _from_event(body: dict, client: AsyncWebClient, dialogs: object = None) -> Translated:
    event = body["event"]
    channel = event.get("channel", "")
    place = Place(
        "slack",
        body.get("team_id", ""),
        channel,
        is_direct=event.get("channel_type") == "im",
        thread=event.get("thread_ts"),
        enterprise=_enterprise(body),
    )
    actor = Actor("slack", event.get("user", ""))
    incoming = Incoming(
        actor=actor,
        place=place,
        kind="text",
        delivery_id=f"slack:evt:{body.get('event_id')}",
        text=event.get("text", ""),
    )
    return incoming, SlackResponder(client, place, actor)


# What a translator raises for a body of the wrong shape (a list where an object should
# be, a missing field, a number for a name): the delivery can't be read.
UNREADABLE = (KeyError, IndexError, TypeError, AttributeError, ValueError)


def checked(incoming: Incoming) -> Incoming:
    """Refuse (TypeError) a delivery whose fields are not text, as a well-formed Slack
    body's always are: a handler given a list for a user id would fail far from here."""
    texts = (
        incoming.actor.user_id,
        incoming.actor.name,
        incoming.place.workspace,
        incoming.place.channel,
        incoming.delivery_id,
        incoming.command,
        incoming.args,
        incoming.action_id,
        incoming.value,
        incoming.text,
        *(incoming.form.values()),
    )
    optional = (incoming.place.thread, incoming.message.id if incoming.message else None)
    if not all(type(t) is str for t in texts) or not all(
        t is None or type(t) is str for t in optional
    ):
        raise TypeError("a field of the delivery is not text")
    if not incoming.place.channel or not incoming.actor.user_id:
        # Slack always names both; without a channel nothing could be answered or
        # stored (a record's place must say where), so the delivery can't be read.
        raise ValueError("a delivery with no channel or no user")
    ids = (
        incoming.actor.user_id, incoming.place.workspace, incoming.place.channel,
        incoming.delivery_id, incoming.action_id, *optional,
    )  # fmt: skip
    if any(t and _CONTROL.search(t) for t in ids):
        # Slack's ids are letters, digits and punctuation; a control character (a NUL,
        # which PostgreSQL refuses to store) means the body isn't Slack's.
        raise ValueError("an id with a control character")
    if "\x00" in incoming.text or "\x00" in incoming.args or "\x00" in incoming.value:
        # Typed text may hold anything, but nothing can store a NUL: drop it.
        incoming = replace(
            incoming,
            text=incoming.text.replace("\x00", ""),
            args=incoming.args.replace("\x00", ""),
            value=incoming.value.replace("\x00", ""),
        )
    return incoming


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


TRANSLATORS = {
    "command": _from_command,
    "action": _from_action,
    "view": _from_view,
    "event": _from_event,
    "shortcut": _from_shortcut,
    "files": _from_files,
}
