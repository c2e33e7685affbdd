"""All of paging's SQL: incidents' escalation state, due jobs and the page outbox.

Three tables, each with the UNIQUE key that makes its work happen once:

- ``paging_incidents``: one row per incident with the escalation chain as it was
  when paging started (later edits to the routing file don't change it).
- ``paging_jobs``: "run step s of round r at due_at", UNIQUE (incident, step, round);
  a job moves from pending to done or cancelled exactly once.
- ``paging_outbox``: a page is written here before it is sent, UNIQUE (incident,
  step, round, target, action), and retried from here until sent or given up.

Every method is ``async`` (storage v2, ``bot.storage.sql.execute``); what writes more
than one statement, or reads and then writes, runs inside ``async with atomic(db)``, so
a crash leaves all or none of it and no other coroutine or instance slips in between.
"""

from incidents.paging.store.escalations import PagingStore
from incidents.paging.store.pages import PageStore
from incidents.paging.store.rows import IncidentRow, JobRow, NewPage, PageRow, parse_ts, ts

__all__ = [
    "IncidentRow",
    "JobRow",
    "NewPage",
    "PageRow",
    "PageStore",
    "PagingStore",
    "parse_ts",
    "ts",
]
