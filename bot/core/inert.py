"""Make text typed by people safe to show anywhere, and short enough to send.

One function, :func:`inert`, takes away what can hide or reorder text: control
characters, bidirectional overrides and isolates (the "Trojan Source" trick that makes
``@evil‮lanigiro`` read as something else), zero-width characters and Unicode
tag characters that smuggle invisible words. Each renderer then escapes its own
markup (mrkdwn, Adaptive Card Markdown, HTML, Markdown reports): stripping is shared,
escaping is not, because every format has different special characters.

:func:`clip` cuts text to a limit and ends it with "…" so a reader can tell it was
cut; :func:`one_line` does both for a subject line, an SMS field or a page summary.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

ELLIPSIS = "…"

# Bidirectional embeddings, overrides and isolates, and the implicit direction marks.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Characters that take no space but are letters to Unicode: Hangul fillers, often used
# to post "blank" names. (Zero-width spaces, joiners, word joiners, soft hyphens and the
# byte order mark are format characters, removed with the rest below.)
_BLANK_LETTERS = "\u115f\u1160\u3164\uffa0"
_ZWJ = "\u200d"
_TAGS = (0xE0000, 0xE007F)  # tag characters: invisible text, except in 🏴 flag sequences

_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x0b\x0c\x85]")
_PICTOGRAPHIC = "\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u20e3"
_LONE_ZWJ = re.compile(f"(?<![{_PICTOGRAPHIC}])\u200d|\u200d(?![{_PICTOGRAPHIC}])")
_TAG_RUN = re.compile("(\U0001f3f4)?([\U000e0000-\U000e007f]+)")


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


@lru_cache(maxsize=1)
def _hidden() -> re.Pattern[str]:
    """Every character to remove outright: Cc (C0/C1 controls and DEL, but not newline
    or tab), Cf (invisible format characters, bidi controls among them), Cs (lone
    surrogates, not valid UTF-8), noncharacters such as U+FFFE, and blank letters. The
    joiner and tag characters are judged in context instead. Built once, on first use."""
    chars = set(_BIDI + _BLANK_LETTERS)
    for code in range(0x110000):
        if _TAGS[0] <= code <= _TAGS[1] or code in (0x0A, 0x09, 0x200D):
            continue
        if unicodedata.category(chr(code)) in ("Cc", "Cf", "Cs") or _is_noncharacter(code):
            chars.add(chr(code))
    ranges: list[str] = []
    codes = sorted(ord(c) for c in chars)
    first = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code != prev + 1:
            last = "-" + re.escape(chr(prev)) if prev > first else ""
            ranges.append(re.escape(chr(first)) + last)
            first = code
        prev = code
    return re.compile("[" + "".join(ranges) + "]")


def _flag_tags(match: re.Match[str]) -> str:
    return match.group(0) if match.group(1) else ""


def inert(text: object, *, multiline: bool = True) -> str:
    """``text`` without characters that can hide, reorder or disguise what it says.

    Line breaks of every kind become ``\\n``; with ``multiline=False`` all
    whitespace runs (line breaks and tabs included) become one space, for fields that
    must stay on one line (a subject, a table cell, a header).
    """
    if text is None:
        return ""
    raw = text if isinstance(text, str) else str(text)
    if raw.isascii() and raw.isprintable():  # the common case: nothing to strip
        return raw if multiline or "  " not in raw else " ".join(raw.split())
    cleaned = _hidden().sub("", _LINE_BREAKS.sub("\n", raw))
    if _ZWJ in cleaned:
        cleaned = _LONE_ZWJ.sub("", cleaned)
    if "\U000e0000" <= max(cleaned, default="\0"):
        cleaned = _TAG_RUN.sub(_flag_tags, cleaned)
    if not multiline:
        cleaned = " ".join(cleaned.split())
    return cleaned


def clip(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else cut to fit and ended with "…"."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    return text[: limit - 1].rstrip() + ELLIPSIS


def one_line(text: object, limit: int = 300) -> str:
    """Inert, on one line and at most ``limit`` characters: for subjects, summaries,
    SMS fields, headers and table cells."""
    return clip(inert(text, multiline=False), limit)


def too_long(what: str, text: str, limit: int) -> str | None:
    """A friendly refusal when ``text`` is over ``limit`` characters, else None.

    Input is measured after :func:`inert`, the way it will be stored and shown."""
    length = len(inert(text))
    if length <= limit:
        return None
    return (
        f"That {what} is {length:,} characters long; the limit is {limit:,}. "
        "Please shorten it and send it again."
    )
