"""Feedback on tips: one Useful / Not useful vote per person per tip per channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select

from bot.storage.sql import Db, atomic, execute, upsert
from content.tips.store.records import ts
from content.tips.store.tables import tip_votes

_v = tip_votes.c
_ONE_VOTE = (
    (_v.tip_id == bindparam("tip_id"))
    & (_v.place == bindparam("place"))
    & (_v.voter == bindparam("voter"))
)
_VOTE_OF = select(_v.vote).where(_ONE_VOTE).with_for_update()
_upsert = upsert(tip_votes)
_SET_VOTE = _upsert.on_conflict_do_update(
    index_elements=[_v.tip_id, _v.place, _v.voter],
    set_={"vote": _upsert.excluded.vote, "updated_at": _upsert.excluded.updated_at},
)
_FEEDBACK = select(
    _v.tip_id,
    func.count().filter(_v.vote == "useful"),
    func.count().filter(_v.vote == "not-useful"),
).group_by(_v.tip_id)
_VOTES_ON = (
    select(_v.place, _v.voter, _v.vote)
    .where(_v.tip_id == bindparam("tip_id"))
    .order_by(_v.place, _v.voter)
)


class Votes:
    def __init__(self, db: Db):
        self.db = db

    async def vote(
        self, tip_id: str, place: str, voter: str, vote: str, now: datetime
    ) -> str | None:
        """Record (or change) one person's vote on a tip in a channel; returns the old one.

        The vote itself is one upsert, atomic on its own: of two clicks at once (a double
        click, Useful then Not useful) the last one's vote stands, whole, and there is
        never a second row. The old vote, for the reply's wording, is read in the same
        transaction, locked."""
        key = {"tip_id": tip_id, "place": place, "voter": voter}
        async with atomic(self.db):
            old = (await execute(self.db, _VOTE_OF, key)).scalar()
            await execute(self.db, _SET_VOTE, {**key, "vote": vote, "updated_at": ts(now)})
        return old

    async def feedback(self) -> dict[str, tuple[int, int]]:
        return {r[0]: (int(r[1]), int(r[2])) for r in (await execute(self.db, _FEEDBACK)).all()}

    async def votes(self, tip_id: str) -> list[tuple[str, str, str]]:
        found = await execute(self.db, _VOTES_ON, {"tip_id": tip_id})
        return [(r[0], r[1], r[2]) for r in found.all()]
