"""House terms: one name for each thing, and platform names as the platforms write them.

Six names for two-factor authentication teach a reader that they are six things. So the
content says "two-factor authentication (2FA)" or "2FA" (the GCS training's term), and a
variant is a lint problem that says what to write instead. Platform names follow the
platforms' own spelling (YouTube, LinkedIn, TikTok...). Web and email addresses are left
alone, since "facebook.com/hacked" is an address, not a misspelt name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Addresses are not prose: "facebook.com/hacked", "report@phishing.gov.uk", a full URL.
_ADDRESS = re.compile(
    r"https?://\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b|\b[\w-]+(?:\.[\w-]+)*\.(?:com|uk|org|net)\b\S*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Term:
    """A variant (regex, case-insensitive) and the house term to write instead.

    ``allowed`` lists spellings the pattern matches that are the house term itself, so
    "Youtube" is caught but "YouTube" is not (a case-insensitive lookahead can't tell).
    """

    pattern: re.Pattern[str]
    write: str
    allowed: frozenset[str] = frozenset()


def _term(pattern: str, write: str, *allowed: str, flags: int = re.IGNORECASE) -> Term:
    return Term(re.compile(pattern, flags), write, frozenset(allowed))


_2FA = "2FA (or 'two-factor authentication (2FA)' the first time)"

TERMS: tuple[Term, ...] = (
    # Two-factor authentication: one name. Platforms name their own settings differently;
    # say "2FA" and name the settings area instead.
    _term(r"\btwo[- ]step\b|\b2[- ]step\b|\b2SV\b", _2FA),
    _term(r"\btwo factor\b|\b2[- ]factor\b", _2FA),
    _term(r"\btwo-factor (?!authentication\b)[\w-]+", _2FA),
    # MFA is a wider term; "phishing-resistant MFA" is the NCSC's own phrase, so it stays.
    _term(
        r"(?<!phishing-resistant )\b(?:MFA|multi[- ]factor)\b",
        _2FA + ", unless you mean phishing-resistant MFA",
    ),
    _term(r"\b2fa\b", "2FA", "2FA"),
    _term(r"\bpass[- ]keys?\b", "passkey"),
    _term(r"\bphising\b|\bspear[- ]fishing\b", "phishing"),
    # Platform names as the platforms write them.
    _term(r"\byou ?tube\b", "YouTube", "YouTube"),
    _term(r"\blinkedin\b", "LinkedIn", "LinkedIn"),
    _term(r"\btik ?tok\b", "TikTok", "TikTok"),
    _term(r"\bwhats ?app\b", "WhatsApp", "WhatsApp"),
    _term(r"\bface ?book\b", "Facebook", "Facebook"),
    _term(r"\binsta ?gram\b", "Instagram", "Instagram"),
    _term(
        r"(?<!formerly )\btwitter\b",
        "X (the platform was renamed; 'X, formerly Twitter' is fine)",
    ),
    _term(r"\baccounts? cent(?:re|er)\b", "Accounts Centre", "Accounts Centre"),
)


def variants(text: str) -> list[tuple[str, str]]:
    """(variant as written, what to write) for each non-house term in ``text``."""
    prose = _ADDRESS.sub(" ", text)
    found: list[tuple[str, str]] = []
    for term in TERMS:
        for match in term.pattern.finditer(prose):
            if match.group(0) not in term.allowed:
                found.append((match.group(0), term.write))
    return found
