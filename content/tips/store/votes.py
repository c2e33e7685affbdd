"""Feedback on tips: one Useful / Not useful vote per person per tip per channel."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from content.tips.store.records import ts


class Votes:
    def __init__(self, db: Database):
        self.db = db

    def vote(self, tip_id: str, place: str, voter: str, vote: str, now: datetime) -> str | None:
        """Record (or change) one person's vote on a tip in a channel; returns the old one."""
        row = self.db.execute(
            "SELECT vote FROM tip_votes WHERE tip_id = ? AND place = ? AND voter = ?",
            [tip_id, place, voter],
        ).fetchone()
        self.db.execute(
            "INSERT INTO tip_votes (tip_id, place, voter, vote, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (tip_id, place, voter) DO UPDATE SET vote = excluded.vote,"
            " updated_at = excluded.updated_at",
            [tip_id, place, voter, vote, ts(now)],
        )
        return row[0] if row else None

    def feedback(self) -> dict[str, tuple[int, int]]:
        rows = self.db.execute(
            "SELECT tip_id, SUM(vote = 'useful'), SUM(vote = 'not-useful') FROM tip_votes"
            " GROUP BY tip_id"
        ).fetchall()
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    def votes(self, tip_id: str) -> list[tuple[str, str, str]]:
        rows = self.db.execute(
            "SELECT place, voter, vote FROM tip_votes WHERE tip_id = ? ORDER BY place, voter",
            [tip_id],
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]
