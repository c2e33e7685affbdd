"""Unit tests for the quiz's pure rules, its store's guarantees and its message updates."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.core.model import Actor, Place
from bot.storage.db import migrate, open_db
from bot.storage.migrations.legacy import LEGACY
from bot.storage.sql import execute
from content.library.models import MODULES, PRINCIPLES
from content.quiz import engine
from content.quiz.store import Answer, Question, QuizStore, iso
from content.quiz.store.tables import quiz_cards
from content.quiz.updates import MessageUpdates
from tests.quiz_support import LIBRARY, START, make_item
from tests.support import RawDatabase, in_a_thread, raw_file, ready_db, sqlite_file

ENGLAND = holidays.country_holidays("GB", subdiv="ENG")
ITEMS = list(LIBRARY.quiz_items.values())


# --- arguments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", engine.QuizRequest("post")),
        ("10m", engine.QuizRequest("post", duration=timedelta(minutes=10))),
        ("2h", engine.QuizRequest("post", duration=timedelta(hours=2))),
        ("Phishing", engine.QuizRequest("post", tag="phishing")),
        ("10m phishing", engine.QuizRequest("post", timedelta(minutes=10), "phishing")),
        ("control-access 90m", engine.QuizRequest("post", timedelta(minutes=90), "control-access")),
        ("me", engine.QuizRequest("practice")),
        ("me 2fa", engine.QuizRequest("practice", tag="2fa")),
        ("me 10m", engine.QuizRequest("practice", duration=timedelta(minutes=10))),
        ("10 minutes", engine.QuizRequest("post", duration=timedelta(minutes=10))),
        ("2fa 3 hours", engine.QuizRequest("post", timedelta(hours=3), "2fa")),
        ("exam", engine.QuizRequest("exam")),
        ("stats", engine.QuizRequest("stats")),
        ("leaderboard off", engine.QuizRequest("leaderboard", switch="off")),
        ("report", engine.QuizRequest("report")),
    ],
)
def test_parse_request(args, expected):
    assert engine.parse_request(args) == expected


def test_durations_are_bounded():
    assert engine.parse_duration("1m") == timedelta(minutes=1)
    assert engine.parse_duration("7d") == timedelta(days=7)
    assert engine.parse_duration("45 mins") == timedelta(minutes=45)
    assert engine.parse_duration("phishing") is None
    for bad in ("0m", "8d", "200h"):
        with pytest.raises(engine.DurationError, match="1 minute to 7 days"):
            engine.parse_duration(bad)
    with pytest.raises(engine.DurationError, match="“0m” is too short"):
        engine.parse_duration("0m")
    with pytest.raises(engine.DurationError, match="“30d” is too long"):
        engine.parse_duration("30d")
    with pytest.raises(engine.DurationError, match="just one time"):
        engine.parse_request("10m 2h")


@pytest.mark.parametrize(
    ("word", "timeish"),
    [
        ("99x", True),
        ("1.5h", True),
        ("10", True),
        ("5weeks", True),
        ("3 days", True),
        ("2fa", False),  # a topic, not a time
        ("phishing", False),
        ("control-access", False),
    ],
)
def test_words_meant_as_times_are_recognised(word, timeish):
    assert engine.looks_like_time(word) is timeish


# --- shuffling and choosing --------------------------------------------------------------


def test_option_order_is_a_shuffled_permutation():
    rng = random.Random(1)
    orders = [engine.option_order(rng) for _ in range(200)]
    assert all(sorted(o) == [0, 1, 2, 3] for o in orders)
    assert Counter(o.index(0) for o in orders).keys() == {0, 1, 2, 3}  # the answer moves


def test_pick_item_avoids_recent_questions_until_all_are_used():
    recent = {i.id for i in ITEMS[:-1]}
    assert engine.pick_item(ITEMS, recent, random.Random(3)) is ITEMS[-1]
    assert engine.pick_item(ITEMS, {i.id for i in ITEMS}, random.Random(3)) in ITEMS


def test_fsrs_review_schedules_wrong_answers_sooner():
    right, right_due = engine.review(None, True, START, user_key="u", item_id="i")
    wrong, wrong_due = engine.review(None, False, START, user_key="u", item_id="i")
    assert START < wrong_due < right_due
    _, again_due = engine.review(right, True, right_due, user_key="u", item_id="i")
    assert again_due - right_due > right_due - START  # intervals grow with success
    assert f'"card_id": {engine.card_id("u", "i")}' in right


def test_practice_takes_due_items_first_then_the_weakest_principle():
    now = START
    due = {
        "t-policy-control-access": now - timedelta(days=3),
        "t-people-recovery-plan": now - timedelta(days=1),
        "t-accounts-track-actions": now + timedelta(days=5),  # seen, not due
    }
    scores = {
        "content-approval": engine.Score(answered=4, correct=0),
        "control-access": engine.Score(answered=4, correct=4),
    }
    for seed in range(30):
        chosen = engine.choose_practice(ITEMS, due, scores, now, random.Random(seed))
        ids = [i.id for i in chosen]
        assert len(set(ids)) == 5
        assert ids[:2] == ["t-policy-control-access", "t-people-recovery-plan"]
        assert chosen[2].principle == "content-approval"
        assert "t-accounts-track-actions" not in ids  # unseen items come before it


def test_practice_leans_towards_weak_principles():
    scores = {p: engine.Score(10, 10) for p in PRINCIPLES}
    scores["recovery-plan"] = engine.Score(10, 1)
    picks = Counter()
    for seed in range(300):
        for item in engine.choose_practice(ITEMS, {}, scores, START, random.Random(seed))[1:]:
            picks[item.principle] += 1
    assert picks["recovery-plan"] > 2 * max(v for p, v in picks.items() if p != "recovery-plan")


def test_practice_falls_back_to_seen_items_when_everything_is_seen():
    due = {i.id: START + timedelta(days=n + 1) for n, i in enumerate(ITEMS)}
    chosen = engine.choose_practice(ITEMS, due, {}, START, random.Random(0))
    assert [i.id for i in chosen] == [i.id for i in ITEMS[:5]]  # soonest due first


def test_weakest_principle_needs_answers():
    assert engine.weakest_principle({}) is None
    scores = {"control-access": engine.Score(3, 1), "track-actions": engine.Score(3, 3)}
    assert engine.weakest_principle(scores) == "control-access"


@pytest.mark.parametrize("seed", range(40))
def test_exam_covers_every_module_and_principle(seed):
    chosen = engine.compose_exam(ITEMS, random.Random(seed))
    assert len(chosen) == 10 and len({i.id for i in chosen}) == 10
    assert {i.module for i in chosen} == set(MODULES)
    assert {i.principle for i in chosen} == set(PRINCIPLES)
    assert max(Counter(i.principle for i in chosen).values()) <= 2


def test_exam_from_the_shipped_content(content_library):
    items = list(content_library.quiz_items.values())
    for seed in range(50):
        chosen = engine.compose_exam(items, random.Random(seed))
        assert {i.module for i in chosen} == set(MODULES)
        assert {i.principle for i in chosen} == set(PRINCIPLES)
        assert len({i.id for i in chosen}) == 10


def test_exam_refuses_content_that_cannot_cover_everything():
    no_recovery = [i for i in ITEMS if i.principle != "recovery-plan"]
    with pytest.raises(engine.ExamUnavailable, match="recovery-plan"):
        engine.compose_exam(no_recovery, random.Random(0))
    with pytest.raises(engine.ExamUnavailable):
        engine.compose_exam(ITEMS[:5], random.Random(0))
    only_two_modules = [make_item(m, p, n) for m in MODULES[:2] for p in PRINCIPLES for n in (1, 2)]
    with pytest.raises(engine.ExamUnavailable, match="people"):
        engine.compose_exam(only_two_modules, random.Random(0))


def test_pass_mark_is_eighty_percent():
    assert engine.exam_passed(8, 10) and not engine.exam_passed(7, 10)
    assert not engine.exam_passed(0, 0)


# --- dates -------------------------------------------------------------------------------


def test_streak_skips_weekends_and_bank_holidays():
    # Christmas 2026: Friday 25 and Monday 28 December are bank holidays.
    days = {date(2026, 12, 22), date(2026, 12, 23), date(2026, 12, 24), date(2026, 12, 29)}
    assert engine.streak(days, date(2026, 12, 29), ENGLAND) == 4
    assert engine.streak(days, date(2026, 12, 30), ENGLAND) == 4  # nothing yet today
    assert engine.streak(days, date(2026, 12, 31), ENGLAND) == 0  # missed the 30th
    assert engine.streak({date(2026, 12, 26)}, date(2026, 12, 29), ENGLAND) == 0  # weekend
    friday_monday = {date(2026, 11, 27), date(2026, 11, 30)}
    assert engine.streak(friday_monday, date(2026, 11, 30), ENGLAND) == 2
    assert engine.streak(set(), date(2026, 11, 30), ENGLAND) == 0


def test_add_months_clamps_to_the_end_of_the_month():
    assert engine.add_months(datetime(2027, 1, 31, tzinfo=UTC), 1) == datetime(
        2027, 2, 28, tzinfo=UTC
    )
    assert engine.add_months(datetime(2028, 2, 29, tzinfo=UTC), 12) == datetime(
        2029, 2, 28, tzinfo=UTC
    )
    assert engine.add_months(START, 12) == START.replace(year=2027)


def test_month_bounds_follow_the_uk_clock():
    start, end = engine.month_bounds(
        datetime(2026, 6, 15, 12, tzinfo=UTC), ZoneInfo("Europe/London")
    )
    assert start == datetime(2026, 5, 31, 23, tzinfo=UTC)
    assert end == datetime(2026, 6, 30, 23, tzinfo=UTC)
    start, end = engine.month_bounds(
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC), ZoneInfo("Europe/London")
    )
    assert (start, end) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


# --- the store's guarantees ----------------------------------------------------------------


@pytest.fixture
async def store(tmp_path):
    db = await ready_db(tmp_path / "quiz.db")
    yield QuizStore(db)
    await db.close()


# A constraint the database itself enforces, refused by hand-written SQL: sqlite3's
# error on SQLite, SQLAlchemy's driver-neutral one on PostgreSQL.
INTEGRITY = (sqlite3.IntegrityError, IntegrityError)


def raw(store: QuizStore):
    """The store's database by hand (a row the store would refuse, a racing write)."""
    url = store.db.engine.url
    if url.get_backend_name() == "sqlite":
        return raw_file(url.database)
    return RawDatabase(url.render_as_string(hide_password=False))


PLACE = Place("slack", "T1", "C1")
ALEX = Actor("slack", "U1", "Alex")


def _review(old):
    return engine.review(old, True, START, user_key=ALEX.key, item_id="x")


def _answer(actor, item_id, module, principle, choice, correct, now, place=PLACE) -> Answer:
    return Answer(actor, place, item_id, module, principle, choice, correct, now, _review)


async def test_one_answer_per_person_per_question(store):
    post = await store.channel.create_post(
        "t-policy-approval", [0, 1, 2, 3], "", PLACE, "slack:U9", START, START + timedelta(hours=1)
    )
    args = (post.item_id, "policy", "content-approval", 0, True, START + timedelta(seconds=12))
    assert (await store.channel.record_post_answer(post, _answer(ALEX, *args))).status == "recorded"
    again = await store.channel.record_post_answer(
        post, _answer(ALEX, post.item_id, "policy", "content-approval", 2, False, START)
    )
    assert (again.status, again.previous_choice) == ("duplicate", 0)
    [row] = await store.stats.answers(post_id=post.id)
    assert (row["seconds"], row["user_name"], row["choice"]) == (12.0, "Alex", 0)
    with pytest.raises(INTEGRITY):  # the database refuses it too
        raw(store).execute(
            "INSERT INTO quiz_answers (user_key, item_id, module, principle, choice, correct,"
            " seconds, context, post_id, platform, workspace, channel, answered_at)"
            " VALUES ('slack:U1', 'x', 'policy', 'control-access', 1, 0, 0, 'channel', ?, 'slack',"
            " 'T1', 'C1', 'now')",
            [post.id],
        )
    assert await store.channel.close_post(post.id, START)
    assert not await store.channel.close_post(post.id, START)
    bob = Actor("slack", "U2", "Bob")
    assert (await store.channel.record_post_answer(post, _answer(bob, *args))).status == "closed"
    assert await store.channel.counts(post.id) == (1, 1)
    assert (await store.practice.card_dues(ALEX.key)).keys() == {"t-policy-approval"}


async def test_answers_after_the_deadline_are_refused(store):
    post = await store.channel.create_post(
        "x", [0, 1, 2, 3], "", PLACE, "slack:U9", START, START + timedelta(minutes=1)
    )
    late = START + timedelta(minutes=1)
    assert (
        (await store.channel.record_post_answer(
            post, _answer(ALEX, post.item_id, "policy", "control-access", 0, True, late)
        )).status
        == "due"
    )
    assert [p.id for p in await store.channel.due_posts(late)] == [post.id]
    assert await store.channel.next_deadline() == START + timedelta(minutes=1)


async def test_one_exam_in_progress_per_person(store):
    questions = [Question("x", [0, 1, 2, 3])]
    exam = await store.practice.start_session("exam", ALEX, questions, PLACE, START)
    # A second start (two /quiz exam at once) gets the attempt already in progress.
    again = await store.practice.start_session("exam", ALEX, [], PLACE, START)
    assert again == exam
    first = await store.practice.start_session("practice", ALEX, questions, PLACE, START)
    second = await store.practice.start_session("practice", ALEX, questions, PLACE, START)
    assert (await store.practice.session(first.id)).status == "abandoned"
    assert (await store.practice.active_session(ALEX.key, "practice")).id == second.id


async def test_a_retired_question_is_swapped_once_and_the_first_swap_wins(store):
    questions = [Question("old-1", [0, 1, 2, 3]), Question("old-2", [3, 2, 1, 0])]
    session = await store.practice.start_session("practice", ALEX, questions, PLACE, START)
    first = Question("new-a", [0, 1, 2, 3])
    assert await store.practice.replace_question(session.id, 0, "old-1", first) == first
    # A second click that also found "old-1" retired picked another item: it gets the
    # first swap's, so everyone answers the same question.
    late = Question("new-b", [0, 1, 2, 3])
    assert await store.practice.replace_question(session.id, 0, "old-1", late) == first
    # A swap at another position keeps the first one (no lost update).
    other = Question("new-c", [3, 2, 1, 0])
    assert await store.practice.replace_question(session.id, 1, "old-2", other) == other
    stored = (await store.practice.session(session.id)).questions
    assert stored == [first, other]
    assert await store.practice.replace_question(999, 0, "old-1", late) is None


async def _reviews_of(store: QuizStore, item_id: str) -> int:
    query = select(quiz_cards.c.reviews).where(
        (quiz_cards.c.user_key == ALEX.key) & (quiz_cards.c.item_id == item_id)
    )
    return (await execute(store.db, query)).scalar_one()


async def test_two_answers_on_one_new_card_at_once_both_count(store):
    """A channel question and a tip question on the same item, answered at once (two
    concurrent tasks, each with its own transaction): the card counts both reviews."""
    post = await store.channel.create_post(
        "x", [0, 1, 2, 3], "", PLACE, "slack:U9", START, START + timedelta(hours=1)
    )
    channel = _answer(ALEX, "x", "policy", "content-approval", 0, True, START)
    tip = _answer(ALEX, "x", "policy", "content-approval", 0, True, START)
    results = await asyncio.gather(
        store.channel.record_post_answer(post, channel),
        store.prompts.record_prompt_answer("tip", tip),
    )
    assert [r.status for r in results] == ["recorded", "recorded"]
    assert await _reviews_of(store, "x") == 2


async def test_a_card_made_under_a_review_is_reviewed_again_not_overwritten(store):
    """Another instance's answer makes the person's first card for an item and commits
    between this answer's read (no card yet, so no row to lock) and its write: the write
    finds the card there, reads it again and reapplies, so both reviews count."""
    if store.db.dialect == "sqlite":
        pytest.skip("SQLite's one writer makes this race impossible: atomic holds the file lock")
    post = await store.channel.create_post(
        "x", [0, 1, 2, 3], "", PLACE, "slack:U9", START, START + timedelta(hours=1)
    )
    url = store.db.engine.url.render_as_string(hide_password=False)

    async def other_instance() -> None:
        other = QuizStore(open_db(url))
        try:
            tip = _answer(ALEX, "x", "policy", "content-approval", 0, True, START)
            assert (await other.prompts.record_prompt_answer("tip", tip)).status == "recorded"
        finally:
            await other.db.close()

    seen: list[str | None] = []

    def racing_review(old):
        seen.append(old)
        if len(seen) == 1:  # the other instance's answer commits now, on its own connection
            in_a_thread(other_instance())
        return _review(old)

    answer = Answer(ALEX, PLACE, "x", "policy", "content-approval", 0, True, START, racing_review)
    assert (await store.channel.record_post_answer(post, answer)).status == "recorded"
    assert seen[0] is None and seen[1] is not None  # read none, found one at write, read again
    assert len(seen) == 2
    assert await _reviews_of(store, "x") == 2  # the racing answer and this one


async def test_tip_answers_are_recorded_once_per_question_shown(store):
    prompt = await store.prompts.prompt_shown("tip", "tip-1", ALEX, PLACE, "x", START)
    # Shown again before it was answered: the same question, its clock restarted.
    assert await store.prompts.prompt_shown(
        "tip", "tip-1", ALEX, PLACE, "x", START + timedelta(seconds=5)
    ) == (prompt)
    args = (ALEX, "x", "policy", "control-access")
    first = await store.prompts.record_prompt_answer(
        "tip", _answer(*args, 1, False, START + timedelta(seconds=15))
    )
    assert first.status == "recorded"
    again = await store.prompts.record_prompt_answer(
        "tip", _answer(*args, 0, True, START + timedelta(seconds=16))
    )
    assert (again.status, again.previous_choice) == ("duplicate", 1)
    [row] = await store.stats.answers(context="tip")
    assert (row["prompt_id"], row["seconds"], row["choice"], row["correct"]) == (prompt, 10.0, 1, 0)
    assert (row["platform"], row["channel"], row["user_key"]) == ("slack", "C1", "slack:U1")

    # A new showing of the same question can be answered again.
    later = await store.prompts.prompt_shown(
        "tip", "tip-1", ALEX, PLACE, "x", START + timedelta(minutes=1)
    )
    assert later != prompt
    assert (await store.prompts.record_prompt_answer(
        "tip", _answer(*args, 0, True, START + timedelta(minutes=2))
    )).status
    assert [r["prompt_id"] for r in await store.stats.answers(context="tip")] == [prompt, later]
    reviews = raw(store).execute(
        "SELECT reviews, lapses FROM quiz_cards WHERE user_key = ? AND item_id = 'x'", [ALEX.key]
    ).fetchone()
    assert tuple(reviews) == (2, 1)  # both answers reached the spaced-repetition card

    # An answer to a question shown before prompts were kept is recorded once, untimed.
    bob = Actor("slack", "U2", "Bob")
    bobs_answer = _answer(bob, "y", "people", "recovery-plan", 2, True, START)
    assert (await store.prompts.record_prompt_answer("tip", bobs_answer)).status == "recorded"
    assert (await store.prompts.record_prompt_answer("tip", bobs_answer)).status == "duplicate"
    [bobs] = await store.stats.answers(user_key="slack:U2")
    assert bobs["seconds"] == 0.0
    with pytest.raises(INTEGRITY):  # the database refuses a second one too
        raw(store).execute(
            "INSERT INTO quiz_answers (user_key, item_id, module, principle, choice, correct,"
            " seconds, context, prompt_id, platform, workspace, channel, answered_at)"
            " VALUES ('slack:U2', 'y', 'people', 'recovery-plan', 1, 0, 0, 'tip', ?, 'slack',"
            " 'T1', 'C1', 'now')",
            [bobs["prompt_id"]],
        )


async def test_migration_two_keeps_every_answer_and_its_guarantees(tmp_path):
    db = sqlite_file(tmp_path / "old.db")
    migrate(db.conn, "quiz", LEGACY["quiz"][:1])  # a database from before tip answers were kept
    # Written as that version's code wrote it (the store now writes later columns too).
    db.execute(
        "INSERT INTO quiz_posts (item_id, option_order, tag, platform, workspace, channel,"
        " posted_by, created_at, closes_at) VALUES ('x', '[0, 1, 2, 3]', '', ?, ?, ?,"
        " 'slack:U9', ?, ?)",
        [PLACE.platform, PLACE.workspace, PLACE.channel, iso(START),
         iso(START + timedelta(hours=1))],
    )  # fmt: skip
    db.execute(
        "INSERT INTO quiz_answers (user_key, user_name, item_id, module, principle, choice,"
        " correct, seconds, context, post_id, platform, workspace, channel, answered_at)"
        " VALUES ('slack:U1', 'Alex', 'x', 'policy', 'control-access', 2, 1, 3.5, 'channel',"
        " ?, 'slack', 'T1', 'C1', ?)",
        [1, START.isoformat()],
    )

    def answers() -> list[dict]:  # as stored: the store's own reads need today's schema
        return [dict(r) for r in db.execute("SELECT * FROM quiz_answers ORDER BY id")]

    before = answers()
    assert migrate(db.conn, "quiz", LEGACY["quiz"][:2]) == 1
    after = answers()
    assert [{k: v for k, v in r.items() if k != "prompt_id"} for r in after] == before
    assert after[0]["prompt_id"] is None
    store = QuizStore(await ready_db(tmp_path / "old.db"))  # the store's code is today's
    post = await store.channel.post(1)
    assert post is not None
    again = await store.channel.record_post_answer(
        post, _answer(ALEX, post.item_id, "policy", "control-access", 0, True, START)
    )
    assert (again.status, again.previous_choice) == ("duplicate", 2)  # UNIQUE kept
    indexes = {r[1] for r in db.execute("PRAGMA index_list(quiz_answers)").fetchall()}
    assert {"quiz_answers_user", "quiz_answers_place"} <= indexes
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert migrate(db.conn, "quiz", LEGACY["quiz"][:2]) == 0
    await store.db.close()
    db.close()


# --- message updates -----------------------------------------------------------------------


async def test_updates_coalesce_and_the_last_one_sees_the_final_state():
    state = {"count": 0}
    shown: list[int] = []

    async def update():
        await asyncio.sleep(0.01)
        shown.append(state["count"])

    updates = MessageUpdates(gap=0.01)

    async def answer():
        state["count"] += 1
        await updates.request(1, update)

    await asyncio.gather(*(answer() for _ in range(100)))
    assert shown[-1] == 100
    assert len(shown) < 10


def test_refresh_months_setting():
    from bot.settings import ConfigError, load_settings
    from content.quiz.feature import refresh_months

    assert refresh_months(load_settings({}, env_file=None)) == 12
    assert refresh_months(load_settings({"SECBOT_EXAM_REFRESH_MONTHS": "6"}, env_file=None)) == 6
    for bad in ("0", "twelve", "500"):
        with pytest.raises(ConfigError, match="SECBOT_EXAM_REFRESH_MONTHS"):
            refresh_months(load_settings({"SECBOT_EXAM_REFRESH_MONTHS": bad}, env_file=None))


async def test_an_early_caller_does_not_wait_for_a_whole_burst():
    # Driven by events, not sleeps, so a slow machine can't make it fail.
    started = [asyncio.Event(), asyncio.Event()]
    release = [asyncio.Event(), asyncio.Event()]
    calls = 0

    async def update():
        nonlocal calls
        n, calls = calls, calls + 1
        started[n].set()
        await release[n].wait()

    updates = MessageUpdates(gap=0)
    first = asyncio.ensure_future(updates.request(7, update))
    await started[0].wait()  # the first edit is in flight
    later = [asyncio.ensure_future(updates.request(7, update)) for _ in range(5)]
    await asyncio.sleep(0)  # they have all asked
    release[0].set()
    await asyncio.wait_for(first, 10)  # done after its own edit...
    await started[1].wait()
    assert not any(t.done() for t in later)  # ...while the others wait for the next one
    release[1].set()
    await asyncio.wait_for(asyncio.gather(*later), 10)
    assert calls == 2


async def test_a_rate_limited_edit_is_tried_again_without_holding_up_the_click():
    from bot.core import DeliveryFailed

    state = {"count": 0}
    shown: list[int] = []
    failures = [DeliveryFailed("ratelimited", retry_after=0.01)]

    async def update():
        if failures:
            raise failures.pop()
        shown.append(state["count"])

    updates = MessageUpdates(gap=0)
    state["count"] = 1
    await asyncio.wait_for(updates.request(3, update), 10)  # released after the failure
    await asyncio.wait_for(updates.idle(), 10)
    assert shown == [1]  # the retry read the state afresh and got through

    # Permanent failures and failures with no Retry-After are not retried; a platform
    # that keeps refusing is tried three more times, then left until the next answer.
    for failure, expected in (
        (DeliveryFailed("channel_not_found", permanent=True), 1),
        (DeliveryFailed("fatal_error"), 1),
    ):
        attempts = 0

        async def refused(f=failure):
            nonlocal attempts
            attempts += 1
            raise f

        await updates.request(4, refused)
        await asyncio.wait_for(updates.idle(), 10)
        assert attempts == expected

    attempts = 0

    async def always_limited():
        nonlocal attempts
        attempts += 1
        raise DeliveryFailed("ratelimited", retry_after=0.001)

    await updates.request(5, always_limited)
    await asyncio.wait_for(updates.idle(), 10)
    assert attempts == 4


async def test_a_click_waits_for_its_edit_only_so_long_and_shutdown_stops_edits():
    release = asyncio.Event()

    async def slow():
        await release.wait()

    updates = MessageUpdates(gap=0, caller_wait=0.01)
    await asyncio.wait_for(updates.request(9, slow), 10)  # returned, the edit still going
    assert len(updates) == 1
    await updates.drain(0.01)
    assert len(updates) == 0


def test_exam_report_names_people_and_tells_namesakes_apart():
    """Managers read the exam report by people's names, not platform ids; two people who
    share a name are told apart by their chat platform (then by id), and someone with no
    name on record is shown by their login alone."""
    from content.quiz.render.stats import report
    from content.quiz.store import ExamResult

    def result(key: str, name: str, score: int) -> ExamResult:
        return ExamResult(
            session_id=score,
            user_key=key,
            user_name=name,
            score=score,
            total=10,
            passed=score >= 8,
            started_at=START,
            completed_at=START,
            content_version="v1",
            refresher_due=START + timedelta(days=182),
        )

    rows = [
        result("slack:UANN", "Ann Editor", 9),
        result("teams:aad-ann", "Ann Editor", 8),
        result("slack:UBOB", "Bob Writer", 7),
        result("slack:UBOB2", "Bob Writer", 6),
        result("web:carol", "", 5),
        result("teams:aad-dan", "Dan Lead", 10),
    ]
    text = report(rows, len(rows), ZoneInfo("Europe/London")).text
    assert "Ann Editor (Slack): 9/10, pass" in text
    assert "Ann Editor (Teams): 8/10, pass" in text
    assert "Bob Writer (Slack, UBOB): 7/10, fail" in text
    assert "Bob Writer (Slack, UBOB2): 6/10, fail" in text
    assert "\ncarol: 5/10, fail" in text
    assert "\nDan Lead: 10/10, pass" in text
    assert "aad-" not in text and "web:" not in text
