"""User text is shown as typed on every platform: it never becomes a mention, a link,
formatting or HTML. Each renderer is checked with the same hostile strings."""

from __future__ import annotations

import json

import pytest

from bot.model import Actions, Button, Context, Heading, Message, Section
from bot.render import slack, teams, web

CHANNEL = "<!channel>"
LINK = "<http://evil.example|gov.uk>"
BOLD = "*bold*"
SCRIPT = "<script>alert(1)</script>"
HOSTILE = f"{CHANNEL} {LINK} {BOLD} {SCRIPT} [click](http://evil.example) & more"


def hostile_message() -> Message:
    return Message(
        text=HOSTILE,
        blocks=(
            Heading(HOSTILE),
            Section(HOSTILE, fields=((HOSTILE, HOSTILE),)),
            Context((HOSTILE,)),
            Actions((Button(HOSTILE, "demo:x", HOSTILE),)),
        ),
    )


def _mrkdwn_texts(body: dict) -> list[str]:
    """Every string Slack parses as mrkdwn: the top-level text and each mrkdwn object."""
    found = [body["text"]]

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body["blocks"])
    return found


def test_slack_escapes_control_characters_in_every_mrkdwn_text():
    body = slack.render(hostile_message())
    texts = _mrkdwn_texts(body)
    assert len(texts) == 4  # top-level text, section text, field, context line
    for text in texts:
        assert "<" not in text and ">" not in text, text
        assert "&lt;!channel&gt;" in text
        assert "&lt;http://evil.example|gov.uk&gt;" in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&amp; more" in text
        # Slack offers no escape for * _ ~ `: *bold* may show in bold, which is harmless.
        assert BOLD in text
    # Headings and button labels are plain_text: Slack never parses them.
    plain = [b["text"] for b in body["blocks"] if b["type"] == "header"]
    plain += [e["text"] for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(plain) == 2
    assert all(p["type"] == "plain_text" and p["text"].startswith(CHANNEL) for p in plain)


def test_slack_clipping_never_cuts_an_entity():
    body = slack.render(Message("&" * 2000, (Section("<" * 1000),)))
    assert len(body["text"]) <= 3000 and body["text"].endswith("&amp;…")
    section = body["blocks"][0]["text"]["text"]
    assert len(section) <= 3000 and section.endswith("&lt;…")


def _card_texts(card: dict) -> list[str]:
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    for block in card["body"]:
        if block["type"] == "FactSet":
            texts += [f["title"] for f in block["facts"]] + [f["value"] for f in block["facts"]]
    return texts


def test_teams_escapes_markdown_in_every_card_text():
    card = teams.render_card(hostile_message())
    texts = _card_texts(card)
    assert len(texts) == 5  # heading, section, fact title and value, context line
    for text in texts:
        assert "\\<!channel\\>" in text
        assert "\\<http://evil.example|gov.uk\\>" in text
        assert "\\*bold\\*" in text
        assert "\\<script\\>alert(1)\\</script\\>" in text
        assert "\\[click\\](http://evil.example)" in text
        unescaped = text.replace("\\\\", "")
        for mark in "<>[]*_`":
            assert all(unescaped[i - 1] == "\\" for i, c in enumerate(unescaped) if c == mark), (
                mark,
                text,
            )
    # Plain-text places are left alone: the fallback and button titles are not Markdown.
    assert card["fallbackText"] == HOSTILE
    action = next(b for b in card["body"] if b["type"] == "ActionSet")["actions"][0]
    assert action["title"] == HOSTILE and action["data"]["value"] == HOSTILE


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("- not a list", "\\- not a list"),
        ("1. not a list", "1\\. not a list"),
        ("line\n  2) nor this", "line\n  2\\) nor this"),
        ("Done. It works (really)! #1 -5 + 2", "Done. It works (really)! #1 -5 + 2"),
        ("a\\*b", "a\\\\\\*b"),
    ],
)
def test_teams_escapes_only_what_adaptive_cards_interpret(typed, shown):
    """Everyday punctuation is left alone, so no client shows stray backslashes."""
    assert teams.escape(typed) == shown


def test_teams_plain_message_is_sent_as_plain_text():
    activity = teams.render_activity(Message(HOSTILE))
    assert activity == {"type": "message", "text": HOSTILE, "textFormat": "plain"}


def test_web_json_keeps_text_as_typed_for_textcontent():
    """The web chat page sets every string with textContent (test_webchat checks the
    script never writes HTML), so the JSON carries the text unchanged."""
    out = web.render(hostile_message())
    assert out["text"] == HOSTILE
    assert all(
        HOSTILE in json.dumps(block, ensure_ascii=False).replace('\\"', '"')
        for block in out["blocks"]
    )
