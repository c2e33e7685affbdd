"""A form (a neutral :class:`~bot.core.model.Message` with ``dialog`` set) as a Slack
modal view for ``views.open``, built with slack_sdk's ``View`` so Slack's limits are
checked: a title and button labels of at most 24 characters, at most 100 blocks,
``private_metadata`` of at most 3,000 characters.

The form's primary button becomes the modal's submit button and another button in the
same row its close button; that row is left out of the modal's blocks. A form with other
buttons, menus or pickers is no modal (each would be a click of its own, which a modal
answers only by redrawing itself): it stays in the message. The other blocks
are rendered exactly as in a message (:func:`bot.render.slack.render_blocks`), so a text
box keeps its block id and name and what was typed comes back in the submission's
``state.values`` as it does from a message.
"""

from __future__ import annotations

from slack_sdk.models.blocks import PlainTextObject
from slack_sdk.models.views import View

from bot.core.inert import one_line
from bot.core.model import Actions, Button, Message, PersonPicker, Select
from bot.render.slack import render_blocks

MAX_TITLE = 24  # a modal's title, submit and close labels
# Blocks whose use arrives as a click of its own (not with the submission).
CLICKED = (Actions, Select, PersonPicker)


def submit_button(msg: Message) -> tuple[int, Button, Button | None] | None:
    """The row holding the form's primary button, that button, and the row's other button
    (the close button), if any; None when the form has no primary button to submit it."""
    for i, blk in enumerate(msg.blocks):
        if not isinstance(blk, Actions):
            continue
        primary = next((b for b in blk.buttons if b.style == "primary"), None)
        if primary is not None:
            other = next((b for b in blk.buttons if b is not primary), None)
            return i, primary, other
    return None


def modal(msg: Message, private_metadata: str) -> dict | None:
    """The ``view`` for ``views.open``; None when ``msg`` can't be a modal (no primary
    button, or no block left to show)."""
    found = submit_button(msg)
    if found is None:
        return None
    row, submit, close = found
    if any(isinstance(b, CLICKED) for i, b in enumerate(msg.blocks) if i != row):
        return None  # a control clicked inside a modal would need views.update: not a modal
    blocks = render_blocks(msg, skip=row)
    if not blocks:
        return None
    view = View(
        type="modal",
        callback_id=submit.action_id,
        title=PlainTextObject(text=one_line(msg.dialog or msg.text, MAX_TITLE) or "secbot"),
        submit=PlainTextObject(text=one_line(submit.label, MAX_TITLE) or "Save"),
        close=PlainTextObject(text=one_line(close.label if close else "", MAX_TITLE) or "Cancel"),
        blocks=blocks,
        private_metadata=private_metadata,
    )
    return view.to_dict()
