"""The queries behind /quiz stats and the leaderboard: reading the answers, and who has
opted out of leaderboards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select

from bot.core.model import Place
from bot.storage.sql import Db, execute, upsert
from content.quiz.store.answers import answer_rows
from content.quiz.store.tables import quiz_answers, quiz_prefs


@dataclass(frozen=True)
class LeaderRow:
    user_key: str
    name: str
    correct: int
    answered: int


# Statements are built once, here, and run with their parameters.
_a, _pref = quiz_answers.c, quiz_prefs.c
_PRINCIPLE_SCORES = (
    select(_a.principle, func.count(), func.sum(_a.correct))
    .where(_a.user_key == bindparam("user_key"))
    .group_by(_a.principle)
)
_ANSWER_TIMES = select(_a.answered_at).where(
    (_a.user_key == bindparam("user_key")) & (_a.answered_at >= bindparam("since"))
)
_upsert = upsert(quiz_prefs)
_SET_OPT_OUT = _upsert.on_conflict_do_update(
    index_elements=[_pref.user_key],
    set_={
        "leaderboard_opt_out": _upsert.excluded.leaderboard_opt_out,
        "updated_at": _upsert.excluded.updated_at,
    },
)
_OPTED_OUT = select(_pref.leaderboard_opt_out).where(_pref.user_key == bindparam("user_key"))


def _leaderboard():
    """Top people in one channel by correct answers to channel questions in [start,
    end): each with the name they last answered under, opted-out people left out."""
    a, b = quiz_answers.alias("a"), quiz_answers.alias("b")
    last_name = (
        select(b.c.user_name)
        .where(b.c.user_key == a.c.user_key)
        .order_by(b.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    opted_out = select(_pref.user_key).where(_pref.leaderboard_opt_out == 1)
    n_correct = func.sum(a.c.correct).label("n_correct")
    answered = func.count().label("answered")
    return (
        select(a.c.user_key, n_correct, answered, last_name.label("name"))
        .where(
            (a.c.context == "channel")
            & (a.c.platform == bindparam("platform"))
            & (a.c.workspace == bindparam("workspace"))
            & (a.c.channel == bindparam("channel"))
            & (a.c.answered_at >= bindparam("start"))
            & (a.c.answered_at < bindparam("end"))
            & a.c.user_key.not_in(opted_out)
        )
        .group_by(a.c.user_key)
        .having(func.sum(a.c.correct) > 0)
        .order_by(n_correct.desc(), answered.asc(), func.min(a.c.answered_at).asc())
        .limit(bindparam("limit"))
    )


_LEADERBOARD = _leaderboard()


class StatsStore:
    """Reads over every answer (scores, days answered, leaderboards) and the opt-outs."""

    def __init__(self, db: Db):
        self.db = db

    async def answers(self, **where: object) -> list[dict]:
        """Answer rows as dicts, filtered by equal columns (for reports and tests)."""
        return await answer_rows(self.db, **where)

    async def principle_scores(self, user_key: str) -> dict[str, tuple[int, int]]:
        """principle -> (answered, correct) over every answer the person has given."""
        rows = (await execute(self.db, _PRINCIPLE_SCORES, {"user_key": user_key})).all()
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    async def answer_times(self, user_key: str, since: datetime) -> list[datetime]:
        found = await execute(self.db, _ANSWER_TIMES, {"user_key": user_key, "since": since})
        return list(found.scalars())

    async def set_leaderboard_opt_out(self, user_key: str, opted_out: bool, now: datetime) -> None:
        """One upsert: the last of two changes at once wins, whole."""
        await execute(
            self.db,
            _SET_OPT_OUT,
            {"user_key": user_key, "leaderboard_opt_out": int(opted_out), "updated_at": now},
        )

    async def leaderboard_opted_out(self, user_key: str) -> bool:
        return bool((await execute(self.db, _OPTED_OUT, {"user_key": user_key})).scalar())

    async def leaderboard(
        self, place: Place, start: datetime, end: datetime, limit: int = 10
    ) -> list[LeaderRow]:
        """Top people in one channel by correct answers to channel questions in [start, end)."""
        found = await execute(
            self.db,
            _LEADERBOARD,
            {
                "platform": place.platform,
                "workspace": place.workspace,
                "channel": place.channel,
                "start": start,
                "end": end,
                "limit": limit,
            },
        )
        return [
            LeaderRow(r.user_key, r.name or "", int(r.n_correct), int(r.answered))
            for r in found.all()
        ]
