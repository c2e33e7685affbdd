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

ELLIPSIS = "…"

# Bidirectional embeddings, overrides and isolates, and the implicit direction marks.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Characters that take no space: zero-width space and non-joiner, word joiner,
# invisible operators, Mongolian vowel separator, byte order mark, soft hyphen,
# Hangul fillers (often used to post "blank" names).
_INVISIBLE = (
    "\u00ad\u180e\u200b\u200c\u2060\u2061\u2062\u2063\u2064\ufeff\u115f\u1160\u3164\uffa0"
)
_ZWJ = "\u200d"
_TAG_FLAG = "\U0001f3f4"  # the black flag that tag characters follow in 🏴󠁧󠁢󠁷󠁬󠁳󠁿 (Wales)

_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x0b\x0c\x85]")


def _is_pictographic(char: str) -> bool:
    """Emoji that a zero-width joiner may join (👩‍💻), or their modifiers."""
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or code in (0xFE0F, 0x20E3, 0x2640, 0x2642, 0x2695, 0x2696, 0x2708, 0x2764)
    )


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def _keep(char: str, prev: str, nxt: str, in_flag: bool) -> bool:
    if char in "\n\t":
        return True  # handled by the caller (kept, or turned into spaces)
    if char in _BIDI or char in _INVISIBLE:
        return False
    if char == _ZWJ:
        # Kept only inside an emoji sequence, where it changes no words.
        return bool(prev) and bool(nxt) and _is_pictographic(prev) and _is_pictographic(nxt)
    code = ord(char)
    if 0xE0000 <= code <= 0xE007F:  # tag characters: only within a flag sequence
        return in_flag
    # Cc: C0/C1 controls and DEL; Cs: lone surrogates (not valid UTF-8); Cf: other
    # invisible format characters. Unassigned code points stay (a new emoji is one to
    # an older Python) apart from the noncharacters such as U+FFFE.
    return unicodedata.category(char) not in ("Cc", "Cs", "Cf") and not _is_noncharacter(code)


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
    raw = _LINE_BREAKS.sub("\n", raw)
    out: list[str] = []
    in_flag = False
    for i, char in enumerate(raw):
        prev = out[-1] if out else ""
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if char == _TAG_FLAG:
            in_flag = True
        elif not 0xE0000 <= ord(char) <= 0xE007F:
            in_flag = False
        if _keep(char, prev, nxt, in_flag):
            out.append(char)
    cleaned = "".join(out)
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
