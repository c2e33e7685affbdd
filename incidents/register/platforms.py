"""The platforms an official account can be on: a fixed list, each with the name people
read. Codes are stable (stored, in CSV files); the names are how each platform writes
itself. A playbook exists only for some: :func:`triage_platform` maps the rest to
"other" for ``/compromised``."""

from __future__ import annotations

import re

PLATFORMS: tuple[tuple[str, str], ...] = (
    ("x", "X"),
    ("facebook", "Facebook"),
    ("instagram", "Instagram"),
    ("linkedin", "LinkedIn"),
    ("youtube", "YouTube"),
    ("tiktok", "TikTok"),
    ("threads", "Threads"),
    ("bluesky", "Bluesky"),
    ("flickr", "Flickr"),
    ("whatsapp-channel", "WhatsApp channel"),
    ("other", "Other"),
)
PLATFORM_NAMES = dict(PLATFORMS)
CODES = tuple(code for code, _ in PLATFORMS)

_ALIASES = {
    "twitter": "x",
    "x(twitter)": "x",  # how many documents write it: "X (Twitter)", "X/Twitter"
    "x(formerlytwitter)": "x",
    "x/twitter": "x",
    "twitter/x": "x",
    "x.com": "x",
    "twitter.com": "x",
    "fb": "facebook",
    "facebook.com": "facebook",
    "meta": "facebook",
    "ig": "instagram",
    "insta": "instagram",
    "instagram.com": "instagram",
    "linkedin.com": "linkedin",
    "yt": "youtube",
    "youtube.com": "youtube",
    "tiktok.com": "tiktok",
    "threads.net": "threads",
    "bsky": "bluesky",
    "bsky.app": "bluesky",
    "flickr.com": "flickr",
    "whatsapp": "whatsapp-channel",
    "whatsappchannel": "whatsapp-channel",
    "whatsapp.com": "whatsapp-channel",
}
_SPACES = re.compile(r"[\s_]+")


def platform_code(text: str) -> str | None:
    """The code for a platform as people write it ("X", "Twitter", "WhatsApp channel",
    "whatsapp-channel"); None when it is not on the list."""
    word = _SPACES.sub("-", (text or "").strip().lower())
    if word in PLATFORM_NAMES:
        return word
    return _ALIASES.get(word.replace("-", "")) or _ALIASES.get(word)


def platform_name(code: str) -> str:
    return PLATFORM_NAMES.get(code, code)


# The platforms /compromised has a playbook for (incidents/data/playbooks), in the order
# triage shows them; everything else is "other". incidents/triage.py builds its buttons
# from this, so the two lists cannot drift apart.
WITH_PLAYBOOKS: tuple[str, ...] = (
    "x", "facebook", "instagram", "linkedin", "youtube", "tiktok", "threads", "other",
)


def triage_platform(code: str) -> str:
    return code if code in WITH_PLAYBOOKS else "other"
