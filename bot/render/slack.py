"""Block Kit rendering, built with ``slack_sdk.models.blocks`` so Slack's limits are checked.

Text is plain in the neutral model, so everything that could make it more than text is
taken away here, including in the top-level ``text`` fallback that notifications use:

- control, bidi and invisible characters (:func:`bot.core.inert.inert`);
- ``&``, ``<`` and ``>`` escaped, the only characters Slack lets an app escape, so text
  never becomes a mention (``<@U1>``, ``<!channel>``) or a disguised link (a web address
  becomes a link showing that same address);
- ``@here``, ``@channel`` and ``@everyone`` written with a full-width "＠", and mrkdwn
  marks (``*`` ``_`` ``~`` `````) that could start formatting, or a ">" quote at the
  start of a line, swapped for look-alikes: Slack has no escape for them. Marks inside a
  word (``dept_comms``, ``2*3``) can't format anything and are left alone;
- mrkdwn objects are ``verbatim``, so Slack does not turn names or URLs into links.

Every limit is kept: section text 3,000 characters, fields 10 × 2,000, header 150,
button and option labels 75, context elements 10, 25 elements in a row (an overflow
menu, five options at most, is one of them), 50 blocks (the 50th then
says how many more parts were left out), and 3,000 for the fallback text (Slack
truncates a top-level ``text`` beyond 40,000 and recommends under 4,000).
"""

from __future__ import annotations

import re
from functools import lru_cache

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    InteractiveElement,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot.core.actions import unique
from bot.core.inert import ELLIPSIS, clip, inert, one_line
from bot.core.model import (
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

MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_TEXT = 3000
MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_LABEL = 75
MAX_OVERFLOW = 5  # options in an overflow menu

_SPECIAL = re.compile(r"(?<!\w)@(here|channel|everyone)\b", re.IGNORECASE)
_QUOTE = re.compile(r"^([ \t]*)&gt;", re.MULTILINE)
_MARKS = {"*": "\u2217", "_": "\uff3f", "~": "\u223c", "`": "\u02cb"}
_MARK = re.compile(r"[*_~`]")
_URL = re.compile(r"https?://[^\s<>|\"'`]+")
_URL_TRAIL = ".,;:!?)]}*_~"


def _unmark(match: re.Match[str]) -> str:
    text, i = match.string, match.start()
    before = text[i - 1] if i else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if before.isalnum() and after.isalnum():
        return match.group()  # inside a word: Slack formats nothing there
    return _MARKS[match.group()]


def _plain(text: str) -> str:
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = _SPECIAL.sub(lambda m: "\uff20" + m.group(1), out)
    out = _QUOTE.sub(lambda m: m.group(1) + "\uff1e", out)
    return _MARK.sub(_unmark, out)


def escape(text: str) -> str:
    """Inert text as mrkdwn that shows exactly what was typed (see the module notes).

    A web address is written as an explicit link to itself, ``<https://…>``: with
    ``verbatim`` Slack would not link it, and a source's address should be one click
    away. Its text is the address, so it can't pass for anything else."""
    plain = inert(text)
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(plain):
        url = match.group().rstrip(_URL_TRAIL)
        if len(url) <= len("https://"):
            continue
        parts += [_plain(plain[last : match.start()]), "<" + url.replace("&", "&amp;") + ">"]
        last = match.start() + len(url)
    parts.append(_plain(plain[last:]))
    return "".join(parts)


def _clip(text: str, limit: int) -> str:
    """Plain text (headers, buttons, options) on one line, at most ``limit`` characters."""
    return one_line(text, limit)


def _escape_clip(text: str, limit: int) -> str:
    """Escaped text of at most ``limit`` characters, never cut inside an ``&amp;``:
    the cut is made in the typed text, which is then escaped again."""
    out = escape(text)
    if len(out) <= limit:
        return out
    plain = inert(text)
    low, high = 0, len(plain)
    while low < high:  # the longest prefix whose escaped form fits with the "…"
        mid = (low + high + 1) // 2
        if len(escape(plain[:mid].rstrip())) + 1 <= limit:
            low = mid
        else:
            high = mid - 1
    return escape(plain[:low].rstrip()) + ELLIPSIS


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)


def block_model(i: int, blk) -> object | None:
    """One neutral block as a slack_sdk model (``i`` is its position in the message)."""
    if isinstance(blk, Heading):
        return HeaderBlock(text=PlainTextObject(text=_clip(blk.text, MAX_HEADER) or "—"))
    if isinstance(blk, Section):
        fields = [
            _mrkdwn(f"*{_escape_clip(k, 200)}*\n{_escape_clip(v, MAX_FIELD - 210)}")
            for k, v in blk.fields[:10]
        ]
        shown = _escape_clip(blk.text, MAX_SECTION) if blk.text else ""
        text = _mrkdwn(shown) if shown.strip() else None
        if text is None and not fields:
            return None
        return SectionBlock(text=text, fields=fields or None)
    if isinstance(blk, Actions):
        elements: list[InteractiveElement] = [
            ButtonElement(
                text=_clip(b.label, MAX_LABEL),
                # Slack wants action ids unique within a block; the adapter strips "#n".
                action_id=unique(b.action_id, i, j),
                value=b.value or None,
                style=b.style,
                accessibility_label=_clip(b.accessibility_label, MAX_LABEL) or None,
            )
            for j, b in enumerate(blk.buttons[: 24 if blk.menu else 25])
        ]
        if blk.menu is not None:
            elements.append(_overflow(i, len(elements), blk.menu))
        return ActionsBlock(elements=elements)
    if isinstance(blk, Select):
        select = StaticSelectElement(
            action_id=unique(blk.action_id, i),
            placeholder=_clip(blk.placeholder, MAX_HEADER),
            options=[
                Option(label=_clip(c.label, MAX_LABEL), value=c.value) for c in blk.choices[:100]
            ],
        )
        return ActionsBlock(elements=[select])
    if isinstance(blk, PersonPicker):
        # Slack's user menu sends only the chosen user, so the picker's value travels in
        # the block id ("p<i>:<value>"), which the adapter reads back.
        picker = UserSelectElement(
            action_id=unique(blk.action_id, i), placeholder=_clip(blk.placeholder, MAX_HEADER)
        )
        return ActionsBlock(block_id=picker_block_id(i, blk.value), elements=[picker])
    if isinstance(blk, Context):
        lines = [shown for line in blk.lines if (shown := _escape_clip(line, MAX_TEXT)).strip()]
        texts = [_mrkdwn(line) for line in lines[:10]]
        return ContextBlock(elements=texts) if texts else None
    if isinstance(blk, Divider):
        return DividerBlock()
    if isinstance(blk, TextInput):
        # An input block in a message: what is typed comes with the next button click
        # on the message (block_actions ``state.values``), read back by the adapter.
        return InputBlock(
            block_id=f"in{i}",
            label=_clip(blk.label, MAX_HEADER) or "—",
            optional=True,
            element=PlainTextInputElement(
                action_id=blk.name,
                placeholder=_clip(blk.placeholder, MAX_HEADER) or None,
                max_length=min(blk.max_length, 3000),
                multiline=blk.multiline or None,
                initial_value=clip(inert(blk.initial), min(blk.max_length, 3000)) or None,
            ),
        )
    return None


PICKER_BLOCK = "p"


def picker_block_id(i: int, value: str) -> str:
    """The block id that carries a person picker's value (at most 255 characters)."""
    return f"{PICKER_BLOCK}{i}:{value}"


def picker_value(block_id: str) -> str:
    """The value :func:`picker_block_id` put in a block id."""
    return block_id.partition(":")[2] if block_id.startswith(PICKER_BLOCK) else ""


def _overflow(i: int, j: int, menu: Menu) -> OverflowMenuElement:
    """A row's menu as Slack's overflow ("⋯"), which holds at most five options."""
    return OverflowMenuElement(
        action_id=unique(menu.action_id, i, j),
        options=[
            Option(label=_clip(c.label, MAX_LABEL), value=c.value)
            for c in menu.choices[:MAX_OVERFLOW]
        ],
    )


@lru_cache(maxsize=4096)
def _cached_block(i: int, blk) -> dict | None:
    model = block_model(i, blk)
    return model.to_dict() if model is not None else None  # type: ignore[attr-defined]


@lru_cache(maxsize=4096)
def _button_shape(i: int, j: int, label: str, action_id: str, style: str | None) -> dict:
    """A button rendered by slack_sdk, without its value (which varies per message)."""
    button = ButtonElement(
        text=_clip(label, MAX_LABEL),
        # Slack wants action ids unique within a block; the adapter strips "#n".
        action_id=unique(action_id, i, j),
        style=style,
    )
    return button.to_dict()


def _actions(i: int, blk: Actions) -> dict:
    """Buttons carry per-message values (a question's post id), so a whole actions block
    rarely repeats; each button's shape does. slack_sdk builds and checks each shape
    once; the value is checked against the same limit and filled in."""
    elements = []
    for j, b in enumerate(blk.buttons[: 24 if blk.menu else 25]):
        element = dict(_button_shape(i, j, b.label, b.action_id, b.style))
        if b.value:
            if len(b.value) > ButtonElement.value_max_length:
                raise SlackObjectFormationError(
                    f"value attribute cannot exceed {ButtonElement.value_max_length} characters"
                )
            element["value"] = b.value
        if b.accessibility_label:  # what a screen reader says for a short label ("A")
            element["accessibility_label"] = _clip(b.accessibility_label, MAX_LABEL)
        elements.append(element)
    if blk.menu is not None:
        elements.append(_overflow(i, len(elements), blk.menu).to_dict())
    return {"type": "actions", "elements": elements}


def _rendered_block(i: int, blk) -> dict | None:
    if isinstance(blk, Actions) and blk.buttons:
        return _actions(i, blk)
    try:
        return _cached_block(i, blk)
    except TypeError:  # a block holding something unhashable: render it afresh
        model = block_model(i, blk)
        return model.to_dict() if model is not None else None  # type: ignore[attr-defined]


def render_blocks(msg: Message, skip: int | None = None) -> list[dict]:
    """Each block is rendered and cached on its own: a question posted to many channels
    differs from the last only in its buttons' values, so its heading and text are
    built once, not once per post. The block at ``skip`` is left out (a modal's own
    submit and close buttons), and the others keep their positions' ids."""
    blocks = [
        b
        for i, blk in enumerate(msg.blocks)
        if i != skip and (b := _rendered_block(i, blk)) is not None
    ]
    if len(blocks) > MAX_BLOCKS:
        left_out = len(blocks) - (MAX_BLOCKS - 1)
        note = f"{left_out} more parts of this message are not shown: Slack allows 50."
        blocks = [*blocks[: MAX_BLOCKS - 1], ContextBlock(elements=[_mrkdwn(note)]).to_dict()]
    return blocks


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
    return {"text": _escape_clip(msg.text, MAX_TEXT), "blocks": blocks}
