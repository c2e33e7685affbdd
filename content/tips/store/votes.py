"""Feedback on tips: one Useful / Not useful vote per person per tip per channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.sqlite import insert
from sqlite_utils import Database

from bot.storage.sql import run
from content.tips.store.records import ts
from content.tips.store.tables import tip_votes

_v = tip_votes.c
_ONE_VOTE = (
    (_v.tip_id == bindparam("tip_id"))
    & (_v.place == bindparam("place"))
    & (_v.voter == bindparam("voter"))
)
_VOTE_OF = select(_v.vote).where(_ONE_VOTE)
_upsert = insert(tip_votes)
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
    def __init__(self, db: Database):
        self.db = db

    def vote(self, tip_id: str, place: str, voter: str, vote: str, now: datetime) -> str | None:
        """Record (or change) one person's vote on a tip in a channel; returns the old one."""
        key = {"tip_id": tip_id, "place": place, "voter": voter}
        old = run(self.db, _VOTE_OF, key).scalar()
        run(self.db, _SET_VOTE, {**key, "vote": vote, "updated_at": ts(now)})
        return old

    def feedback(self) -> dict[str, tuple[int, int]]:
        return {r[0]: (int(r[1]), int(r[2])) for r in run(self.db, _FEEDBACK).all()}

    def votes(self, tip_id: str) -> list[tuple[str, str, str]]:
        return [(r[0], r[1], r[2]) for r in run(self.db, _VOTES_ON, {"tip_id": tip_id}).all()]
