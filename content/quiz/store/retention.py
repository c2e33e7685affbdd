"""Quiz answers deleted once ``SECBOT_KEEP_QUIZ_ANSWERS`` has passed.

Only the answers go: a person's spaced-repetition cards (what to ask them next) and their
exam results (the training record an access review asks for) are kept, so progress and
"passed the exam" survive; statistics and leaderboards count the answers still kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.storage.retention import Pruner, Retention, delete_some
from content.quiz.store.tables import quiz_answers


def quiz_answers_pruner(db: Any, keep: timedelta) -> Pruner:
    async def batch(before: datetime, limit: int) -> int:
        return await delete_some(db, quiz_answers, quiz_answers.c.answered_at < before, limit)

    return Pruner("quiz answers", keep, batch)


def add_pruner(services: Any) -> None:
    """Register with the daily prune (none when the app runs without one)."""
    retention = services.find_feature(Retention)
    if retention is not None:
        retention.add(quiz_answers_pruner(services.db, services.settings.keep_quiz_answers))
