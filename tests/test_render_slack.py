"""Block Kit rendering: every block is slack_sdk's own output, including the fast path
that fills per-message button values into button shapes slack_sdk built once."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackObjectFormationError

from bot.core.model import Actions, Button, Context, Heading, Message, Section
from bot.render.slack import block_model, render, render_blocks


def _reference(msg: Message) -> list[dict]:
    """Every block built and checked by slack_sdk's models, nothing cached."""
    out = []
    for i, blk in enumerate(msg.blocks):
        model = block_model(i, blk)
        if model is not None:
            out.append(model.to_dict())
    return out


MESSAGES = [
    Message(
        text="q",
        blocks=(
            Heading("Quiz"),
            Section("Which of these <is> & is not?", fields=(("A", "b"),)),
            Actions(
                (
                    Button("Yes", "quiz:answer", "12:0", "primary"),
                    Button("A very long label " * 6, "quiz:answer", "12:1"),
                    Button("Close early", "quiz:close", "", "danger"),
                )
            ),
            Context(("Source: NCSC",)),
        ),
    ),
    Message(text="t", blocks=(Actions((Button("Useful", "tip:vote", "t1|useful"),)),)),
]


@pytest.mark.parametrize("msg", MESSAGES)
def test_rendered_blocks_match_slack_sdk(msg):
    assert render_blocks(msg) == _reference(msg)
    # Again, now from the caches, and with different values in the same shapes.
    assert render(msg)["blocks"] == _reference(msg)
    changed = Message(
        text=msg.text,
        blocks=tuple(
            Actions(
                tuple(Button(b.label, b.action_id, f"{b.value}9", b.style) for b in blk.buttons)
            )
            if isinstance(blk, Actions)
            else blk
            for blk in msg.blocks
        ),
    )
    assert render_blocks(changed) == _reference(changed)


def test_a_button_value_over_slacks_limit_is_refused_like_slack_sdk_does():
    msg = Message(text="x", blocks=(Actions((Button("Go", "a:b", "v" * 2001),)),))
    with pytest.raises(SlackObjectFormationError):
        _reference(msg)
    with pytest.raises(SlackObjectFormationError):
        render_blocks(msg)
