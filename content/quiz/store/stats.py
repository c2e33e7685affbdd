"""The SQL behind /quiz stats and the leaderboard: reading the answers, and who has
opted out of leaderboards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.core.model import Place
from content.quiz.store.answers import answer_rows
from content.quiz.store.schema import iso, parse_time


@dataclass(frozen=True)
class LeaderRow:
    user_key: str
    name: str
    correct: int
    answered: int


class StatsStore:
    """Reads over every answer (scores, days answered, leaderboards) and the opt-outs."""

    def __init__(self, db: Database):
        self.db = db

    def answers(self, **where: object) -> list[dict]:
        """Answer rows as dicts, filtered by equal columns (for reports and tests)."""
        return answer_rows(self.db, **where)

    def principle_scores(self, user_key: str) -> dict[str, tuple[int, int]]:
        """principle -> (answered, correct) over every answer the person has given."""
        rows = self.db.execute(
            "SELECT principle, COUNT(*), SUM(correct) FROM quiz_answers WHERE user_key = ?"
            " GROUP BY principle",
            [user_key],
        ).fetchall()
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def answer_times(self, user_key: str, since: datetime) -> list[datetime]:
        rows = self.db.execute(
            "SELECT answered_at FROM quiz_answers WHERE user_key = ? AND answered_at >= ?",
            [user_key, iso(since)],
        ).fetchall()
        return [parse_time(r[0]) for r in rows]

    def set_leaderboard_opt_out(self, user_key: str, opted_out: bool, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO quiz_prefs (user_key, leaderboard_opt_out, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_key) DO UPDATE SET leaderboard_opt_out = excluded."
            "leaderboard_opt_out, updated_at = excluded.updated_at",
            [user_key, int(opted_out), iso(now)],
        )

    def leaderboard_opted_out(self, user_key: str) -> bool:
        row = self.db.execute(
            "SELECT leaderboard_opt_out FROM quiz_prefs WHERE user_key = ?", [user_key]
        ).fetchone()
        return bool(row and row[0])

    def leaderboard(
        self, place: Place, start: datetime, end: datetime, limit: int = 10
    ) -> list[LeaderRow]:
        """Top people in one channel by correct answers to channel questions in [start, end)."""
        rows = self.db.execute(
            "SELECT a.user_key, SUM(a.correct) AS n_correct, COUNT(*) AS answered,"
            " (SELECT b.user_name FROM quiz_answers b WHERE b.user_key = a.user_key"
            "  ORDER BY b.id DESC LIMIT 1) AS name"
            " FROM quiz_answers a"
            " WHERE a.context = 'channel' AND a.platform = ? AND a.workspace = ?"
            " AND a.channel = ? AND a.answered_at >= ? AND a.answered_at < ?"
            " AND a.user_key NOT IN"
            "  (SELECT user_key FROM quiz_prefs WHERE leaderboard_opt_out = 1)"
            " GROUP BY a.user_key HAVING SUM(a.correct) > 0"
            " ORDER BY n_correct DESC, answered ASC, MIN(a.answered_at) ASC LIMIT ?",
            [place.platform, place.workspace, place.channel, iso(start), iso(end), limit],
        ).fetchall()
        return [LeaderRow(r[0], r[3] or "", int(r[1]), int(r[2])) for r in rows]
