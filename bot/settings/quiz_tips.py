"""Quiz and tips settings: exam refreshers and tip delivery."""

from __future__ import annotations

from bot.settings.base import SettingsGroup, setting


class QuizTipsSettings(SettingsGroup):
    exam_refresh_months: int = setting(
        "SECBOT_EXAM_REFRESH_MONTHS", 12,
        "Months an exam pass lasts before a refresher is due.",
        group="Quiz and tips", ge=1, le=120,
    )
    tip_grace_minutes: int = setting(
        "SECBOT_TIP_GRACE_MINUTES", 180,
        "After downtime, a missed tip is still sent if at most this many minutes late; older"
        " ones are skipped and logged.",
        group="Quiz and tips", ge=0, le=24 * 60,
    )
    tip_concurrency: int = setting(
        "SECBOT_TIP_CONCURRENCY", 50, "How many channels are sent tips at once, per platform.",
        group="Quiz and tips", ge=1, le=10_000,
    )
    tip_test_interval: int = setting(
        "SECBOT_TIP_TEST_INTERVAL", 0,
        "For trying it out only: every subscription also gets a tip every this many seconds,"
        " whatever the day and time (0: off).",
        group="Quiz and tips", ge=0, le=7 * 86400,
    )
    tip_lease_seconds: int = setting(
        "SECBOT_TIP_LEASE_SECONDS", 15,
        "How long another instance waits before taking over tips a stopped instance had"
        " claimed (renewed every third of it while it works).",
        group="Quiz and tips", ge=2, le=600,
    )
    tip_drain_seconds: int = setting(
        "SECBOT_TIP_DRAIN_SECONDS", 5,
        "On a graceful stop, seconds tips already being posted get to finish.",
        group="Quiz and tips", ge=0, le=3600,
    )
