"""Block Kit rendering: every block is slack_sdk's own output, including the fast path
that fills per-message button values into button shapes slack_sdk built once."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackObjectFormationError

from bot.core.model import Actions, Button, Choice, Context, Heading, Menu, Message, Section
from bot.render import teams, web
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
    Message(
        text="step",
        blocks=(
            Section("1. Tell the press office"),
            Actions(
                (Button("Done", "incident:done", "S|a", "primary"),),
                menu=Menu("More", "incident:step", (Choice("Skip…", "S|a|skip"),)),
            ),
        ),
    ),
]

HOSTILE = "Skip \u202e<!channel> *now*\x07 " + "x" * 100
MENU_ROW = Actions(
    (Button("Done", "incident:done", "S|a", "primary"),),
    menu=Menu(
        "More", "incident:step", tuple(Choice(f"{HOSTILE}{n}", f"S|a|{n}") for n in range(7))
    ),
)


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


def test_a_row_menu_is_one_control_on_every_platform():
    """Slack: an overflow menu after the buttons (five options at most, labels plain and
    cut to 75); Teams: one Action.ShowCard holding the choices; web chat: a drop-down."""
    msg = Message(text="m", blocks=(MENU_ROW,))
    (row,) = render(msg)["blocks"]
    assert [e["type"] for e in row["elements"]] == ["button", "overflow"]
    overflow = row["elements"][1]
    assert overflow["action_id"].split("#")[0] == "incident:step"
    assert [o["value"] for o in overflow["options"]] == [f"S|a|{n}" for n in range(5)]
    for option in overflow["options"]:
        label = option["text"]["text"]
        assert len(label) <= 75 and "\u202e" not in label and "\x07" not in label

    (action_set,) = teams.render_card(msg)["body"]
    done, more = action_set["actions"]
    assert done["type"] == "Action.Execute" and more["type"] == "Action.ShowCard"
    choices = more["card"]["actions"]
    assert [c["verb"] for c in choices] == ["incident:step"] * 7
    assert [c["data"]["value"] for c in choices] == [f"S|a|{n}" for n in range(7)]
    assert all("\u202e" not in c["title"] and len(c["title"]) <= 75 for c in choices)

    actions, select = web.render(msg)["blocks"]
    assert [b["label"] for b in actions["buttons"]] == ["Done"]
    assert select["type"] == "select" and select["action_id"] == "incident:step"
    assert select["placeholder"] == "More" and len(select["choices"]) == 7
    assert all("\u202e" not in c["label"] for c in select["choices"])
