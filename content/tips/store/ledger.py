"""The delivery ledger and each channel's rotation: what was claimed, sent or given up.

The ledger is what makes delivery exactly-once per channel per scheduled day: a row is
*claimed* (``pending``) before anything is sent, under ``UNIQUE(subscription_id,
local_date)``, then moved to ``sending`` right before the platform call and to ``sent``
right after. See ``content/tips/delivery.py`` for how a restart treats each status.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Text, bindparam, case, delete, exists, func, select, tuple_, update

from bot.storage.one_trip import rows_in_one_trip
from bot.storage.sql import Db, execute, upsert
from content.tips.store.leases import FREE
from content.tips.store.records import (
    DELIVERY_COLUMNS,
    MANY,
    PENDING,
    PLACED_DELIVERY_COLUMNS,
    SENDING,
    SENT,
    UNKNOWN,
    Claim,
    Delivery,
    batch,
    delivery_from_row,
    parse_ts,
    ts,
)
from content.tips.store.tables import Unindexed, tip_deliveries, tip_rotation, tip_subscriptions

# Statements are built once, here, and run with their parameters: building one costs
# more than running it, and the fan-out runs some of them thousands of times.
_d, _r, _s = tip_deliveries.c, tip_rotation.c, tip_subscriptions.c
_BY_ID = _d.id == bindparam("delivery_id")
_ON_DAY = (_d.subscription_id == bindparam("sub_id")) & (_d.local_date == bindparam("local_date"))
_SERVED = select(_r.tip_id).where(
    (_r.subscription_id == bindparam("sub_id")) & (_r.cycle == bindparam("cycle"))
)
_HAS_DELIVERY = select(_d.id).where(_ON_DAY)
_STATUS_ON = select(_d.status).where(_ON_DAY)
# RETURNING the new id (no row when a UNIQUE key was taken): asyncpg has no lastrowid.
_CLAIM = upsert(tip_deliveries).on_conflict_do_nothing().returning(_d.id)
_SERVE = upsert(tip_rotation).on_conflict_do_nothing()
_NEXT_CYCLE = (
    update(tip_subscriptions)
    .where((_s.id == bindparam("sub_id")) & (_s.cycle < bindparam("cycle")))
    .values(cycle=bindparam("cycle"))
)
_READY = (
    select(*PLACED_DELIVERY_COLUMNS)
    .join_from(tip_deliveries, tip_subscriptions, _s.id == _d.subscription_id)
    .where((_d.status == PENDING) & (_d.retry_at.is_(None) | (_d.retry_at <= bindparam("now"))))
    .order_by(_d.due_at, _d.id)
)
# Rows another instance holds are left out: they are due when its lease runs out.
_EARLIEST_RETRY = select(func.min(func.coalesce(_d.retry_at, _d.due_at))).where(
    (_d.status == PENDING) & FREE
)
_GET = select(*DELIVERY_COLUMNS).where(_BY_ID)
_FOR_REQUEST = select(*DELIVERY_COLUMNS).where(_d.request_key == bindparam("request_key"))
_ALL = select(*DELIVERY_COLUMNS).order_by(_d.id)
_OF_SUBSCRIPTION = _ALL.where(_d.subscription_id == bindparam("sub_id"))
_MARK_SENDING = (
    update(tip_deliveries)
    .where(_BY_ID & (_d.status == PENDING))
    .values(status=SENDING, attempts=_d.attempts + 1, updated_at=bindparam("now"))
)
# Unindexed status: SQLite stays on the primary key; otherwise it may walk the status
# index through every pending row of the fan-out to find a handful of ids.
_MARK_SENDING_MANY = (
    update(tip_deliveries)
    .where(
        _d.id.in_(bindparam("ids", expanding=True))
        & (Unindexed(_d.status) == PENDING)
        & exists().where((_s.id == _d.subscription_id) & (_s.active == 1))
    )
    .values(
        status=SENDING,
        attempts=_d.attempts + 1,
        updated_at=bindparam("now"),
        claimed_by=bindparam("owner"),
        lease_until=bindparam("lease_end"),
    )
    .returning(_d.id)
)
_MARK_SENT = (
    update(tip_deliveries)
    .where(_BY_ID)
    .values(
        status=SENT, message_id=bindparam("message_id"), error=None, updated_at=bindparam("now")
    )
)
# ``mark_sent_many``: every row of a flush in one UPDATE, a CASE giving each its message
# id. An executemany of _MARK_SENT costs about 20 times as much per row through SQLAlchemy
# as through the driver (it prepares each row's parameters in Python), and the fan-out
# runs it between posts on the one event loop; one statement per SENT_CHUNK rows keeps
# the ledger's share of a fan-out near the driver's. Chunks are padded (repeating their
# last row) to a power of two, so there are only a few statement shapes, each compiled
# once and cached.
SENT_CHUNK = 64


@cache
def _mark_sent_chunk(size: int):
    ids = [bindparam(f"id{n}", type_=Integer) for n in range(size)]
    messages = [bindparam(f"message{n}", type_=Text) for n in range(size)]
    return (
        update(tip_deliveries)
        .where(_d.id.in_(ids))
        .values(
            status=SENT,
            message_id=case(*((_d.id == i, m) for i, m in zip(ids, messages, strict=True))),
            error=None,
            updated_at=bindparam("now"),
        )
    )


def _padded(size: int) -> int:
    return 1 << (size - 1).bit_length()


@cache
def _sent_and_sending(size: int):
    """``mark_sent_many`` for up to ``size`` rows and ``mark_sending_many`` in one UPDATE:
    a fan-out's flush holds both (the posts that came back, the posts about to go), and
    each statement costs several trips to the database's thread, each waiting for a turn
    of the busy event loop. The rows are told apart by id (``is_sent``); a sending row
    still needs to be pending and its channel active, as in ``_MARK_SENDING_MANY``."""
    ids = [bindparam(f"id{n}", type_=Integer) for n in range(size)]
    messages = [bindparam(f"message{n}", type_=Text) for n in range(size)]
    is_sent = _d.id.in_(ids)
    starting = (
        _d.id.in_(bindparam("ids", expanding=True))
        & (Unindexed(_d.status) == PENDING)
        & exists().where((_s.id == _d.subscription_id) & (_s.active == 1))
    )
    return (
        update(tip_deliveries)
        .where(is_sent | starting)
        .values(
            status=case((is_sent, SENT), else_=SENDING),
            message_id=case(
                *((_d.id == i, m) for i, m in zip(ids, messages, strict=True)),
                else_=_d.message_id,
            ),
            error=case((is_sent, None), else_=_d.error),
            attempts=case((is_sent, _d.attempts), else_=_d.attempts + 1),
            updated_at=bindparam("now"),
            claimed_by=case((is_sent, _d.claimed_by), else_=bindparam("owner", type_=Text)),
            lease_until=case(
                (is_sent, _d.lease_until),
                else_=bindparam("lease_end", type_=_d.lease_until.type),
            ),
        )
        .returning(_d.id)
    )


_RETRY_LATER = (
    update(tip_deliveries)
    .where(_BY_ID)
    .values(
        status=PENDING,
        retry_at=bindparam("retry_at"),
        error=bindparam("error"),
        updated_at=bindparam("now"),
        claimed_by=None,  # free for whichever instance looks when the retry is due
        lease_until=None,
    )
)
_FINISH = (
    update(tip_deliveries)
    .where(_BY_ID)
    .values(status=bindparam("status"), error=bindparam("error"), updated_at=bindparam("now"))
)
_UNSERVE = delete(tip_rotation).where(
    tuple_(_r.subscription_id, _r.cycle, _r.tip_id).in_(
        select(_d.subscription_id, _d.cycle, _d.tip_id).where(_BY_ID)
    )
)
_INTERRUPTED = select(*DELIVERY_COLUMNS).where(_d.status == SENDING).order_by(_d.id)


class Ledger:
    def __init__(self, db: Db):
        self.db = db

    async def served(self, sub_id: int, cycle: int) -> set[str]:
        found = await execute(self.db, _SERVED, {"sub_id": sub_id, "cycle": cycle})
        return set(found.scalars())

    async def has_delivery(self, sub_id: int, local_date: date) -> bool:
        day = {"sub_id": sub_id, "local_date": local_date.isoformat()}
        return (await execute(self.db, _HAS_DELIVERY, day)).first() is not None

    async def delivered_on(self, sub_id: int, local_date: date) -> str | None:
        day = {"sub_id": sub_id, "local_date": local_date.isoformat()}
        return (await execute(self.db, _STATUS_ON, day)).scalar()

    async def claim(
        self,
        sub_id: int,
        *,
        kind: str,
        tip_id: str,
        cycle: int,
        due: datetime,
        now: datetime,
        local_date: date | None = None,
        test_slot: int | None = None,
        request_key: str | None = None,
        hold: Claim | None = None,
    ) -> int | None:
        """Insert a ``pending`` ledger row and mark the tip served in ``cycle``, atomically.
        ``hold``: the row is inserted already leased to its sender (``/tip send-now``), so
        the background fan-out, which takes only rows nobody holds, leaves it to that sender.

        None if the (subscription, local date), (subscription, test slot) or request key
        is taken: the claim is one ``INSERT … ON CONFLICT DO NOTHING`` under those UNIQUE
        keys, so of two claimers (a restart, ``/tip send-now``, a second instance) exactly
        one wins, whatever the timing.
        """
        async with batch(self.db):
            claimed = await execute(
                self.db,
                _CLAIM,
                {
                    "subscription_id": sub_id,
                    "local_date": local_date.isoformat() if local_date else None,
                    "test_slot": test_slot,
                    "kind": kind,
                    "tip_id": tip_id,
                    "cycle": cycle,
                    "status": PENDING,
                    "due_at": ts(due),
                    "claimed_at": ts(now),
                    "updated_at": ts(now),
                    "request_key": request_key,
                    "claimed_by": hold.owner if hold else None,
                    "lease_until": hold.until if hold else None,
                },
            )
            delivery_id: int | None = claimed.scalar()
            if delivery_id is None:
                return None
            await execute(
                self.db,
                _SERVE,
                {"subscription_id": sub_id, "cycle": cycle, "tip_id": tip_id, "served_at": ts(now)},
            )
            await execute(self.db, _NEXT_CYCLE, {"sub_id": sub_id, "cycle": cycle})
        return delivery_id

    async def ready(self, now: datetime) -> list[Delivery]:
        """Pending rows whose retry time (if any) has come, oldest first, each with the
        place to post to."""
        rows = (await execute(self.db, _READY, {"now": ts(now)})).all()
        return [delivery_from_row(r) for r in rows]

    async def earliest_retry(self, now: datetime) -> datetime | None:
        """When the next row nobody holds is due (a retry, or a row not yet sent)."""
        found = await execute(self.db, _EARLIEST_RETRY, {"lease_now": now})
        return parse_ts(found.scalar())

    async def get_delivery(self, delivery_id: int) -> Delivery | None:
        row = (await execute(self.db, _GET, {"delivery_id": delivery_id})).first()
        return delivery_from_row(row) if row else None

    async def delivery_for_request(self, request_key: str) -> Delivery | None:
        """The ledger row a chat delivery (``/tip send-now``) claimed, if it claimed one."""
        row = (await execute(self.db, _FOR_REQUEST, {"request_key": request_key})).first()
        return delivery_from_row(row) if row else None

    async def deliveries(self, sub_id: int | None = None) -> list[Delivery]:
        if sub_id is None:
            rows = (await execute(self.db, _ALL)).all()
        else:
            rows = (await execute(self.db, _OF_SUBSCRIPTION, {"sub_id": sub_id})).all()
        return [delivery_from_row(r) for r in rows]

    async def mark_sending(self, delivery_id: int, now: datetime) -> bool:
        """pending -> sending; False if another worker took it (or it was cancelled): one
        conditional UPDATE, so of two senders exactly one moves it."""
        moved = await execute(self.db, _MARK_SENDING, {"delivery_id": delivery_id, "now": ts(now)})
        return moved.rowcount == 1

    async def mark_sending_many(
        self, delivery_ids: list[int], now: datetime, claim: Claim
    ) -> set[int]:
        """``mark_sending`` for many rows at once, each only if its subscription is still
        active; returns the ids that moved to ``sending`` (UPDATE … RETURNING: a row
        another sender moved first is not among them). The rows are leased to
        ``claim.owner``, so nobody settles them while their posts are on the wire."""
        taken: set[int] = set()
        params: dict[str, Any] = {"now": ts(now), "owner": claim.owner, "lease_end": claim.until}
        for start in range(0, len(delivery_ids), MANY):
            chunk = delivery_ids[start : start + MANY]
            found = await execute(self.db, _MARK_SENDING_MANY, {**params, "ids": chunk})
            taken.update(found.scalars())
        return taken

    async def mark_sent_and_sending(
        self,
        sent: list[tuple[int, str | None]],
        delivery_ids: list[int],
        now: datetime,
        claim: Claim,
    ) -> set[int]:
        """``mark_sent_many(sent)`` and ``mark_sending_many(delivery_ids)`` together: one
        statement when they fit in one (``_sent_and_sending``), else one after the other.
        Returns the ids that moved to ``sending``. A row being marked sent is never among
        them: it is not pending, so no second sender may post it."""
        if not sent or not delivery_ids or len(sent) > SENT_CHUNK or len(delivery_ids) > MANY:
            if sent:
                await self.mark_sent_many(sent, now)
            return await self.mark_sending_many(delivery_ids, now, claim) if delivery_ids else set()
        size = _padded(len(sent))
        chunk = sent + [sent[-1]] * (size - len(sent))
        # Padded too (an id twice in IN is harmless), so there are a few dozen shapes of
        # SQL, each prepared once and kept in SQLite's statement cache, not hundreds.
        ids = delivery_ids + [delivery_ids[-1]] * (_padded(len(delivery_ids)) - len(delivery_ids))
        params: dict[str, Any] = {
            "now": ts(now),
            "owner": claim.owner,
            "lease_end": claim.until,
            "ids": ids,
        }
        for n, (delivery_id, message_id) in enumerate(chunk):
            params[f"id{n}"] = delivery_id
            params[f"message{n}"] = message_id
        moved = await rows_in_one_trip(self.db, _sent_and_sending(size), params)
        return {row[0] for row in moved} - {delivery_id for delivery_id, _ in sent}

    async def mark_sent_many(self, sent: list[tuple[int, str | None]], now: datetime) -> None:
        """``mark_sent`` for many rows: (delivery id, message id) pairs, one statement per
        ``SENT_CHUNK`` rows (see ``_mark_sent_chunk``)."""
        stamp = ts(now)
        for start in range(0, len(sent), SENT_CHUNK):
            chunk = sent[start : start + SENT_CHUNK]
            size = _padded(len(chunk))
            chunk += [chunk[-1]] * (size - len(chunk))
            params: dict[str, object] = {"now": stamp}
            for n, (delivery_id, message_id) in enumerate(chunk):
                params[f"id{n}"] = delivery_id
                params[f"message{n}"] = message_id
            await execute(self.db, _mark_sent_chunk(size), params)

    async def mark_sent(self, delivery_id: int, message_id: str | None, now: datetime) -> None:
        await execute(
            self.db,
            _MARK_SENT,
            {"delivery_id": delivery_id, "message_id": message_id, "now": ts(now)},
        )

    async def retry_later(
        self, delivery_id: int, retry_at: datetime, error: str | None, now: datetime
    ) -> None:
        """Back to pending: the platform refused it, so it was certainly not delivered."""
        await execute(
            self.db,
            _RETRY_LATER,
            {"delivery_id": delivery_id, "retry_at": ts(retry_at), "error": error, "now": ts(now)},
        )

    async def finish(self, delivery_id: int, status: str, error: str | None, now: datetime) -> None:
        """A final status other than sent: failed, gone, unknown, missed or cancelled.

        The tip goes back into the rotation unless it may have been seen (unknown); the
        status and the rotation change commit together."""
        async with batch(self.db):
            await execute(
                self.db,
                _FINISH,
                {"delivery_id": delivery_id, "status": status, "error": error, "now": ts(now)},
            )
            if status != UNKNOWN:
                await execute(self.db, _UNSERVE, {"delivery_id": delivery_id})

    async def interrupted(self) -> list[Delivery]:
        return [delivery_from_row(r) for r in (await execute(self.db, _INTERRUPTED)).all()]
