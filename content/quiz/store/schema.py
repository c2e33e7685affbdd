"""The quiz's tables: one migration list for every quiz store (domain "quiz").

The steps run in this order, once each; never edit or reorder a step, only add new ones.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
