"""The quiz's hot queries use an index, so a busy channel's /quiz stays quick."""

from __future__ import annotations

from bot.core.model import Place
from bot.storage.db import open_db
from bot.storage.schema import upgrade
from content.quiz import store as quiz_store


async def test_recent_items_reads_the_index_newest_first(tmp_path):
    db = open_db(tmp_path / "q.db")
    upgrade(db)
    store = quiz_store.QuizStore(db)
    await store.channel.latest_post_id()  # the engine's first use reads the dialect's settings
    sent: list[str] = []  # as SQLite saw each statement, with its values in place
    db.conn.set_trace_callback(sent.append)
    assert await store.channel.recent_items(Place("slack", "T1", "C1"), 10) == set()
    db.conn.set_trace_callback(None)
    [sql] = sent  # the store's own statement, as built with Core
    assert "ORDER BY quiz_posts.id DESC" in sql
    plan = " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql))
    assert "quiz_posts_place_id" in plan and "TEMP B-TREE" not in plan
    db.close()
