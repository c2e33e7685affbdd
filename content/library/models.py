"""Typed shapes for quiz items and tips, plus the labels the bot shows people.

Validation here covers only the structure (fields, types, allowed enum values) so that a
broken file fails with a schema problem; the editorial rules (reading ease, UK spelling,
option lengths...) live in `content.library.rules` so they can report precise, named problems.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Module = Literal["policy", "accounts", "people"]
Principle = Literal[
    "trust-the-platform",
    "control-access",
    "content-approval",
    "track-actions",
    "recovery-plan",
]
Difficulty = Literal[1, 2, 3]
# The platforms a tip or question is about (``platforms:``), by the accounts register's
# codes (incidents/register/platforms.py; tests/test_register_content.py keeps the two
# lists the same). Empty means it is about every platform.
PlatformCode = Literal[
    "x", "facebook", "instagram", "linkedin", "youtube", "tiktok", "threads", "bluesky",
    "flickr", "whatsapp-channel", "other",
]  # fmt: skip

MODULES: tuple[Module, ...] = ("policy", "accounts", "people")
PRINCIPLES: tuple[Principle, ...] = (
    "trust-the-platform",
    "control-access",
    "content-approval",
    "track-actions",
    "recovery-plan",
)

MODULE_LABELS: dict[str, str] = {
    "policy": "Policy and governance",
    "accounts": "Accounts and access",
    "people": "People and personal safety",
}

PRINCIPLE_LABELS: dict[str, str] = {
    "trust-the-platform": "Trust only the platform's own channels",
    "control-access": "Control who has access",
    "content-approval": "Approve content before it goes out",
    "track-actions": "Keep track of who did what",
    "recovery-plan": "Have a recovery plan",
}

# The agreed topic tags (content/FORMAT.md). Anything else is a lint problem, because a
# typo'd tag would silently create an empty quiz topic in the bot.
TOPIC_LABELS: dict[str, str] = {
    "2fa": "Two-factor authentication",
    "passwords": "Passwords",
    "password-manager": "Password managers",
    "passkeys": "Passkeys",
    "phishing": "Phishing",
    "impersonation": "Impersonation",
    "verification-scams": "Verification scams",
    "third-party-apps": "Third-party apps",
    "management-tools": "Social media management tools",
    "leavers": "Leavers",
    "shared-logins": "Shared logins",
    "approval": "Approval",
    "audit-logs": "Audit logs",
    "recovery-plan": "Recovery plans",
    "recovery-routes": "Recovery routes",
    "geolocation": "Geolocation",
    "photos": "Photos",
    "personal-safety": "Personal safety",
    "devices": "Devices",
    "dormant-accounts": "Dormant accounts",
    "insider": "Insider risk",
    "misinformation": "Misinformation",
    "reporting": "Reporting",
    "evidence": "Evidence",
    "propriety": "Propriety",
    "doxxing": "Doxxing of staff",
    "deepfakes": "Deepfakes and cloned voices",
    "qr-codes": "QR-code lures",
    "pre-election": "The pre-election period",
    "abuse": "Abusive replies and pile-ons",
    "data-protection": "Data protection and the ICO",
    "infostealers": "Infostealers and stolen sessions",
    "verification": "Verification for official accounts",
    "collaboration-lures": "Fake brand collaborations",
    "live-streaming": "Live streaming",
    "public-wifi": "Public Wi-Fi at events",
    "hijack-costs": "What a hijack costs",
    "shared-inboxes": "Shared inboxes",
    "case-studies": "Case studies",
}
TOPICS: frozenset[str] = frozenset(TOPIC_LABELS)


PLATFORM_LABELS: dict[str, str] = {
    "x": "X", "facebook": "Facebook", "instagram": "Instagram", "linkedin": "LinkedIn",
    "youtube": "YouTube", "tiktok": "TikTok", "threads": "Threads", "bluesky": "Bluesky",
    "flickr": "Flickr", "whatsapp-channel": "WhatsApp channel", "other": "Other platforms",
}  # fmt: skip


def tag_label(tag: str) -> str:
    """Human label for any tag the bot accepts (module, principle, topic or platform)."""
    return (
        MODULE_LABELS.get(tag)
        or PRINCIPLE_LABELS.get(tag)
        or TOPIC_LABELS.get(tag)
        or PLATFORM_LABELS.get(tag, tag)
    )


NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    # strict: YAML already gives real types, so "yes"/"2" strings are author mistakes.
    # forbid: a misspelt key (e.g. "explaination") must not be silently ignored.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class LocalText(_Strict):
    """Text in English with an optional Welsh version, so `cy` can be added later."""

    en: NonEmpty
    cy: NonEmpty | None = None

    def text(self, lang: str = "en") -> str:
        """The text in `lang`, falling back to English when there is no translation."""
        if lang == "cy" and self.cy:
            return self.cy
        return self.en


class Source(_Strict):
    """Who published a fact and the page that states it.

    ``checked`` is the day someone last confirmed the page still says so. It is optional
    in the schema so an organisation's older pack still loads (the lint warns); the
    built-in content must have it. Write it as a bare YAML date: ``checked: 2026-12-04``.
    """

    title: str
    url: str
    checked: date | None = None


class Option(_Strict):
    text: LocalText
    correct: bool = False


class QuizItem(_Strict):
    id: NonEmpty
    stem: LocalText
    options: list[Option]
    explanation: LocalText
    module: Module
    principle: Principle
    topics: list[str] = Field(min_length=1)
    difficulty: Difficulty
    scenario: bool = False
    source: Source
    enabled: bool = True
    platforms: list[PlatformCode] = Field(default_factory=list)

    @property
    def correct_index(self) -> int:
        """Index of the correct option (lint guarantees there is exactly one)."""
        return next(i for i, option in enumerate(self.options) if option.correct)

    def tags(self) -> set[str]:
        """What ``/quiz <tag>`` matches: module, principle, topics and platforms."""
        return {self.module, self.principle, *self.topics, *self.platforms}


class Tip(_Strict):
    id: NonEmpty
    title: LocalText
    body: LocalText
    action: LocalText
    module: Module
    principle: Principle
    topics: list[str] = Field(min_length=1)
    source: Source
    enabled: bool = True
    platforms: list[PlatformCode] = Field(default_factory=list)

    def tags(self) -> set[str]:
        """What ``/quiz <tag>`` matches: module, principle, topics and platforms."""
        return {self.module, self.principle, *self.topics, *self.platforms}
