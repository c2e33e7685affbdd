"""The read-modify-write races of issue 14 (item 3), provoked between two instances: two
engines on one database (two pools of connections, as two secbot processes would have),
with the writes of both interleaved. On PostgreSQL each write is its own transaction on
its own connection, so these are real concurrent transactions; on SQLite the two engines
share the file's one write lock. Each race, and how it is closed:

- incident flags and symptoms: the list is read ``FOR UPDATE`` and written in the same
  transaction (``IncidentStore.add_flag``, ``TriageAnswers.set_symptom``);
- incident steps and status: a step is resolved by one ``UPDATE … WHERE status = 'open'``,
  and the status moves on in a transaction that locks the incident and changes it only
  from the status it read (``Steps.resolve``, ``IncidentStore.advance_status``);
- web chat message versions: the version is worked out inside the writing statement while
  a lock on the counter is held until commit (``WebChatStore.add`` / ``replace``);
- quiz question replacement: the session is read ``FOR UPDATE`` and its questions
  compare-and-set (``PracticeStore.replace_question``);
- tip votes: an insert that stands aside for a row already there, then the old vote read
  locked and changed (``Votes.vote``);
- exam starts (one active attempt a person): with no row to lock yet, the starts queue on
  ``serialize(db, "quiz-exam:<person>")`` (``PracticeStore.start_session``).

tests/test_incident_races.py covers acknowledgements, the paging outbox and the last two
contain steps through the app; tests/test_quiz_engine.py the answer tallies and cards.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest

from bot.adapters.web.chat import WebChatStore
from bot.core.model import Actor, Place
from content.quiz.store import Question, QuizStore
from content.tips.store.votes import Votes
from incidents.playbook_lint import load_playbooks
from incidents.store import IncidentStore
from incidents.triage import SYMPTOM_LABELS, Facts
from tests.support import ready_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALEX = Actor("web", "alex", "Alex")
PLACE = Place("web", "local", "room-1")


@pytest.fixture
async def two(tmp_path):
    """Two engines on one database: (first, second)."""
    path = tmp_path / "shared.db"
    first = await ready_db(path)
    second = await ready_db(path)
    yield first, second
    await first.close()
    await second.close()


def alternate(dbs, count: int):
    """``count`` turns, taken by the two engines in turn."""
    return [dbs[n % 2] for n in range(count)]


async def _incident_in_triage(db) -> str:
    inc = await IncidentStore(db).create(NOW, reporter=ALEX, origin=PLACE, platform="x")
    assert inc.triage_step == "symptoms"
    return inc.id


async def test_symptoms_ticked_at_once_on_two_instances_all_stay(two):
    incident_id = await _incident_in_triage(two[0])
    symptoms = sorted(SYMPTOM_LABELS)
    assert len(symptoms) >= 4
    ticked = await asyncio.gather(
        *(
            IncidentStore(db).triage.set_symptom(incident_id, symptom, True)
            for db, symptom in zip(alternate(two, len(symptoms)), symptoms, strict=True)
        )
    )
    assert all(ticked)
    assert sorted((await IncidentStore(two[1]).get(incident_id)).symptoms) == symptoms
    # Unticking half while ticking none: exactly the other half stays.
    await asyncio.gather(
        *(
            IncidentStore(db).triage.set_symptom(incident_id, symptom, False)
            for db, symptom in zip(alternate(two, len(symptoms)), symptoms[::2], strict=False)
        )
    )
    assert sorted((await IncidentStore(two[0]).get(incident_id)).symptoms) == symptoms[1::2]


async def test_flags_added_at_once_on_two_instances_all_stay_once(two):
    incident_id = await _incident_in_triage(two[0])
    flags = [f"flag-{n}" for n in range(12)]
    added = await asyncio.gather(
        *(
            IncidentStore(db).add_flag(incident_id, flag)
            for db, flag in zip(alternate(two, 24), flags * 2, strict=True)
        )
    )
    # Each flag was added twice, once from each instance: exactly one of the two counts.
    assert Counter(flag for flag, did in zip(flags * 2, added, strict=True) if did) == Counter(
        flags
    )
    assert sorted((await IncidentStore(two[1]).get(incident_id)).flags) == sorted(flags)


async def test_steps_resolved_at_once_on_two_instances_move_the_status_once(two):
    incident_id = await _incident_in_triage(two[0])
    store = IncidentStore(two[0])
    facts = Facts.of("x", ["rogue-posts"], 1, [], access="yes", harmful="no", personal_data="no")
    steps = load_playbooks().steps_for(facts)
    assert await store.triage.answer(incident_id, "symptoms", "personal")
    assert await store.triage.finish(
        incident_id, facts=facts, steps=steps, actor=ALEX, now=NOW, said="No"
    )
    contain = [s for s in await store.steps.all(incident_id) if s.phase == "contain"]
    assert len(contain) >= 2

    async def done(db, step_id: str) -> tuple[bool, str | None]:
        """What the desk does for a click on Done: resolve, then maybe move on."""
        on = IncidentStore(db)
        resolved = await on.steps.resolve(incident_id, step_id, "done", ALEX, NOW)
        return resolved, await on.advance_status(incident_id, NOW)

    # Every contain step clicked twice at once, once on each instance.
    clicks = [(db, s.step_id) for s in contain for db in two]
    results = await asyncio.gather(*(done(db, step_id) for db, step_id in clicks))
    assert sum(resolved for resolved, _ in results) == len(contain)  # each step once
    assert [moved for _, moved in results if moved] == ["recovering"]  # the status once
    inc = await IncidentStore(two[1]).get(incident_id)
    assert inc.status == "recovering" and inc.contained_at is not None
    assert all(
        s.status == "done" for s in await store.steps.all(incident_id) if s.phase == "contain"
    )


async def test_web_chat_versions_written_on_two_instances_reach_a_polling_page(two):
    """Posts and edits from both instances, while a page polls for versions after the
    last it saw: every message's final version is seen, none is skipped (a version that
    became visible after a higher one would be), and no two changes share a version."""
    stores = [WebChatStore(db) for db in two]
    seen: set[tuple[int, int]] = set()
    writing = True

    async def poll() -> None:
        last = 0
        while True:
            still_writing = writing
            for row in await stores[1].since("room", "someone", last):
                seen.add((row["id"], row["version"]))
                last = max(last, row["version"])
            if not still_writing:
                return
            await asyncio.sleep(0)

    async def write(store: WebChatStore, n: int) -> None:
        message_id = await store.add("room", "bot", {"text": f"m{n}"}, NOW)
        assert await store.replace(message_id, "room", {"text": f"m{n} edited"})

    poller = asyncio.create_task(poll())
    try:
        await asyncio.gather(*(write(stores[n % 2], n) for n in range(40)))
    finally:
        writing = False
    await poller
    final = await stores[0].since("room", "someone", 0)
    assert len(final) == 40 and {r["text"] for r in final} == {f"m{n} edited" for n in range(40)}
    assert len({r["version"] for r in final}) == 40
    assert {(r["id"], r["version"]) for r in final} <= seen


async def test_a_retired_quiz_question_swapped_on_two_instances_at_once_is_swapped_once(two):
    olds = [Question(f"old-{n}", [0, 1, 2, 3]) for n in range(3)]
    session = await QuizStore(two[0]).practice.start_session("practice", ALEX, olds, PLACE, NOW)
    # Ten swaps at position 0 with ten different new items, and one at position 1, at once.
    swaps = [(0, "old-0", Question(f"new-{n}", [3, 2, 1, 0])) for n in range(10)]
    swaps.append((1, "old-1", Question("other", [0, 1, 2, 3])))
    held = await asyncio.gather(
        *(
            QuizStore(db).practice.replace_question(session.id, position, retired, question)
            for db, (position, retired, question) in zip(alternate(two, 11), swaps, strict=True)
        )
    )
    winner = held[0] if held[0] in [q for _, _, q in swaps[:10]] else None
    assert winner is not None and held[:10] == [winner] * 10  # everyone is shown the same
    assert held[10] == Question("other", [0, 1, 2, 3])
    stored = (await QuizStore(two[1]).practice.session(session.id)).questions
    assert stored == [winner, Question("other", [0, 1, 2, 3]), olds[2]]  # no swap lost


async def test_tip_votes_clicked_at_once_on_two_instances(two):
    """Twenty clicks by one person at once: one row, exactly one click is the first vote
    (told "Thanks") and every other one saw a vote there; forty people at once: all
    counted."""
    votes = [Votes(db) for db in two]
    choices = ["useful", "not-useful"] * 10
    olds = await asyncio.gather(
        *(
            votes[n % 2].vote("tip-1", "web:local:room-1", "web:alex", choice, NOW)
            for n, choice in enumerate(choices)
        )
    )
    assert olds.count(None) == 1 and all(o in choices for o in olds if o is not None)
    (row,) = await votes[0].votes("tip-1")
    assert row[:2] == ("web:local:room-1", "web:alex") and row[2] in choices
    await asyncio.gather(
        *(
            votes[n % 2].vote("tip-2", "web:local:room-1", f"web:p{n}", choices[n % 2], NOW)
            for n in range(40)
        )
    )
    assert (await votes[1].feedback())["tip-2"] == (20, 20)


async def test_exam_starts_on_two_instances_at_once_make_one_attempt(two):
    """No attempt yet, so no row to lock: the starts queue on a lock named for the
    person, and every one after the first gets the first's attempt."""
    questions = [Question(f"q-{n}", [0, 1, 2, 3]) for n in range(3)]
    sessions = await asyncio.gather(
        *(
            QuizStore(db).practice.start_session("exam", ALEX, questions, PLACE, NOW)
            for db in alternate(two, 6)
        )
    )
    assert len({s.id for s in sessions}) == 1
