"""People settings: who is in which team, assigned training and access reviews (issue 19)."""

from __future__ import annotations

import re

from pydantic import field_validator

from bot.settings.base import SettingsGroup, setting

GROUP = "Training and access reviews"
# A protective marking is one short line of plain words: letters, digits, spaces and a
# little punctuation ("OFFICIAL", "OFFICIAL-SENSITIVE", "OFFICIAL: SENSITIVE").
_MARKING = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ,.:;()/&'-]{0,59}$")


class PeopleSettings(SettingsGroup):
    people_teams: str | None = setting(
        "SECBOT_PEOPLE_TEAMS", None,
        "The teams file (YAML: each team's leads and members by platform:id, see"
        " docs/teams.example.yml); unset: training can be assigned to named people only.",
        group=GROUP,
    )
    training_nudge_hour: int = setting(
        "SECBOT_TRAINING_NUDGE_HOUR", 10,
        "The hour (Europe/London, on working days) people are reminded of training due.",
        group=GROUP, ge=8, le=17,
    )
    training_nudge_days: int = setting(
        "SECBOT_TRAINING_NUDGE_DAYS", 3,
        "Working days before the due date of the first reminder, and between the reminders"
        " after it.",
        group=GROUP, ge=1, le=20,
    )
    training_nudges_after: int = setting(
        "SECBOT_TRAINING_NUDGES_AFTER", 3,
        "How many reminders follow an overdue date before secbot stops asking.",
        group=GROUP, ge=0, le=20,
    )
    access_review_months: int = setting(
        "SECBOT_ACCESS_REVIEW_MONTHS", 3,
        "Months between access reviews of each registered account (3: every quarter).",
        group=GROUP, ge=1, le=24,
    )
    access_review_days: int = setting(
        "SECBOT_ACCESS_REVIEW_DAYS", 10,
        "Working days an owner has to finish an access review before it is overdue.",
        group=GROUP, ge=1, le=60,
    )
    lrs_url: str | None = setting(
        "SECBOT_LRS_URL", None,
        "A learning record store's xAPI endpoint (ending /xapi or similar; statements are PUT"
        " to <url>/statements): exam completions are sent there; unset: none are sent.",
        group=GROUP,
    )
    lrs_username: str | None = setting(
        "SECBOT_LRS_USERNAME", None,
        "The learning record store's Basic authentication key (username).",
        group=GROUP,
    )
    lrs_password: str | None = setting(
        "SECBOT_LRS_PASSWORD", None,
        "The learning record store's Basic authentication secret (password).",
        group=GROUP, secret=True,
    )
    lrs_activity_id: str = setting(
        "SECBOT_LRS_ACTIVITY_ID", "urn:secbot:activity:security-exam",
        "The xAPI activity id (an IRI) the exam is recorded against in the learning record"
        " store.",
        group=GROUP,
    )
    protective_marking: str = setting(
        "SECBOT_PROTECTIVE_MARKING", "OFFICIAL",
        "The protective marking at the top and foot of each self-assessment report: one"
        " short line of plain text (letters, digits, spaces, - : , . ( ) / & '), at most 60"
        " characters.",
        group=GROUP,
    )

    @field_validator("protective_marking")
    @classmethod
    def _marking(cls, value: str) -> str:
        one_line = value.isprintable()  # no line breaks, tabs or other control characters
        value = " ".join(value.split())
        if not one_line or not _MARKING.match(value):
            raise ValueError(
                "write one short line of plain text, such as OFFICIAL or OFFICIAL-SENSITIVE"
                " (letters, digits, spaces and - : , . ( ) / & ', at most 60 characters)"
            )
        return value
