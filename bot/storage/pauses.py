"""Rate-limit pauses every instance honours: a platform's ``Retry-After``, a paging
provider's back-off, the spacing of posts to one conversation.

A pause is a row: a scope (``tips:slack:T123``, ``paging:pagerduty``, ``pace:teams:…``)
and the time before which nothing more goes to it. Writing one keeps the later of the
old and new times (one upsert), so two instances told different waits keep the longer.

Hot paths (a 10,000-channel fan-out asks before every post) read :class:`SharedPauses`'s
copy in memory, which the owning worker refreshes from the table once a round
(:meth:`SharedPauses.sync`), writing the pauses it learnt meanwhile in the same call. So
a pause one instance learns is honoured by the others from their next round on, and the
post path itself never waits for the database.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, Text, bindparam, case, delete, select

from bot.storage.sql import UtcDateTime, execute, metadata, upsert

rate_pauses = Table(
    "rate_pauses",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("until", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),  # a platform's error code or "retry-after"
)

_p = rate_pauses.c
_PAUSE = upsert(rate_pauses).values(
    scope=bindparam("scope"), until=bindparam("until"), reason=bindparam("reason")
)
_PAUSE = _PAUSE.on_conflict_do_update(
    index_elements=[_p.scope],
    set_={
        "until": case((_PAUSE.excluded.until > _p.until, _PAUSE.excluded.until), else_=_p.until),
        "reason": case((_PAUSE.excluded.until > _p.until, _PAUSE.excluded.reason), else_=_p.reason),
    },
)
_ACTIVE = select(_p.scope, _p.until).where(_p.until > bindparam("now"))
_OVER = delete(rate_pauses).where(_p.until <= bindparam("now"))


class RatePauses:
    """The table itself: write a pause, read the ones still running."""

    def __init__(self, db: Any):
        self.db = db

    async def pause(self, scope: str, until: datetime, reason: str) -> None:
        """Nothing goes to ``scope`` before ``until`` (the later time wins)."""
        await execute(self.db, _PAUSE, {"scope": scope, "until": until, "reason": reason})

    async def pause_many(self, pauses: list[dict[str, Any]]) -> None:
        if pauses:
            await execute(self.db, _PAUSE, pauses)

    async def until(self, scope: str, now: datetime) -> datetime | None:
        """When the pause on ``scope`` ends, if it is still running at ``now``."""
        stmt = select(_p.until).where(_p.scope == scope, _p.until > now)
        return (await execute(self.db, stmt)).scalar()

    async def active(self, now: datetime) -> dict[str, datetime]:
        return {r.scope: r.until for r in (await execute(self.db, _ACTIVE, {"now": now})).all()}

    async def forget_over(self, now: datetime) -> int:
        """Delete pauses that have ended (they constrain nothing)."""
        return (await execute(self.db, _OVER, {"now": now})).rowcount


class SharedPauses(MutableMapping[Any, datetime]):
    """A worker's copy of the pauses under one prefix, read and written like a dict.

    Keys are tuples of strings (``("slack", "T123")``) or strings; each is stored as
    ``prefix:part:part``. Setting a key takes effect here at once and is written to the
    table at the next :meth:`sync`; reading never touches the database.
    """

    def __init__(self, pauses: RatePauses, prefix: str):
        self.pauses = pauses
        self.prefix = prefix
        self._known: dict[str, datetime] = {}
        self._unsaved: dict[str, tuple[datetime, str]] = {}

    def scope(self, key: Any) -> str:
        parts = key if isinstance(key, tuple) else (key,)
        return ":".join((self.prefix, *map(str, parts)))

    def __getitem__(self, key: Any) -> datetime:
        return self._known[self.scope(key)]

    def __setitem__(self, key: Any, until: datetime) -> None:
        self.set(key, until, "retry-after")

    def set(self, key: Any, until: datetime, reason: str) -> None:
        scope = self.scope(key)
        if scope not in self._known or self._known[scope] < until:
            self._known[scope] = until
            self._unsaved[scope] = (until, reason)

    def __delitem__(self, key: Any) -> None:
        scope = self.scope(key)
        del self._known[scope]
        self._unsaved.pop(scope, None)

    def __iter__(self) -> Iterator[Any]:
        start = len(self.prefix) + 1
        return iter(tuple(s[start:].split(":")) for s in self._known)

    def __len__(self) -> int:
        return len(self._known)

    async def sync(self, now: datetime) -> None:
        """Write the pauses learnt here since the last sync, then read every running one
        under this prefix (another instance's included)."""
        unsaved, self._unsaved = self._unsaved, {}
        try:
            await self.pauses.pause_many(
                [{"scope": s, "until": u, "reason": r} for s, (u, r) in unsaved.items()]
            )
        except BaseException:
            self._unsaved = {**unsaved, **self._unsaved}  # written next time
            raise
        mine = self.prefix + ":"
        active = {s: u for s, u in (await self.pauses.active(now)).items() if s.startswith(mine)}
        # Keep what was learnt since this sync began (not written yet) on top.
        for scope, (until, _) in self._unsaved.items():
            if active.get(scope, until) <= until:
                active[scope] = until
        self._known = active
