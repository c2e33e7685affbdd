"""Feedback on tips: one Useful / Not useful vote per person per tip per channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select, update

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
# A first vote is an insert that stands aside for a row already there (or being written by
# another transaction: PostgreSQL waits for that one to commit, then stands aside too).
_FIRST_VOTE = upsert(tip_votes).on_conflict_do_nothing(
    index_elements=[_v.tip_id, _v.place, _v.voter]
)
# (An UPDATE may not name a bound parameter after one of its columns: "the_" ones.)
_CHANGE_VOTE = (
    update(tip_votes)
    .where(
        (_v.tip_id == bindparam("the_tip"))
        & (_v.place == bindparam("the_place"))
        & (_v.voter == bindparam("the_voter"))
    )
    .values(vote=bindparam("new_vote"), updated_at=bindparam("at"))
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

        Of two clicks at once (a double click, Useful then Not useful) the first is the
        vote and the second changes it, never a second row: the insert stands aside for a
        row already there or still being written (PostgreSQL makes it wait for that
        transaction), and then the old vote is read locked and changed in the same
        transaction. So exactly one of them is told "Thanks", and the other what it
        changed, whichever instance each reached."""
        key = {"tip_id": tip_id, "place": place, "voter": voter}
        async with atomic(self.db):
            first = await execute(
                self.db, _FIRST_VOTE, {**key, "vote": vote, "updated_at": ts(now)}
            )
            if first.rowcount == 1:
                return None
            old = (await execute(self.db, _VOTE_OF, key)).scalar()
            change = {"the_tip": tip_id, "the_place": place, "the_voter": voter}
            await execute(self.db, _CHANGE_VOTE, {**change, "new_vote": vote, "at": ts(now)})
        return old

    async def feedback(self) -> dict[str, tuple[int, int]]:
        return {r[0]: (int(r[1]), int(r[2])) for r in (await execute(self.db, _FEEDBACK)).all()}

    async def votes(self, tip_id: str) -> list[tuple[str, str, str]]:
        found = await execute(self.db, _VOTES_ON, {"tip_id": tip_id})
        return [(r[0], r[1], r[2]) for r in found.all()]
