"""All of the quiz's SQL: channel questions, answers, practice and exam sessions, spaced
repetition cards, exam results and leaderboard preferences.

Every method is short and synchronous. Handlers never await in the middle of a store
call, so each call is atomic with respect to every other coroutine on the loop; that,
plus the UNIQUE constraints, is what makes one answer per person per question hold
under double clicks, retries and bursts of hundreds of concurrent clicks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlite_utils import Database

from bot.core.model import Actor, MessageRef, Place
from bot.storage.db import transaction

DOMAIN = "quiz"
MIGRATIONS = [
    """
    CREATE TABLE quiz_posts (
        id INTEGER PRIMARY KEY,
        item_id TEXT NOT NULL,
        option_order TEXT NOT NULL,
        tag TEXT NOT NULL DEFAULT '',
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        is_direct INTEGER NOT NULL DEFAULT 0,
        thread TEXT,
        message_id TEXT,
        posted_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        closes_at TEXT NOT NULL,
        closed_at TEXT
    );
    CREATE INDEX quiz_posts_due ON quiz_posts (closes_at) WHERE closed_at IS NULL;
    CREATE INDEX quiz_posts_place ON quiz_posts (platform, workspace, channel, created_at);

    CREATE TABLE quiz_sessions (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('practice', 'exam')),
        user_key TEXT NOT NULL,
        user_name TEXT NOT NULL DEFAULT '',
        questions TEXT NOT NULL,
        answered INTEGER NOT NULL DEFAULT 0,
        correct INTEGER NOT NULL DEFAULT 0,
        shown INTEGER NOT NULL DEFAULT 0,
        shown_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'done', 'abandoned')),
        tag TEXT NOT NULL DEFAULT '',
        content_version TEXT NOT NULL DEFAULT '',
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE UNIQUE INDEX quiz_sessions_one_active ON quiz_sessions (user_key, kind)
        WHERE status = 'active';

    CREATE TABLE quiz_answers (
        id INTEGER PRIMARY KEY,
        user_key TEXT NOT NULL,
        user_name TEXT NOT NULL DEFAULT '',
        item_id TEXT NOT NULL,
        module TEXT NOT NULL,
        principle TEXT NOT NULL,
        choice INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        seconds REAL NOT NULL,
        context TEXT NOT NULL CHECK (context IN ('channel', 'practice', 'exam')),
        post_id INTEGER REFERENCES quiz_posts (id),
        session_id INTEGER REFERENCES quiz_sessions (id),
        position INTEGER,
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        UNIQUE (post_id, user_key),
        UNIQUE (session_id, position)
    );
    CREATE INDEX quiz_answers_user ON quiz_answers (user_key, answered_at);
    CREATE INDEX quiz_answers_place ON quiz_answers (platform, workspace, channel, answered_at);

    CREATE TABLE quiz_cards (
        user_key TEXT NOT NULL,
        item_id TEXT NOT NULL,
        card TEXT NOT NULL,
        due TEXT NOT NULL,
        reviews INTEGER NOT NULL DEFAULT 0,
        lapses INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (user_key, item_id)
    );
    CREATE INDEX quiz_cards_due ON quiz_cards (user_key, due);

    CREATE TABLE quiz_exam_results (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL UNIQUE REFERENCES quiz_sessions (id),
        user_key TEXT NOT NULL,
        user_name TEXT NOT NULL DEFAULT '',
        score INTEGER NOT NULL,
        total INTEGER NOT NULL,
        passed INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        completed_at TEXT NOT NULL,
        content_version TEXT NOT NULL,
        refresher_due TEXT NOT NULL
    );
    CREATE INDEX quiz_exam_results_user ON quiz_exam_results (user_key, completed_at);

    CREATE TABLE quiz_prefs (
        user_key TEXT PRIMARY KEY,
        leaderboard_opt_out INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    )
    """,
    # 2: answers to the "Quiz me on this" question under a daily tip are recorded too.
    # SQLite can't change a CHECK constraint, so quiz_answers is rebuilt with 'tip' allowed
    # and a prompt_id: one answer per question shown (quiz_prompts), however often clicked.
    """
    CREATE TABLE quiz_prompts (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL CHECK (source IN ('tip')),
        source_id TEXT NOT NULL DEFAULT '',
        user_key TEXT NOT NULL,
        item_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        shown_at TEXT NOT NULL
    );
    CREATE INDEX quiz_prompts_user_item ON quiz_prompts (user_key, item_id, id);

    CREATE TABLE quiz_answers_v2 (
        id INTEGER PRIMARY KEY,
        user_key TEXT NOT NULL,
        user_name TEXT NOT NULL DEFAULT '',
        item_id TEXT NOT NULL,
        module TEXT NOT NULL,
        principle TEXT NOT NULL,
        choice INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        seconds REAL NOT NULL,
        context TEXT NOT NULL CHECK (context IN ('channel', 'practice', 'exam', 'tip')),
        post_id INTEGER REFERENCES quiz_posts (id),
        session_id INTEGER REFERENCES quiz_sessions (id),
        position INTEGER,
        prompt_id INTEGER REFERENCES quiz_prompts (id),
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        UNIQUE (post_id, user_key),
        UNIQUE (session_id, position),
        UNIQUE (prompt_id)
    );
    INSERT INTO quiz_answers_v2 (id, user_key, user_name, item_id, module, principle, choice,
        correct, seconds, context, post_id, session_id, position, platform, workspace, channel,
        answered_at)
        SELECT id, user_key, user_name, item_id, module, principle, choice, correct, seconds,
        context, post_id, session_id, position, platform, workspace, channel, answered_at
        FROM quiz_answers;
    DROP TABLE quiz_answers;
    ALTER TABLE quiz_answers_v2 RENAME TO quiz_answers;
    CREATE INDEX quiz_answers_user ON quiz_answers (user_key, answered_at);
    CREATE INDEX quiz_answers_place ON quiz_answers (platform, workspace, channel, answered_at)
    """,
    # 3: "recent questions in this channel" reads newest first by id; without this index
    # SQLite sorted every post the channel ever had (a busy channel's /quiz slowed down).
    """
    CREATE INDEX quiz_posts_place_id ON quiz_posts (platform, workspace, channel, id)
    """,
    # 4: the delivery (a /quiz, a click) that created a post or an answer, so a delivery
    # replayed after a crash finds its effect already done instead of doing it twice.
    # Partial indexes: rows from before this step (and from no delivery) carry no key.
    """
    ALTER TABLE quiz_posts ADD COLUMN delivery_key TEXT;
    CREATE UNIQUE INDEX quiz_posts_delivery ON quiz_posts (delivery_key)
        WHERE delivery_key IS NOT NULL;
    ALTER TABLE quiz_answers ADD COLUMN delivery_key TEXT;
    CREATE UNIQUE INDEX quiz_answers_delivery ON quiz_answers (delivery_key)
        WHERE delivery_key IS NOT NULL
    """,
]


def iso(when: datetime) -> str:
    """One fixed UTC format, so stored times sort and compare as text."""
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


# What a store method does with a person's card: old card JSON (or None) -> (new JSON, due).
Review = Callable[[str | None], tuple[str, datetime]]


@dataclass(frozen=True)
class Post:
    """A question posted in a channel."""

    id: int
    item_id: str
    order: list[int]
    tag: str
    place: Place
    message_id: str | None
    posted_by: str
    created_at: datetime
    closes_at: datetime
    closed_at: datetime | None

    @property
    def ref(self) -> MessageRef | None:
        return MessageRef(self.place, self.message_id) if self.message_id else None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


@dataclass(frozen=True)
class Question:
    item_id: str
    order: list[int]


@dataclass(frozen=True)
class Session:
    """A practice session or an exam attempt: one person, a fixed list of questions."""

    id: int
    kind: str
    user_key: str
    questions: list[Question]
    answered: int
    correct: int
    shown: int
    shown_at: datetime
    status: str
    tag: str
    content_version: str
    started_at: datetime
    finished_at: datetime | None

    @property
    def total(self) -> int:
        return len(self.questions)


@dataclass(frozen=True)
class AnswerResult:
    """``status``: recorded | replayed | duplicate | closed | due | stale | not-yours |
    finished."""

    status: str
    previous_choice: int | None = None


@dataclass(frozen=True)
class ExamResult:
    session_id: int
    user_key: str
    user_name: str
    score: int
    total: int
    passed: bool
    started_at: datetime
    completed_at: datetime
    content_version: str
    refresher_due: datetime


@dataclass(frozen=True)
class LeaderRow:
    user_key: str
    name: str
    correct: int
    answered: int


def _questions_json(questions: list[Question]) -> str:
    """How a session's questions are stored; :func:`_session` reads them back."""
    return json.dumps([{"item": q.item_id, "order": q.order} for q in questions])


def _post(row) -> Post:
    return Post(
        id=row["id"],
        item_id=row["item_id"],
        order=json.loads(row["option_order"]),
        tag=row["tag"],
        place=Place(
            row["platform"],
            row["workspace"],
            row["channel"],
            bool(row["is_direct"]),
            row["thread"],
        ),
        message_id=row["message_id"],
        posted_by=row["posted_by"],
        created_at=parse_time(row["created_at"]),
        closes_at=parse_time(row["closes_at"]),
        closed_at=parse_time(row["closed_at"]) if row["closed_at"] else None,
    )


def _session(row) -> Session:
    return Session(
        id=row["id"],
        kind=row["kind"],
        user_key=row["user_key"],
        questions=[Question(q["item"], q["order"]) for q in json.loads(row["questions"])],
        answered=row["answered"],
        correct=row["correct"],
        shown=row["shown"],
        shown_at=parse_time(row["shown_at"]),
        status=row["status"],
        tag=row["tag"],
        content_version=row["content_version"],
        started_at=parse_time(row["started_at"]),
        finished_at=parse_time(row["finished_at"]) if row["finished_at"] else None,
    )


def _exam(row) -> ExamResult:
    return ExamResult(
        session_id=row["session_id"],
        user_key=row["user_key"],
        user_name=row["user_name"],
        score=row["score"],
        total=row["total"],
        passed=bool(row["passed"]),
        started_at=parse_time(row["started_at"]),
        completed_at=parse_time(row["completed_at"]),
        content_version=row["content_version"],
        refresher_due=parse_time(row["refresher_due"]),
    )


class QuizStore:
    def __init__(self, db: Database):
        self.db = db

    # --- channel questions ---------------------------------------------------------

    def create_post(
        self,
        item_id: str,
        order: list[int],
        tag: str,
        place: Place,
        posted_by: str,
        now: datetime,
        closes_at: datetime,
        delivery_key: str | None = None,
    ) -> Post:
        """The question's row, written before its message is posted (the intent): a
        delivery replayed after a crash finds it by ``delivery_key`` (see
        :meth:`post_for_delivery`) and only completes the post if it has no message yet."""
        cur = self.db.execute(
            "INSERT INTO quiz_posts (item_id, option_order, tag, platform, workspace, channel,"
            " is_direct, thread, posted_by, created_at, closes_at, delivery_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                item_id,
                json.dumps(order),
                tag,
                place.platform,
                place.workspace,
                place.channel,
                int(place.is_direct),
                place.thread,
                posted_by,
                iso(now),
                iso(closes_at),
                delivery_key,
            ],
        )
        post = self.post(int(cur.lastrowid))
        assert post is not None
        return post

    def post_for_delivery(self, delivery_key: str) -> Post | None:
        row = self.db.execute(
            "SELECT * FROM quiz_posts WHERE delivery_key = ?", [delivery_key]
        ).fetchone()
        return _post(row) if row else None

    def delete_post(self, post_id: int) -> None:
        """Only for a question whose message could not be posted at all."""
        self.db.execute("DELETE FROM quiz_posts WHERE id = ?", [post_id])

    def post(self, post_id: int) -> Post | None:
        row = self.db.execute("SELECT * FROM quiz_posts WHERE id = ?", [post_id]).fetchone()
        return _post(row) if row else None

    def set_message(self, post_id: int, message_id: str) -> None:
        self.db.execute(
            "UPDATE quiz_posts SET message_id = ? WHERE id = ? AND message_id IS NULL",
            [message_id, post_id],
        )

    def recent_items(self, place: Place, limit: int) -> set[str]:
        rows = self.db.execute(
            "SELECT item_id FROM quiz_posts WHERE platform = ? AND workspace = ? AND channel = ?"
            " ORDER BY id DESC LIMIT ?",
            [place.platform, place.workspace, place.channel, limit],
        ).fetchall()
        return {r[0] for r in rows}

    def counts(self, post_id: int) -> tuple[int, int]:
        """(answered, correct) for a channel question."""
        row = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(correct), 0) FROM quiz_answers WHERE post_id = ?",
            [post_id],
        ).fetchone()
        return int(row[0]), int(row[1])

    def close_post(self, post_id: int, now: datetime) -> bool:
        """True for the one caller that actually closed it."""
        cur = self.db.execute(
            "UPDATE quiz_posts SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            [iso(now), post_id],
        )
        return cur.rowcount == 1

    def due_posts(self, now: datetime) -> list[Post]:
        rows = self.db.execute(
            "SELECT * FROM quiz_posts WHERE closed_at IS NULL AND closes_at <= ?"
            " ORDER BY closes_at",
            [iso(now)],
        ).fetchall()
        return [_post(r) for r in rows]

    def next_deadline(self) -> datetime | None:
        row = self.db.execute(
            "SELECT MIN(closes_at) FROM quiz_posts WHERE closed_at IS NULL"
        ).fetchone()
        return parse_time(row[0]) if row and row[0] else None

    def record_post_answer(
        self,
        post: Post,
        actor: Actor,
        place: Place,
        module: str,
        principle: str,
        choice: int,
        correct: bool,
        now: datetime,
        review: Review,
        delivery_key: str | None = None,
    ) -> AnswerResult:
        """Record one person's answer to a channel question, at most once, while it is open.

        ``replayed``: this very delivery (``delivery_key``) recorded the answer already;
        a crash came between that and the end of its handling."""
        with transaction(self.db) as conn:
            row = conn.execute(
                "SELECT closed_at, closes_at FROM quiz_posts WHERE id = ?", [post.id]
            ).fetchone()
            if row["closed_at"] is not None:
                return AnswerResult("closed")
            if row["closes_at"] <= iso(now):
                return AnswerResult("due")
            previous = conn.execute(
                "SELECT choice, delivery_key FROM quiz_answers WHERE post_id = ? AND user_key = ?",
                [post.id, actor.key],
            ).fetchone()
            if previous is not None:
                if delivery_key is not None and previous[1] == delivery_key:
                    return AnswerResult("replayed", previous[0])
                return AnswerResult("duplicate", previous[0])
            seconds = max(0.0, (now - post.created_at).total_seconds())
            self._insert_answer(
                conn,
                actor,
                post.item_id,
                module,
                principle,
                choice,
                correct,
                seconds,
                "channel",
                place,
                now,
                post_id=post.id,
                delivery_key=delivery_key,
            )
            self._save_card(conn, actor.key, post.item_id, correct, now, review)
        return AnswerResult("recorded")

    # --- answers and cards ---------------------------------------------------------

    def _insert_answer(
        self,
        conn,
        actor: Actor,
        item_id: str,
        module: str,
        principle: str,
        choice: int,
        correct: bool,
        seconds: float,
        context: str,
        place: Place,
        now: datetime,
        *,
        post_id: int | None = None,
        session_id: int | None = None,
        position: int | None = None,
        prompt_id: int | None = None,
        delivery_key: str | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO quiz_answers (user_key, user_name, item_id, module, principle, choice,"
            " correct, seconds, context, post_id, session_id, position, prompt_id, platform,"
            " workspace, channel, answered_at, delivery_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                actor.key,
                actor.name,
                item_id,
                module,
                principle,
                choice,
                int(correct),
                round(seconds, 3),
                context,
                post_id,
                session_id,
                position,
                prompt_id,
                place.platform,
                place.workspace,
                place.channel,
                iso(now),
                delivery_key,
            ],
        )

    def _save_card(
        self, conn, user_key: str, item_id: str, correct: bool, now: datetime, review: Review
    ) -> None:
        row = conn.execute(
            "SELECT card FROM quiz_cards WHERE user_key = ? AND item_id = ?", [user_key, item_id]
        ).fetchone()
        card, due = review(row[0] if row else None)
        conn.execute(
            "INSERT INTO quiz_cards (user_key, item_id, card, due, reviews, lapses, updated_at)"
            " VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (user_key, item_id) DO UPDATE SET"
            " card = excluded.card, due = excluded.due, reviews = reviews + 1,"
            " lapses = lapses + excluded.lapses, updated_at = excluded.updated_at",
            [user_key, item_id, card, iso(due), int(not correct), iso(now)],
        )

    def card(self, user_key: str, item_id: str) -> str | None:
        row = self.db.execute(
            "SELECT card FROM quiz_cards WHERE user_key = ? AND item_id = ?", [user_key, item_id]
        ).fetchone()
        return row[0] if row else None

    def card_dues(self, user_key: str) -> dict[str, datetime]:
        rows = self.db.execute(
            "SELECT item_id, due FROM quiz_cards WHERE user_key = ?", [user_key]
        ).fetchall()
        return {r[0]: parse_time(r[1]) for r in rows}

    def due_count(self, user_key: str, now: datetime, item_ids: set[str] | None = None) -> int:
        dues = self.card_dues(user_key)
        return sum(1 for i, d in dues.items() if d <= now and (item_ids is None or i in item_ids))

    def answers(self, **where: object) -> list[dict]:
        """Answer rows as dicts, filtered by equal columns (for reports and tests)."""
        allowed = {
            "user_key",
            "post_id",
            "session_id",
            "prompt_id",
            "item_id",
            "context",
            "channel",
        }
        if not set(where) <= allowed:
            raise ValueError(f"can't filter answers by {sorted(set(where) - allowed)}")
        clause = " AND ".join(f"{k} = ?" for k in where) or "1 = 1"
        rows = self.db.execute(
            f"SELECT * FROM quiz_answers WHERE {clause} ORDER BY id", list(where.values())
        ).fetchall()
        return [dict(r) for r in rows]

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

    # --- practice sessions and exams -----------------------------------------------

    def start_session(
        self,
        kind: str,
        actor: Actor,
        questions: list[Question],
        place: Place,
        now: datetime,
        *,
        tag: str = "",
        content_version: str = "",
    ) -> Session:
        """A new session; a person's unfinished practice session is set aside first.

        For an exam, the partial UNIQUE index allows one active attempt per person; the
        caller resumes an existing one instead of calling this.
        """
        with transaction(self.db) as conn:
            if kind == "practice":
                conn.execute(
                    "UPDATE quiz_sessions SET status = 'abandoned', finished_at = ?"
                    " WHERE user_key = ? AND kind = 'practice' AND status = 'active'",
                    [iso(now), actor.key],
                )
            cur = conn.execute(
                "INSERT INTO quiz_sessions (kind, user_key, user_name, questions, shown_at,"
                " tag, content_version, platform, workspace, channel, started_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    kind,
                    actor.key,
                    actor.name,
                    _questions_json(questions),
                    iso(now),
                    tag,
                    content_version,
                    place.platform,
                    place.workspace,
                    place.channel,
                    iso(now),
                ],
            )
            session_id = int(cur.lastrowid)
        session = self.session(session_id)
        assert session is not None
        return session

    def session(self, session_id: int) -> Session | None:
        row = self.db.execute("SELECT * FROM quiz_sessions WHERE id = ?", [session_id]).fetchone()
        return _session(row) if row else None

    def active_session(self, user_key: str, kind: str) -> Session | None:
        row = self.db.execute(
            "SELECT * FROM quiz_sessions WHERE user_key = ? AND kind = ? AND status = 'active'",
            [user_key, kind],
        ).fetchone()
        return _session(row) if row else None

    def replace_question(self, session_id: int, position: int, question: Question) -> None:
        """Swap in a new item when the stored one has been retired from the content."""
        session = self.session(session_id)
        if session is None:
            return
        questions = list(session.questions)
        questions[position] = question
        self.db.execute(
            "UPDATE quiz_sessions SET questions = ? WHERE id = ?",
            [_questions_json(questions), session_id],
        )

    def show(self, session_id: int, position: int, now: datetime) -> bool:
        """Mark ``position`` as shown now; False if it was already shown (a double click)."""
        cur = self.db.execute(
            "UPDATE quiz_sessions SET shown = ?, shown_at = ? WHERE id = ? AND shown < ?"
            " AND status = 'active'",
            [position, iso(now), session_id, position],
        )
        return cur.rowcount == 1

    def restart_clock(self, session_id: int, now: datetime) -> None:
        """Time to answer counts from when a resumed question is shown again."""
        self.db.execute(
            "UPDATE quiz_sessions SET shown_at = ? WHERE id = ?", [iso(now), session_id]
        )

    def record_session_answer(
        self,
        session_id: int,
        position: int,
        actor: Actor,
        place: Place,
        module: str,
        principle: str,
        choice: int,
        correct: bool,
        now: datetime,
        review: Review,
        *,
        on_finish: Callable[[int, int], tuple[bool, datetime]] | None = None,
    ) -> AnswerResult:
        """Record the answer to question ``position`` of a session, exactly once.

        When it is the last question the session is finished; for an exam ``on_finish(score,
        total)`` returns (passed, refresher_due) and the result is stored in the same
        transaction, so a completion is never half-recorded.
        """
        with transaction(self.db) as conn:
            row = conn.execute("SELECT * FROM quiz_sessions WHERE id = ?", [session_id]).fetchone()
            if row is None or row["user_key"] != actor.key:
                return AnswerResult("not-yours")
            session = _session(row)
            if position < session.answered:
                previous = conn.execute(
                    "SELECT choice FROM quiz_answers WHERE session_id = ? AND position = ?",
                    [session_id, position],
                ).fetchone()
                return AnswerResult("duplicate", previous[0] if previous else None)
            if session.status != "active":
                return AnswerResult("finished")
            if position != session.answered:
                return AnswerResult("stale")
            item_id = session.questions[position].item_id
            seconds = max(0.0, (now - session.shown_at).total_seconds())
            self._insert_answer(
                conn,
                actor,
                item_id,
                module,
                principle,
                choice,
                correct,
                seconds,
                session.kind,
                place,
                now,
                session_id=session_id,
                position=position,
            )
            self._save_card(conn, actor.key, item_id, correct, now, review)
            answered, score = session.answered + 1, session.correct + int(correct)
            done = answered >= session.total
            conn.execute(
                "UPDATE quiz_sessions SET answered = ?, correct = ?, status = ?, finished_at = ?"
                " WHERE id = ?",
                [
                    answered,
                    score,
                    "done" if done else "active",
                    iso(now) if done else None,
                    session_id,
                ],
            )
            if done and session.kind == "exam" and on_finish is not None:
                passed, refresher_due = on_finish(score, session.total)
                conn.execute(
                    "INSERT INTO quiz_exam_results (session_id, user_key, user_name, score,"
                    " total, passed, started_at, completed_at, content_version, refresher_due)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        session_id,
                        actor.key,
                        actor.name,
                        score,
                        session.total,
                        int(passed),
                        iso(session.started_at),
                        iso(now),
                        session.content_version,
                        iso(refresher_due),
                    ],
                )
        return AnswerResult("recorded")

    def session_answers(self, session_id: int) -> list[dict]:
        return self.answers(session_id=session_id)

    # --- questions shown outside the quiz (the "Quiz me on this" button on a tip) ----------

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
        actor: Actor,
        place: Place,
        item_id: str,
        module: str,
        principle: str,
        choice: int,
        correct: bool,
        now: datetime,
        review: Review,
    ) -> AnswerResult:
        """Record the answer to the question last put to this person on this item, once.

        A second click on it (a double click, a retry, a different option) is a duplicate.
        An answer with no prompt on record (a question shown before this was kept) gets one,
        with no time to answer.
        """
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
            self._insert_answer(
                conn,
                actor,
                item_id,
                module,
                principle,
                choice,
                correct,
                max(0.0, (now - shown_at).total_seconds()),
                source,
                place,
                now,
                prompt_id=prompt_id,
            )
            self._save_card(conn, actor.key, item_id, correct, now, review)
        return AnswerResult("recorded")

    # --- exam results --------------------------------------------------------------

    def exam_result(self, session_id: int) -> ExamResult | None:
        row = self.db.execute(
            "SELECT * FROM quiz_exam_results WHERE session_id = ?", [session_id]
        ).fetchone()
        return _exam(row) if row else None

    def last_exam(self, user_key: str) -> ExamResult | None:
        row = self.db.execute(
            "SELECT * FROM quiz_exam_results WHERE user_key = ? ORDER BY completed_at DESC,"
            " id DESC LIMIT 1",
            [user_key],
        ).fetchone()
        return _exam(row) if row else None

    def last_pass(self, user_key: str) -> ExamResult | None:
        row = self.db.execute(
            "SELECT * FROM quiz_exam_results WHERE user_key = ? AND passed = 1"
            " ORDER BY completed_at DESC, id DESC LIMIT 1",
            [user_key],
        ).fetchone()
        return _exam(row) if row else None

    def exam_results(self, limit: int = 100) -> tuple[list[ExamResult], int]:
        """The most recent completions, newest first, and how many there are in all."""
        total = self.db.execute("SELECT COUNT(*) FROM quiz_exam_results").fetchone()[0]
        rows = self.db.execute(
            "SELECT * FROM quiz_exam_results ORDER BY completed_at DESC, id DESC LIMIT ?",
            [limit],
        ).fetchall()
        return [_exam(r) for r in rows], int(total)

    # --- leaderboard ---------------------------------------------------------------

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
