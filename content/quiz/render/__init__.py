"""What the quiz says: every quiz message, built from the neutral model.

Kept apart from the handlers so the wording can be read (and reviewed) in one place.
Options are listed in the text with letters and the buttons carry only the letters, so
long options are never clipped by a platform's button-label limit.
"""

from __future__ import annotations

from content.quiz.render.channel import (
    answer_copy,
    answer_feedback,
    channel_closed,
    channel_question,
    channel_retired,
    question_closed,
)
from content.quiz.render.common import (
    LETTERS,
    already_answered,
    answered_text,
    bad_time,
    feedback,
    help_text,
    option_label,
    options_text,
    private,
    score_fields,
    source_line,
    unknown_tag,
)
from content.quiz.render.sessions import (
    exam_intro,
    exam_result,
    practice_feedback,
    practice_summary,
    session_question,
)
from content.quiz.render.stats import leaderboard, report, stats

__all__ = [
    "LETTERS",
    "already_answered",
    "answer_copy",
    "answer_feedback",
    "answered_text",
    "bad_time",
    "channel_closed",
    "channel_question",
    "channel_retired",
    "exam_intro",
    "exam_result",
    "feedback",
    "help_text",
    "leaderboard",
    "option_label",
    "options_text",
    "practice_feedback",
    "practice_summary",
    "private",
    "question_closed",
    "report",
    "score_fields",
    "session_question",
    "source_line",
    "stats",
    "unknown_tag",
]
