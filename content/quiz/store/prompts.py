"""The SQL of quiz questions put to a person outside the quiz (the "Quiz me on this" button
under a daily tip): each question shown is answered at most once."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from bot.core.model import Actor, Place
from bot.storage.db import transaction
from content.quiz.store.answers import Answer, AnswerResult, insert_answer, save_card
from content.quiz.store.schema import iso, parse_time


class PromptStore:
    """Questions shown under a tip, and their answers."""

    def __init__(self, db: Database):
        self.db = db

    def prompt_shown(
        self, source: str, source_id: str, actor: Actor, place: Place, item_id: str, now: datetime
    ) -> int:
        """Note that ``item_id`` was put to the person; returns the prompt's id.

        A question shown again before it was answered keeps its prompt (its clock restarts),
        so one prompt is answered at most once whichever copy of the question is clicked.
        """
        with transaction(self.db) as conn:
            row = conn.execute(
                "SELECT p.id, a.id FROM quiz_prompts p LEFT JOIN quiz_answers a"
                " ON a.prompt_id = p.id WHERE p.user_key = ? AND p.item_id = ?"
                " ORDER BY p.id DESC LIMIT 1",
                [actor.key, item_id],
            ).fetchone()
            if row is not None and row[1] is None:
                conn.execute(
                    "UPDATE quiz_prompts SET shown_at = ?, source = ?, source_id = ? WHERE id = ?",
                    [iso(now), source, source_id, row[0]],
                )
                return int(row[0])
            return self._insert_prompt(conn, source, source_id, actor, place, item_id, now)

    @staticmethod
    def _insert_prompt(
        conn,
        source: str,
        source_id: str,
        actor: Actor,
        place: Place,
        item_id: str,
        now: datetime,
    ) -> int:
        cur = conn.execute(
            "INSERT INTO quiz_prompts (source, source_id, user_key, item_id, platform,"
            " workspace, channel, shown_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                source,
                source_id,
                actor.key,
                item_id,
                place.platform,
                place.workspace,
                place.channel,
                iso(now),
            ],
        )
        return int(cur.lastrowid)

    def record_prompt_answer(
        self,
        source: str,
        answer: Answer,
    ) -> AnswerResult:
        """Record the answer to the question last put to this person on this item, once.

        A second click on it (a double click, a retry, a different option) is a duplicate.
        An answer with no prompt on record (a question shown before this was kept) gets one,
        with no time to answer.
        """
        actor, place, item_id, now = answer.actor, answer.place, answer.item_id, answer.now
        with transaction(self.db) as conn:
            row = conn.execute(
                "SELECT p.id, p.shown_at, a.choice, a.id FROM quiz_prompts p LEFT JOIN"
                " quiz_answers a ON a.prompt_id = p.id WHERE p.user_key = ? AND p.item_id = ?"
                " ORDER BY p.id DESC LIMIT 1",
                [actor.key, item_id],
            ).fetchone()
            if row is not None and row[3] is not None:
                return AnswerResult("duplicate", row[2])
            if row is None:
                prompt_id = self._insert_prompt(conn, source, "", actor, place, item_id, now)
                shown_at = now
            else:
                prompt_id, shown_at = int(row[0]), parse_time(row[1])
            seconds = max(0.0, (now - shown_at).total_seconds())
            insert_answer(conn, answer, seconds, source, prompt_id=prompt_id)
            save_card(conn, answer)
        return AnswerResult("recorded")
