"""Teams message activities kept in the inbox between the acknowledgement and the reply.

The rows live in the shared ``inbox`` table (``bot/storage/inbox.py``) with source
``teams``: the same leases, the same dead letters, the same operator views as a Slack
delivery. ``kind`` says how the activity's caller was vouched for when it was kept
(:data:`TOKEN`: a valid Bot Framework token named its serviceUrl; :data:`DEVELOPMENT`: no
app id, a loopback serviceUrl), because the reply goes to that serviceUrl later, when
the token is long gone. ``payload`` is the request body exactly as it arrived.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, update

from bot.storage.inbox import Inbox, Kept, inbox
from bot.storage.sql import Db, execute

SOURCE = "teams"
TOKEN, DEVELOPMENT = "activity:token", "activity:development"
TRUST = {TOKEN: "token", DEVELOPMENT: "development"}

# A failed row is let go (nobody holds it) but not free until its back-off ends: then
# whichever instance claims next tries it again, as a replay (``claims`` > 1).
_LATER = (
    update(inbox)
    .where(inbox.c.id == bindparam("row_id"), inbox.c.claimed_by == bindparam("owner"))
    .values(claimed_by=None, lease_until=bindparam("not_before"))
)
_RELEASE = (
    update(inbox)
    .where(inbox.c.source == SOURCE, inbox.c.claimed_by == bindparam("owner"))
    .values(claimed_by=None, lease_until=None)
)
_WAITING = select(inbox.c.id).where(inbox.c.source == SOURCE, inbox.c.attempts == 0).limit(1)


class KeptActivities:
    """The Teams rows of the inbox: the one place the Teams intake reaches the database."""

    def __init__(self, db: Db):
        self.db = db
        self.inbox = Inbox(db)

    async def keep_many(self, rows: list[tuple[str, str, datetime]]) -> None:
        """Keep (kind, body, received) rows; the caller's transaction commits them."""
        by_kind: dict[str, list[tuple[str, datetime]]] = {}
        for kind, body, now in rows:
            by_kind.setdefault(kind, []).append((body, now))
        for kind, kept in by_kind.items():
            await self.inbox.insert_many(SOURCE, kind, kept)

    async def claim(self, now: datetime, limit: int, owner: str) -> list[Kept]:
        return await self.inbox.claim(SOURCE, now, limit, owner)

    async def renew(self, now: datetime, owner: str) -> None:
        await self.inbox.renew(now, owner)

    async def release(self, owner: str) -> None:
        """A clean stop: the Teams rows this instance holds are free for any instance
        (the Slack intake gives back its own rows when it stops)."""
        await execute(self.db, _RELEASE, {"owner": owner})

    async def done_many(self, row_ids: list[int]) -> None:
        """Forget handled rows (a flush's worth; the caller's transaction commits)."""
        await execute(self.db, delete(inbox).where(inbox.c.id.in_(row_ids)))

    async def attempted(self, row_id: int, error: str, *, count: bool) -> int:
        return await self.inbox.attempted(row_id, error, count=count, payload=None)

    async def retry_later(self, row_id: int, owner: str, not_before: datetime) -> None:
        params = {"row_id": row_id, "owner": owner, "not_before": not_before}
        await execute(self.db, _LATER, params)

    async def waiting(self) -> bool:
        """Whether a kept activity has not been tried yet (tests wait for none)."""
        return (await execute(self.db, _WAITING)).first() is not None

