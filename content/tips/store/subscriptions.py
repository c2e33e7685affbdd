"""Tip subscriptions: one per channel, its schedule and when it is next due."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, func, select, update

from bot.core.model import Place
from bot.storage.sql import Db, atomic, execute, upsert
from content.tips.schedule import Schedule, encode_days
from content.tips.store.records import SUB_COLUMNS, Subscription, parse_ts, sub_from_row, ts
from content.tips.store.tables import Unindexed, tip_subscriptions

# Statements are built once, here, and run with their parameters: building one costs
# more than running it.
_s = tip_subscriptions.c
_THE_CHANNEL = (
    (_s.platform == bindparam("platform"))
    & (_s.workspace == bindparam("workspace"))
    & (_s.channel == bindparam("channel"))
)
_BY_ID = _s.id == bindparam("sub_id")
_upsert = upsert(tip_subscriptions)
_SUBSCRIBE = _upsert.on_conflict_do_update(
    index_elements=[_s.platform, _s.workspace, _s.channel],
    set_={
        name: _upsert.excluded[name]
        for name in (
            "is_direct",
            "thread",
            "local_time",
            "days",
            "nation",
            "created_by",
            "updated_at",
            "delivery_key",
        )
    }
    | {"active": 1, "inactive_reason": None},
)
_ID_OF_CHANNEL = select(_s.id).where(_THE_CHANNEL)
_SET_BY = select(_s.id).where(_THE_CHANNEL & (_s.delivery_key == bindparam("delivery_key")))
_DEACTIVATE = (
    update(tip_subscriptions)
    .where(_BY_ID & (_s.active == 1))
    .values(
        active=0,
        inactive_reason=bindparam("reason"),
        next_due=None,
        next_local_date=None,
        updated_at=bindparam("now"),
    )
)
_FIND = select(*SUB_COLUMNS).where(_THE_CHANNEL)
_GET = select(*SUB_COLUMNS).where(_BY_ID)
_ALL = (
    select(*SUB_COLUMNS)
    .order_by(_s.active.desc(), _s.platform, _s.workspace, _s.channel)
    .limit(bindparam("limit"))
)
_COUNTS = select(func.coalesce(func.sum(_s.active), 0), func.count())
_IS_ACTIVE = select(_s.active).where(_BY_ID)
# Unindexed: SQLite stays on the primary key (a range from `after_id`) instead of the
# (active, next_due) index, which would re-sort every active row for each page.
_ACTIVE_PAGE = (
    select(*SUB_COLUMNS)
    .where((_s.id > bindparam("after_id")) & (Unindexed(_s.active) == 1))
    .order_by(_s.id)
    .limit(bindparam("limit"))
)
_DUE = (
    select(*SUB_COLUMNS)
    .where((_s.active == 1) & _s.next_due.is_not(None) & (_s.next_due <= bindparam("now")))
    .order_by(_s.next_due, _s.id)
    .limit(bindparam("limit"))
)
_PARK = update(tip_subscriptions).where(_BY_ID).values(next_local_date=None, next_due=None)
_SET_NEXT = (
    update(tip_subscriptions)
    .where(_BY_ID & (_s.active == 1))
    .values(next_local_date=bindparam("local_date"), next_due=bindparam("due"))
)
_EARLIEST_DUE = select(func.min(_s.next_due)).where(_s.active == 1)
_COUNT_ACTIVE = select(func.count()).where(_s.active == 1)


def _channel(place: Place) -> dict[str, str]:
    return {"platform": place.platform, "workspace": place.workspace, "channel": place.channel}


def _limit(limit: int | None) -> int:
    # No limit: a count larger than any table (PostgreSQL refuses SQLite's LIMIT -1).
    return 2**62 if limit is None else limit


class Subscriptions:
    def __init__(self, db: Db):
        self.db = db

    async def subscribe(
        self,
        place: Place,
        schedule: Schedule,
        actor_key: str,
        now: datetime,
        delivery_key: str | None = None,
    ) -> int:
        """Create or re-activate the channel's one subscription; keeps its rotation.
        ``delivery_key`` (the request that set it) is written in the same statement: one
        upsert on UNIQUE(platform, workspace, channel), so two subscribes at once leave
        one subscription, with the last one's schedule whole."""
        async with atomic(self.db):
            await execute(
                self.db,
                _SUBSCRIBE,
                {
                    **_channel(place),
                    "is_direct": int(place.is_direct),
                    "thread": place.thread,
                    "local_time": f"{schedule.at:%H:%M}",
                    "days": encode_days(schedule.days),
                    "nation": schedule.nation,
                    "active": 1,
                    "created_by": actor_key,
                    "created_at": ts(now),
                    "updated_at": ts(now),
                    "delivery_key": delivery_key,
                },
            )
            return int((await execute(self.db, _ID_OF_CHANNEL, _channel(place))).scalar_one())

    async def set_by(self, place: Place, delivery_key: str) -> bool:
        """Whether the channel's subscription was last set by this delivery."""
        found = await execute(self.db, _SET_BY, {**_channel(place), "delivery_key": delivery_key})
        return found.first() is not None

    async def deactivate(self, sub_id: int, reason: str, now: datetime) -> bool:
        """True for the one caller that turned it off (a conditional UPDATE)."""
        done = await execute(
            self.db, _DEACTIVATE, {"sub_id": sub_id, "reason": reason, "now": ts(now)}
        )
        return done.rowcount == 1

    async def find(self, place: Place) -> Subscription | None:
        row = (await execute(self.db, _FIND, _channel(place))).first()
        return sub_from_row(row) if row else None

    async def get(self, sub_id: int) -> Subscription | None:
        row = (await execute(self.db, _GET, {"sub_id": sub_id})).first()
        return sub_from_row(row) if row else None

    async def all(self, limit: int | None = None) -> list[Subscription]:
        rows = (await execute(self.db, _ALL, {"limit": _limit(limit)})).all()
        return [sub_from_row(r) for r in rows]

    async def counts(self) -> tuple[int, int]:
        """(active, all) subscriptions."""
        row = (await execute(self.db, _COUNTS)).one()
        return int(row[0]), int(row[1])

    async def is_active(self, sub_id: int) -> bool:
        return bool((await execute(self.db, _IS_ACTIVE, {"sub_id": sub_id})).scalar())

    async def active(self, *, after_id: int = 0, limit: int | None = None) -> list[Subscription]:
        """Active subscriptions in id order; ``after_id``/``limit`` page through them."""
        rows = await execute(self.db, _ACTIVE_PAGE, {"after_id": after_id, "limit": _limit(limit)})
        return [sub_from_row(r) for r in rows.all()]

    async def due(self, now: datetime, limit: int | None = None) -> list[Subscription]:
        rows = await execute(self.db, _DUE, {"now": ts(now), "limit": _limit(limit)})
        return [sub_from_row(r) for r in rows.all()]

    async def park(self, sub_id: int) -> None:
        """No next delivery until the next start-up reschedules it (after an error)."""
        await execute(self.db, _PARK, {"sub_id": sub_id})

    async def set_next(self, sub_id: int, local_date: date, due: datetime) -> None:
        day = local_date.isoformat()
        await execute(self.db, _SET_NEXT, {"sub_id": sub_id, "local_date": day, "due": ts(due)})

    async def earliest_due(self) -> datetime | None:
        return parse_ts((await execute(self.db, _EARLIEST_DUE)).scalar())

    async def count_active(self) -> int:
        return int((await execute(self.db, _COUNT_ACTIVE)).scalar_one())
