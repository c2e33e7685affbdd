"""The accounts register's store (incidents/register/store.py): accounts and their
access lists kept per tenant, handles unique per tenant however they are written, and
nothing of another tenant ever returned. The chat and CSV tests drive the same store
over HTTP; these pin the API other features (reviews, leavers, training) build on."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core.model import Actor
from incidents.register.model import Access, Details, Person
from incidents.register.store import DuplicateAccount, RegisterStore
from tests.support import ready_db

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
ADMIN = Actor("slack", "UADMIN", "Ada Admin")
TENANT, OTHER = "slack:T1", "slack:T2"


def press_x(**changes) -> Details:
    base = dict(
        platform="x",
        handle="@DeptPress",
        url="https://x.com/DeptPress",
        team="Press office",
        owner=Person("Olu Owner", "UOWNER", "olu@dept.gov.uk"),
        access=(
            Access(Person("Ann Editor", "UANN"), "admin"),
            Access(Person("Bea Agency", "", "bea@agency.example"), "editor"),
        ),  # fmt: skip
        two_factor="sms",
        recovery_email="press@dept.gov.uk",
        recovery_holder="Press office shared mailbox",
        recovery_shared=True,
        verification="verified",
        tools=("Hootsuite (scheduling)",),
        last_reviewed=date(2026, 9, 1),
    )
    return Details(**{**base, **changes})


@pytest.fixture
async def store(tmp_path):
    db = await ready_db(tmp_path / "register.db")
    yield RegisterStore(db)
    await db.close()


async def test_an_account_is_kept_whole_and_seen_only_in_its_tenant(store):
    added = await store.add(TENANT, press_x(), by=ADMIN, now=NOW)
    got = await store.get(TENANT, added.id)
    assert got is not None and got.details == press_x()
    assert got.updated_by == "Ada Admin" and got.updated_at == NOW
    assert got.details.weak_2fa and not got.details.personal_recovery
    # Another tenant: the same id is not there, nor in any list.
    assert await store.get(OTHER, added.id) is None
    assert await store.accounts(OTHER) == []
    assert await store.for_person(OTHER, "UANN") == []
    assert await store.update(OTHER, added.id, press_x(team="Hijack"), by=ADMIN, now=NOW) is None
    assert not await store.remove(OTHER, added.id)
    assert (await store.get(TENANT, added.id)).team == "Press office"


async def test_a_handle_is_registered_once_per_tenant_however_written(store):
    first = await store.add(TENANT, press_x(), by=ADMIN, now=NOW)
    with pytest.raises(DuplicateAccount) as clash:
        await store.add(TENANT, press_x(handle="deptpress"), by=ADMIN, now=NOW)
    assert clash.value.existing == first.id
    # The same handle on another platform, or in another tenant, is another account.
    await store.add(TENANT, press_x(platform="threads"), by=ADMIN, now=NOW)
    await store.add(OTHER, press_x(), by=ADMIN, now=NOW)
    assert len(await store.accounts(TENANT)) == 2
    assert (await store.find(TENANT, "x", "DEPTPRESS")).id == first.id


async def test_people_teams_reviews_and_leavers(store):
    a = await store.add(TENANT, press_x(), by=ADMIN, now=NOW)
    b = await store.add(TENANT, press_x(platform="instagram", team="Digital", owner=None,
                                        access=(Access(Person("Ann", "UANN"), "editor"),)),
                        by=ADMIN, now=NOW)  # fmt: skip
    await store.add(TENANT, press_x(platform="youtube", team="Digital", access=()),
                    by=ADMIN, now=NOW)  # fmt: skip
    assert [x.id for x in await store.for_person(TENANT, "UANN")] == [b.id, a.id]
    assert await store.teams(TENANT) == ["Digital", "Press office"]
    assert await store.teams_of(TENANT, "UANN") == ["Digital", "Press office"]
    assert len(await store.accounts(TENANT, team="press OFFICE")) == 1
    ann = Person("Ann Editor", "UANN").key
    assert await store.remove_access(TENANT, a.id, ann)
    assert not await store.remove_access(TENANT, a.id, ann)  # twice: one change
    assert not await store.remove_access(OTHER, b.id, ann)
    assert [x.person.name for x in (await store.get(TENANT, a.id)).access] == ["Bea Agency"]
    assert await store.mark_reviewed(TENANT, a.id, date(2026, 12, 4))
    assert (await store.get(TENANT, a.id)).details.last_reviewed == date(2026, 12, 4)


async def test_an_import_adds_new_accounts_and_updates_registered_ones(store):
    await store.add(TENANT, press_x(), by=ADMIN, now=NOW)
    applied = await store.apply(
        TENANT, [press_x(handle="deptpress", team="Comms"), press_x(platform="tiktok")],
        by=ADMIN, now=NOW,
    )  # fmt: skip
    assert (applied.added, applied.updated) == (1, 1)
    assert sorted(a.team for a in await store.accounts(TENANT)) == ["Comms", "Press office"]


async def test_a_review_answered_twice_at_once_records_one_decision(store):
    """A double click, or Keep and Remove pressed together by the owner and an admin,
    arrive at the same moment: the UNIQUE (review, person) keeps the first, on SQLite and
    PostgreSQL alike, and the review is attested once."""
    import asyncio

    from incidents.reviews.store import Reviewed, ReviewStore

    account = await store.add(TENANT, press_x(), by=ADMIN, now=NOW)
    reviews = ReviewStore(store.db)
    ann = Reviewed(Person("Ann Editor", "UANN").key, "Ann Editor", "admin")
    review = await reviews.open(
        tenant=TENANT, account_id=account.id, account_title=account.title, period="2026-10-01",
        owner_id="UOWNER", owner_name="Olu Owner", place="", people=[ann], now=NOW,
        due_on=date(2026, 12, 18), next_reminder_at=NOW,
    )  # fmt: skip
    assert review is not None
    made = await asyncio.gather(
        *(reviews.decide(review, ann, decision, by=f"slack:U{n}", by_name=f"U{n}", now=NOW)
          for n, decision in enumerate(["keep", "remove"] * 4))
    )  # fmt: skip
    assert len([m for m in made if m is not None]) == 1
    (decided,) = (await reviews.decisions(review.id)).values()
    assert decided == next(m for m in made if m is not None)
    done = await asyncio.gather(
        *(reviews.finish(review.id, by=f"slack:U{n}", by_name=f"U{n}", now=NOW) for n in range(4))
    )
    assert sorted(done) == [False, False, False, True]
