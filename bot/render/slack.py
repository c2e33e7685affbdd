"""Block Kit rendering, built with ``slack_sdk.models.blocks`` so Slack's limits are checked.

Text is escaped for mrkdwn (``&``, ``<``, ``>``, the only characters Slack lets an app
escape) so user input can never become a mention, a channel-wide ping or a disguised
link. That includes the top-level ``text`` fallback, which Slack also parses.
"""

from __future__ import annotations

from functools import lru_cache

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.model import Actions, Context, Divider, Heading, Message, Section, Select

MAX_SECTION = 3000
MAX_FIELD = 2000


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape_clip(text: str, limit: int) -> str:
    """Escaped text of at most ``limit`` characters, never cut inside an ``&amp;``."""
    out = escape(text)
    if len(out) <= limit:
        return out
    pieces: list[str] = []
    used = 0
    for char in text:
        piece = escape(char)
        if used + len(piece) > limit - 1:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces) + "…"


def _block(i: int, blk) -> object | None:
    """One neutral block as a slack_sdk model (``i`` is its position in the message)."""
    if isinstance(blk, Heading):
        return HeaderBlock(text=PlainTextObject(text=_clip(blk.text, 150)))
    if isinstance(blk, Section):
        fields = [
            MarkdownTextObject(text=f"*{_escape_clip(k, 200)}*\n{_escape_clip(v, MAX_FIELD - 210)}")
            for k, v in blk.fields[:10]
        ]
        text = MarkdownTextObject(text=_escape_clip(blk.text, MAX_SECTION)) if blk.text else None
        if text is None and not fields:
            return None
        return SectionBlock(text=text, fields=fields or None)
    if isinstance(blk, Actions):
        elements = [
            ButtonElement(
                text=_clip(b.label, 75),
                # Slack wants action ids unique within a block; the adapter strips "#n".
                action_id=f"{b.action_id}#{i}.{j}",
                value=b.value or None,
                style=b.style,
            )
            for j, b in enumerate(blk.buttons[:25])
        ]
        return ActionsBlock(elements=elements)
    if isinstance(blk, Select):
        select = StaticSelectElement(
            action_id=f"{blk.action_id}#{i}",
            placeholder=_clip(blk.placeholder, 150),
            options=[Option(label=_clip(c.label, 75), value=c.value) for c in blk.choices[:100]],
        )
        return ActionsBlock(elements=[select])
    if isinstance(blk, Context):
        elements = [MarkdownTextObject(text=_escape_clip(line, 3000)) for line in blk.lines[:10]]
        return ContextBlock(elements=elements) if elements else None
    if isinstance(blk, Divider):
        return DividerBlock()
    return None


@lru_cache(maxsize=4096)
def _cached_block(i: int, blk) -> dict | None:
    model = _block(i, blk)
    return model.to_dict() if model is not None else None  # type: ignore[attr-defined]


@lru_cache(maxsize=4096)
def _button_shape(i: int, j: int, label: str, action_id: str, style: str | None) -> dict:
    """A button rendered by slack_sdk, without its value (which varies per message)."""
    button = ButtonElement(
        text=_clip(label, 75),
        # Slack wants action ids unique within a block; the adapter strips "#n".
        action_id=f"{action_id}#{i}.{j}",
        style=style,
    )
    return button.to_dict()


def _actions(i: int, blk: Actions) -> dict:
    """Buttons carry per-message values (a question's post id), so a whole actions block
    rarely repeats; each button's shape does. slack_sdk builds and checks each shape
    once; the value is checked against the same limit and filled in."""
    elements = []
    for j, b in enumerate(blk.buttons[:25]):
        element = dict(_button_shape(i, j, b.label, b.action_id, b.style))
        if b.value:
            if len(b.value) > ButtonElement.value_max_length:
                raise SlackObjectFormationError(
                    f"value attribute cannot exceed {ButtonElement.value_max_length} characters"
                )
            element["value"] = b.value
        elements.append(element)
    return {"type": "actions", "elements": elements}


def _rendered_block(i: int, blk) -> dict | None:
    if isinstance(blk, Actions) and blk.buttons:
        return _actions(i, blk)
    try:
        return _cached_block(i, blk)
    except TypeError:  # a block holding something unhashable: render it afresh
        model = _block(i, blk)
        return model.to_dict() if model is not None else None  # type: ignore[attr-defined]


def render_blocks(msg: Message) -> list[dict]:
    """Each block is rendered and cached on its own: a question posted to many channels
    differs from the last only in its buttons' values, so its heading and text are
    built once, not once per post."""
    blocks = [b for i, blk in enumerate(msg.blocks) if (b := _rendered_block(i, blk)) is not None]
    return blocks[:50]


@lru_cache(maxsize=1024)
def _cached_blocks(msg: Message) -> tuple[dict, ...]:
    return tuple(render_blocks(msg))


def render(msg: Message) -> dict:
    """Keyword arguments for ``chat.postMessage`` and friends: text fallback plus blocks.

    Building blocks through slack_sdk's models is thorough but slow, and the same
    message (a question's feedback, say) is often sent to hundreds of people, so
    rendered blocks are cached by message value. The block dicts are shared between
    callers: treat them as read-only (slack_sdk and the JSON encoder only read them).
    """
    try:
        blocks = list(_cached_blocks(msg))
    except TypeError:  # a message holding something unhashable: render it afresh
        blocks = render_blocks(msg)
    # The top-level text is mrkdwn too (notifications, and clients without blocks).
    return {"text": _escape_clip(msg.text, 3000), "blocks": blocks}
