"""Web chat JSON: the neutral model nearly as is; the page sets text with textContent."""

from __future__ import annotations

from bot.model import Actions, Context, Divider, Heading, Message, Section, Select


def render(msg: Message) -> dict:
    blocks: list[dict] = []
    for blk in msg.blocks:
        if isinstance(blk, Heading):
            blocks.append({"type": "heading", "text": blk.text})
        elif isinstance(blk, Section):
            blocks.append(
                {
                    "type": "section",
                    "text": blk.text,
                    "fields": [{"label": k, "value": v} for k, v in blk.fields],
                }
            )
        elif isinstance(blk, Actions):
            blocks.append(
                {
                    "type": "actions",
                    "buttons": [
                        {
                            "label": b.label,
                            "action_id": b.action_id,
                            "value": b.value,
                            "style": b.style,
                        }
                        for b in blk.buttons
                    ],
                }
            )
        elif isinstance(blk, Select):
            blocks.append(
                {
                    "type": "select",
                    "action_id": blk.action_id,
                    "placeholder": blk.placeholder,
                    "choices": [{"label": c.label, "value": c.value} for c in blk.choices],
                }
            )
        elif isinstance(blk, Context):
            blocks.append({"type": "context", "lines": list(blk.lines)})
        elif isinstance(blk, Divider):
            blocks.append({"type": "divider"})
    out: dict = {"text": msg.text, "blocks": blocks, "private": msg.private}
    if msg.attachment:
        out["attachment"] = {"filename": msg.attachment[0], "content": msg.attachment[1]}
    return out
