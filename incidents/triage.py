"""The triage questions for a compromised account, and how severity follows from the answers.

Kept free of chat and storage so the rules can be read (and tested) on their own:
platform → what is happening (several) → do we still have admin access → is harmful
content live now. Severity 1 is the worst.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

# (id, label) in the order the buttons show them.
PLATFORMS: tuple[tuple[str, str], ...] = (
    ("x", "X"),
    ("facebook", "Facebook"),
    ("instagram", "Instagram"),
    ("linkedin", "LinkedIn"),
    ("youtube", "YouTube"),
    ("tiktok", "TikTok"),
    ("threads", "Threads"),
    ("other", "Other"),
)
PLATFORM_LABELS = dict(PLATFORMS)
PLATFORM_ALIASES = {"twitter": "x", "fb": "facebook", "ig": "instagram", "yt": "youtube"}

SYMPTOMS: tuple[tuple[str, str], ...] = (
    ("locked-out", "We can't log in"),
    ("rogue-posts", "Posts or messages we didn't send"),
    ("settings-changed", "Security settings, recovery email or phone changed"),
    ("unknown-login", "Login alert from somewhere unknown"),
    ("phished", "A suspicious link was clicked or the password typed into a fake page"),
    ("impersonation", "An impersonation account"),
    ("lost-device", "A lost or stolen device with access"),
)
SYMPTOM_LABELS = dict(SYMPTOMS)

# Flags add playbook steps that no triage answer implies (fraud → Report Fraud).
FLAGS: dict[str, str] = {"fraud": "Fraud or a scam is involved"}

SEVERITY_LABELS = {1: "1 (critical)", 2: "2 (high)", 3: "3 (moderate)", 4: "4 (low)"}

# Triage steps, in order; "done" means the incident record has its severity.
STEPS = ("platform", "symptoms", "access", "harmful", "done")

_SERIOUS = {"settings-changed", "unknown-login", "phished"}
_LESSER = {"impersonation", "lost-device"}


def severity_for(symptoms: Collection[str], has_access: bool, harmful_live: bool) -> int:
    """Harmful content live or access lost → 1; changed settings, an unknown login or a
    phished password → 2; impersonation or a lost device → 3; anything else → 4."""
    found = set(symptoms)
    if harmful_live or not has_access:
        return 1
    if found & _SERIOUS:
        return 2
    if found & _LESSER:
        return 3
    return 4


def platform_id(word: str) -> str | None:
    word = word.strip().lower()
    word = PLATFORM_ALIASES.get(word, word)
    return word if word in PLATFORM_LABELS else None


_DEPT = re.compile(r"""\bdept=(?:"([^"]*)"|'([^']*)'|(\S+))""", re.IGNORECASE)
_HANDLE = re.compile(r"^@?[A-Za-z0-9_.\-]{1,100}$")


@dataclass(frozen=True)
class StartArgs:
    platform: str | None = None
    handle: str | None = None
    department: str | None = None
    error: str | None = None


def normalise_handle(text: str) -> str | None:
    """``@name`` or ``name`` → ``@name``; None if it does not look like an account name."""
    text = text.strip()
    if not _HANDLE.match(text):
        return None
    return text if text.startswith("@") else "@" + text


def parse_start(args: str) -> StartArgs:
    """``[platform] [@handle] [dept=<name>]`` in any order."""
    department = None
    match = _DEPT.search(args)
    if match:
        department = next(g for g in match.groups() if g is not None).strip() or None
        args = (args[: match.start()] + args[match.end() :]).strip()
    platform = handle = None
    for word in args.split():
        if platform is None and platform_id(word) and not word.startswith("@"):
            platform = platform_id(word)
        elif handle is None and word.startswith("@") and normalise_handle(word):
            handle = normalise_handle(word)
        else:
            # The caller adds how to type the command where the person is.
            return StartArgs(error=f"I didn't understand “{word[:40]}”.")
    return StartArgs(platform, handle, department)
