"""Adaptive Card 1.5 rendering for Teams.

Buttons are ``Action.Execute`` (Universal Actions), so a click reaches the bot as an
``adaptiveCard/action`` invoke whose response can be a card for the clicking user
only. The data also carries ``action_id``/``value`` so ``Action.Submit`` style
clients work the same way.
"""

from __future__ import annotations

import re

from bot.model import Actions, Context, Divider, Heading, Message, Section, Select

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

# Adaptive Cards understand only a subset of CommonMark: **bold**, _italic_, [links](url)
# and "- " or "1. " lists (learn.microsoft.com/adaptive-cards/authoring-cards/text-features).
# Only what could start one of those is escaped, so everyday punctuation such as a full
# stop never shows a stray backslash in a client that honours fewer escapes.
_INLINE = re.compile(r"([\\`*_~\[\]<>])")
_LIST_MARK = re.compile(r"^([ \t]*)(?:([-+])|(\d{1,9})([.)]))(?=[ \t]|$)", re.MULTILINE)


def _unlist(match: re.Match[str]) -> str:
    indent, bullet, number, delim = match.groups()
    return f"{indent}\\{bullet}" if bullet else f"{indent}{number}\\{delim}"


def escape(text: str) -> str:
    """Backslash-escape the Markdown Adaptive Cards interpret, so text shows as typed."""
    return _LIST_MARK.sub(_unlist, _INLINE.sub(r"\\\1", text))


def _action(action_id: str, value: str, label: str, style: str | None = None) -> dict:
    action = {
        "type": "Action.Execute",
        "title": label,
        "verb": action_id,
        "data": {"action_id": action_id, "value": value},
    }
    if style == "primary":
        action["style"] = "positive"
    elif style == "danger":
        action["style"] = "destructive"
    return action


def render_card(msg: Message) -> dict:
    body: list[dict] = []
    for i, blk in enumerate(msg.blocks):
        if isinstance(blk, Heading):
            body.append(
                {
                    "type": "TextBlock",
                    "text": escape(blk.text),
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                }
            )
        elif isinstance(blk, Section):
            if blk.text:
                body.append({"type": "TextBlock", "text": escape(blk.text), "wrap": True})
            if blk.fields:
                body.append(
                    {
                        "type": "FactSet",
                        "facts": [{"title": escape(k), "value": escape(v)} for k, v in blk.fields],
                    }
                )
        elif isinstance(blk, Actions):
            body.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        _action(b.action_id, b.value, b.label, b.style) for b in blk.buttons
                    ],
                }
            )
        elif isinstance(blk, Select):
            input_id = f"choice_{i}"
            body.append(
                {
                    "type": "Input.ChoiceSet",
                    "id": input_id,
                    "placeholder": blk.placeholder,
                    "choices": [{"title": c.label, "value": c.value} for c in blk.choices],
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
        elif isinstance(blk, Context):
            body.extend(
                {
                    "type": "TextBlock",
                    "text": escape(line),
                    "isSubtle": True,
                    "size": "Small",
                    "wrap": True,
                }
                for line in blk.lines
            )
        elif isinstance(blk, Divider):
            body.append({"type": "TextBlock", "text": " ", "separator": True})
    if not body:
        body.append({"type": "TextBlock", "text": escape(msg.text), "wrap": True})
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "fallbackText": msg.text,
        "body": body,
    }


def render_activity(msg: Message) -> dict:
    """An outgoing Bot Framework activity body (as a dict)."""
    if not msg.blocks:
        return {"type": "message", "text": msg.text, "textFormat": "plain"}
    return {
        "type": "message",
        "summary": msg.text[:200],
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": render_card(msg)}],
    }
