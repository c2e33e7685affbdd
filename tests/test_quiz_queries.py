"""The quiz's hot queries use an index, so a busy channel's /quiz stays quick."""

from __future__ import annotations

from bot.core.model import Place
from bot.storage.db import migrate, open_db
from content.quiz import store as quiz_store


def _plan(db, sql: str, params: list) -> str:
    return " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, params))


def test_recent_items_reads_the_index_newest_first(tmp_path):
    db = open_db(tmp_path / "q.db")
    migrate(db, quiz_store.DOMAIN, quiz_store.MIGRATIONS)
    store = quiz_store.QuizStore(db)
    plan = _plan(
        db,
        "SELECT item_id FROM quiz_posts WHERE platform = ? AND workspace = ? AND channel = ?"
        " ORDER BY id DESC LIMIT ?",
        ["slack", "T1", "C1", 10],
    )
    assert "quiz_posts_place_id" in plan and "TEMP B-TREE" not in plan
    assert store.channel.recent_items(Place("slack", "T1", "C1"), 10) == set()
