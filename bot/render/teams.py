"""Adaptive Card 1.5 rendering for Teams.

Buttons are ``Action.Execute`` (Universal Actions), so a click reaches the bot as an
``adaptiveCard/action`` invoke whose response can be a card for the clicking user
only. The data also carries ``action_id``/``value`` so ``Action.Submit`` style
clients work the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.core.inert import clip, inert, one_line
from bot.core.model import (
    PERSON_FIELD,
    Actions,
    Context,
    Divider,
    Heading,
    Menu,
    Message,
    PersonPicker,
    Section,
    Select,
    TextInput,
)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

# Teams refuses an activity over about 28 KB. The card gets 26,000 bytes, leaving room
# for what botbuilder adds around it (conversation, sender, service URL, channel data).
MAX_ACTIVITY_BYTES = 28_000
MAX_CARD_BYTES = 26_000
MAX_LABEL = 75
MAX_FALLBACK = 1000
CAPS = (4000, 2000, 1000, 500, 250)  # per-text limits tried in turn to make a card fit
TOO_LONG = "Some of this message is not shown here: it is too long for Teams."

# Adaptive Cards understand only a subset of CommonMark: **bold**, _italic_, [links](url)
# and "- " or "1. " lists (learn.microsoft.com/adaptive-cards/authoring-cards/text-features).
# Only what could start one of those (or an <at> mention tag) is escaped, so everyday
# punctuation such as a full stop never shows a stray backslash in a client that honours
# fewer escapes. Text is made inert first (bot.core.inert).
_INLINE = re.compile(r"([\\`*_~\[\]<>])")
_LIST_MARK = re.compile(r"^([ \t]*)(?:([-+])|(\d{1,9})([.)]))(?=[ \t]|$)", re.MULTILINE)


def _unlist(match: re.Match[str]) -> str:
    indent, bullet, number, delim = match.groups()
    return f"{indent}\\{bullet}" if bullet else f"{indent}{number}\\{delim}"


def escape(text: str, cap: int | None = None) -> str:
    """Inert text, backslash-escaped where Adaptive Cards would read Markdown or an
    ``<at>`` mention tag, so it shows as typed; cut to ``cap`` characters first."""
    plain = inert(text)
    if cap is not None:
        plain = clip(plain, cap)
    return _LIST_MARK.sub(_unlist, _INLINE.sub(r"\\\1", plain))


def _plain(text: str, limit: int) -> str:
    """Text Teams shows without Markdown (titles, choices): inert, one line, cut."""
    return one_line(text, limit)


def _action(action_id: str, value: str, label: str, style: str | None = None) -> dict:
    action = {
        "type": "Action.Execute",
        "title": _plain(label, MAX_LABEL),
        "verb": action_id,
        "data": {"action_id": action_id, "value": value},
    }
    if style == "primary":
        action["style"] = "positive"
    elif style == "danger":
        action["style"] = "destructive"
    return action


def _show_card(menu: Menu) -> dict:
    """A row's menu as ``Action.ShowCard``: one control that opens a small card of
    choices below the row (Teams' nearest thing to an overflow menu)."""
    return {
        "type": "Action.ShowCard",
        "title": _plain(menu.label, MAX_LABEL),
        "card": {
            "type": "AdaptiveCard",
            "body": [],
            "actions": [_action(menu.action_id, c.value, c.label) for c in menu.choices],
        },
    }


def _text_block(text: str, cap: int | None, **style: Any) -> dict:
    return {"type": "TextBlock", "text": escape(text, cap), "wrap": True, **style}


def _body(blocks: tuple, cap: int | None) -> list[dict]:
    body: list[dict] = []
    for i, blk in enumerate(blocks):
        if isinstance(blk, Heading):
            body.append(_text_block(blk.text, cap, weight="Bolder", size="Medium"))
        elif isinstance(blk, Section):
            if blk.text:
                body.append(_text_block(blk.text, cap))
            if blk.fields:
                facts = [{"title": escape(k, 200), "value": escape(v, cap)} for k, v in blk.fields]
                body.append({"type": "FactSet", "facts": facts})
        elif isinstance(blk, Actions):
            body.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        *(_action(b.action_id, b.value, b.label, b.style) for b in blk.buttons),
                        *((_show_card(blk.menu),) if blk.menu else ()),
                    ],
                }
            )
        elif isinstance(blk, Select):
            input_id = f"choice_{i}"
            body.append(
                {
                    "type": "Input.ChoiceSet",
                    "id": input_id,
                    "placeholder": _plain(blk.placeholder, MAX_LABEL * 2),
                    "choices": [
                        {"title": _plain(c.label, MAX_LABEL), "value": c.value}
                        for c in blk.choices
                    ],
                }
            )
            body.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        {
                            "type": "Action.Execute",
                            "title": "Choose",
                            "verb": blk.action_id,
                            "data": {"action_id": blk.action_id, "input": input_id},
                        }
                    ],
                }
            )
        elif isinstance(blk, PersonPicker):
            body += _person_picker(blk)
        elif isinstance(blk, TextInput):
            # Action.Execute sends every input's value in its data: the adapter passes
            # them on as the form.
            body.append(
                {
                    "type": "Input.Text",
                    "id": blk.name,
                    "label": _plain(blk.label, MAX_LABEL * 2),
                    "placeholder": _plain(blk.placeholder, MAX_LABEL * 2),
                    "maxLength": blk.max_length,
                }
            )
            if blk.multiline:
                body[-1]["isMultiline"] = True
            if blk.initial:  # words to edit
                body[-1]["value"] = clip(inert(blk.initial), blk.max_length)
        elif isinstance(blk, Context):
            body.extend(
                _text_block(line, cap, isSubtle=True, size="Small") for line in blk.lines
            )
        elif isinstance(blk, Divider):
            body.append({"type": "TextBlock", "text": " ", "separator": True})
    return body


# Teams fills a people picker from Microsoft Graph: the organisation's directory.
PEOPLE_DATASET = "graph.microsoft.com/users"


def _person_picker(blk: PersonPicker) -> list[dict]:
    """A Teams people picker (``Input.ChoiceSet`` searching the directory) and a button
    that sends the choice. The input's id is the form field the choice arrives in (the
    person's Entra object id), and the button's data keeps the picker's value."""
    return [
        {
            "type": "Input.ChoiceSet",
            "id": PERSON_FIELD,
            "label": _plain(blk.placeholder, MAX_LABEL * 2),
            "placeholder": _plain(blk.placeholder, MAX_LABEL * 2),
            "isMultiSelect": False,
            "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": PEOPLE_DATASET},
        },
        {
            "type": "ActionSet",
            "actions": [
                {
                    "type": "Action.Execute",
                    "title": "Choose",
                    "verb": blk.action_id,
                    "data": {"action_id": blk.action_id, "value": blk.value},
                }
            ],
        },
    ]


def _card(msg: Message, blocks: tuple, cap: int | None) -> dict:
    body = _body(blocks, cap)
    if not body:
        body.append(_text_block(msg.text, cap))
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "fallbackText": clip(inert(msg.text), min(cap or MAX_FALLBACK, MAX_FALLBACK)),
        "body": body,
    }


def size(payload: dict) -> int:
    """Bytes of ``payload`` as JSON, counted the way botbuilder sends it (ASCII with
    escapes, the larger form), so "fits" here means fits on the wire."""
    return len(json.dumps(payload, separators=(",", ":")).encode("ascii"))


def _fitted(msg: Message, budget: int) -> dict:
    """The card, made to fit ``budget`` bytes: long texts are cut shorter and shorter;
    if that is not enough, parts from the end give way to a line saying so."""
    for cap in (None, *CAPS):
        card = _card(msg, msg.blocks, cap)
        if size(card) <= budget:
            return card
    blocks = list(msg.blocks)
    while blocks:
        blocks.pop()
        note = Context((TOO_LONG,))
        card = _card(msg, (*blocks, note), CAPS[-1])
        if size(card) <= budget:
            return card
    return _card(msg, (Context((TOO_LONG,)),), CAPS[-1])


def render_card(msg: Message) -> dict:
    """The Adaptive Card for ``msg``, within Teams' size limit for one activity."""
    return _fitted(msg, MAX_CARD_BYTES)


_AT_TAG = re.compile(r"<(/?at\b)", re.IGNORECASE)


def plain_text(text: str) -> str:
    """Text for a plain-text activity: inert, an ``<at>`` tag broken (Teams reads those as
    mentions), and cut to fit the activity limit."""
    out = _AT_TAG.sub("\u2039\\1", inert(text))
    limit = MAX_CARD_BYTES // 6  # every character may be sent as a 6-byte \\uXXXX escape
    if size({"text": out}) > MAX_CARD_BYTES:
        out = clip(out, limit)
    return out


def render_activity(msg: Message) -> dict:
    """An outgoing Bot Framework activity body (as a dict), under Teams' size limit."""
    if not msg.blocks:
        return {"type": "message", "text": plain_text(msg.text), "textFormat": "plain"}
    return {
        "type": "message",
        "summary": one_line(msg.text, 200),
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": render_card(msg)}],
    }
