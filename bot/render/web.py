"""Web chat JSON: the neutral model nearly as is; the page sets text with textContent.

The page never parses text as HTML, so nothing is escaped here; text is made inert
(control, bidi and invisible characters removed) and bounded like every other channel.
"""

from __future__ import annotations

from bot.core.inert import clip, inert, one_line
from bot.core.model import (
    PERSON_FIELD,
    Actions,
    Context,
    Divider,
    Heading,
    Message,
    PersonPicker,
    Section,
    Select,
    TextInput,
)

MAX_TEXT = 20_000
MAX_LABEL = 200


def _text(text: str) -> str:
    return clip(inert(text), MAX_TEXT)


def _label(text: str) -> str:
    return one_line(text, MAX_LABEL)


def render(msg: Message) -> dict:
    blocks: list[dict] = []
    for blk in msg.blocks:
        if isinstance(blk, Heading):
            blocks.append({"type": "heading", "text": _label(blk.text)})
        elif isinstance(blk, Section):
            blocks.append(
                {
                    "type": "section",
                    "text": _text(blk.text),
                    "fields": [{"label": _label(k), "value": _text(v)} for k, v in blk.fields],
                }
            )
        elif isinstance(blk, Actions):
            blocks.append(
                {
                    "type": "actions",
                    "buttons": [
                        {
                            "label": _label(b.label),
                            "action_id": b.action_id,
                            "value": b.value,
                            "style": b.style,
                            # What a screen reader says (aria-label) and a toggle's
                            # state (aria-pressed); both optional.
                            "spoken": _label(b.accessibility_label),
                            "pressed": b.pressed,
                        }
                        for b in blk.buttons
                    ],
                }
            )
            if blk.menu is not None:
                # The page shows a drop-down for the row's menu (one control, like Slack's
                # overflow menu); choosing sends the choice's value with the menu's id.
                blocks.append(
                    {
                        "type": "select",
                        "action_id": blk.menu.action_id,
                        "placeholder": _label(blk.menu.label),
                        "choices": [
                            {"label": _label(c.label), "value": c.value} for c in blk.menu.choices
                        ],
                    }
                )
        elif isinstance(blk, Select):
            blocks.append(
                {
                    "type": "select",
                    "action_id": blk.action_id,
                    "placeholder": _label(blk.placeholder),
                    "choices": [{"label": _label(c.label), "value": c.value} for c in blk.choices],
                }
            )
        elif isinstance(blk, PersonPicker):
            # The web chat has no directory: the picker lists its users. The page sends
            # the choice as the form field ``field``, with the picker's own value.
            blocks.append(
                {
                    "type": "select",
                    "action_id": blk.action_id,
                    "placeholder": _label(blk.placeholder),
                    "value": blk.value,
                    "field": PERSON_FIELD,
                    "choices": [{"label": _label(c.label), "value": c.value} for c in blk.choices],
                }
            )
        elif isinstance(blk, TextInput):
            # The page sends what was typed in a message's inputs, by name, as the form
            # of the next button click on that message.
            blocks.append(
                {
                    "type": "input",
                    "name": blk.name,
                    "label": _label(blk.label),
                    "placeholder": _label(blk.placeholder),
                    "max_length": blk.max_length,
                }
            )
            if blk.multiline:
                blocks[-1]["multiline"] = True
            if blk.initial:  # words to edit
                blocks[-1]["initial"] = clip(inert(blk.initial), blk.max_length)
        elif isinstance(blk, Context):
            blocks.append({"type": "context", "lines": [_text(line) for line in blk.lines]})
        elif isinstance(blk, Divider):
            blocks.append({"type": "divider"})
    out: dict = {"text": _text(msg.text), "blocks": blocks, "private": msg.private}
    if msg.attachment:
        # The report file: made inert, not cut (it is the full record a pointer leads to).
        name, content = msg.attachment
        out["attachment"] = {"filename": _label(name), "content": inert(content)}
    return out
