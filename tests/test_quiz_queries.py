"""The quiz's hot queries use an index, so a busy channel's /quiz stays quick."""

from __future__ import annotations

import pytest

from bot.core.model import Place
from content.quiz import store as quiz_store
from tests.support import query_plan, ready_db, trace_sql


@pytest.mark.sqlite_only("reads SQLite's query plan")
async def test_recent_items_reads_the_index_newest_first():
    db = await ready_db(":memory:")
    store = quiz_store.QuizStore(db)
    await store.channel.latest_post_id()  # the engine's first use reads the dialect's settings
    sent: list[str] = []  # as SQLite saw each statement, with its values in place
    await trace_sql(db, sent.append)
    assert await store.channel.recent_items(Place("slack", "T1", "C1"), 10) == set()
    await trace_sql(db, None)
    [sql] = [s for s in sent if s.lstrip().upper().startswith("SELECT")]  # the store's own
    assert "ORDER BY quiz_posts.id DESC" in sql
    plan = " | ".join(await query_plan(db, sql))
    assert "quiz_posts_place_id" in plan and "TEMP B-TREE" not in plan
    await db.close()
