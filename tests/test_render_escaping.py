"""User text is shown as typed on every platform: it never becomes a mention, a link,
formatting or HTML. Each renderer is checked with the same hostile strings."""

from __future__ import annotations

import json
import random
import re

import pytest

from bot.core.inert import inert, one_line
from bot.core.model import Actions, Button, Context, Heading, Message, Section
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


def links_out(text: str) -> str:
    """mrkdwn without its links, each of which must show its own address."""
    return re.sub(r"<https?://[^<>|\s]+>", "", text)


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
        # The only link is an address written as a link to itself.
        assert "<" not in links_out(text) and ">" not in links_out(text), text
        assert "&lt;!channel&gt;" in text
        assert "&lt;<http://evil.example>|gov.uk&gt;" in text
        assert "[click](<http://evil.example>)" in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&amp; more" in text
        # Slack has no escape for * _ ~ `: marks that could format are swapped for
        # look-alikes, so *bold* shows as typed, not bold.
        assert BOLD not in text and "\u2217bold\u2217" in text
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
    # Plain-text places are not escaped: the fallback and button titles are not Markdown
    # (a title is cut to 75 characters, ending with "…").
    assert card["fallbackText"] == HOSTILE
    action = next(b for b in card["body"] if b["type"] == "ActionSet")["actions"][0]
    assert action["title"] == HOSTILE[:74] + "…" and action["data"]["value"] == HOSTILE


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


# --- hidden characters and limits, for any text ----------------------------------------

HIDDEN = re.compile(
    "[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\x00-\x08\x0b-\x1f\x7f-\x9f\U000e0000-\U000e007f]"
)
TRICKS = [
    "\u202e", "\u2066", "\u2069", "\u200b", "\u200d", "\x00", "\x1b", "\x85", "\r", "\n",
    "<!channel>", "<@U1>", "@here", "<at>", "*", "_", "`", "~", "&", " ", "\t", "é", "👩",
    "\U000e0041", "\ud800", "\ufffe", "abc", "Z9",
]  # fmt: skip


def texts(count: int = 300) -> list[str]:
    """Random mixes of the tricks above and arbitrary code points (seeded: repeatable)."""
    rng = random.Random(12)
    out = []
    for _ in range(count):
        parts = [
            rng.choice(TRICKS) if rng.random() < 0.7 else chr(rng.randrange(0, 0x110000))
            for _ in range(rng.randrange(0, 30))
        ]
        out.append("".join(parts))
    return out


def test_inert_text_has_nothing_hidden_and_keeps_what_is_shown():
    for text in texts():
        out = inert(text)
        assert not HIDDEN.search(out.replace("\n", " ").replace("\t", " ")), repr(text)
        assert inert(out) == out  # once is enough
        shown = [c for c in text if c.isalnum() and c.isascii()]
        assert [c for c in out if c.isalnum() and c.isascii()] == shown
        out.encode("utf-8")  # no lone surrogates left


def test_every_renderer_keeps_its_limits_for_any_text():
    for n, text in enumerate(texts(120)):
        limit = 1 + n % 60
        line = one_line(text, limit)
        assert len(line) <= limit and "\n" not in line
        body = slack.render(Message(text * 200, (Heading(text * 20 or "x"), Section(text * 200))))
        for t in _mrkdwn_texts(body):
            assert "<" not in links_out(t) and ">" not in links_out(t), repr(text)
            assert len(t) <= 3000, repr(text)
            assert not HIDDEN.search(t.replace("\n", " ").replace("\t", " ")), repr(text)
        assert body["blocks"][0]["type"] == "header"
        assert 0 < len(body["blocks"][0]["text"]["text"]) <= 150
        card = teams.render_card(Message(text, (Section(text * 1000),)))
        assert teams.size(card) <= teams.MAX_CARD_BYTES
        json.dumps(web.render(Message(text)), ensure_ascii=False).encode("utf-8")


def test_a_message_over_fifty_blocks_says_what_is_left_out():
    body = slack.render(Message("many", tuple(Section(f"line {n}") for n in range(80))))
    assert len(body["blocks"]) == 50
    assert body["blocks"][-1]["type"] == "context"
    assert "31 more parts" in body["blocks"][-1]["elements"][0]["text"]
