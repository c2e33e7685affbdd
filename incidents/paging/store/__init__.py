"""All of paging's SQL: incidents' escalation state, due jobs and the page outbox.

Three tables, each with the UNIQUE key that makes its work happen once:

- ``paging_incidents``: one row per incident with the escalation chain as it was
  when paging started (later edits to the routing file don't change it).
- ``paging_jobs``: "run step s of round r at due_at", UNIQUE (incident, step, round);
  a job moves from pending to done or cancelled exactly once.
- ``paging_outbox``: a page is written here before it is sent, UNIQUE (incident,
  step, round, target, action), and retried from here until sent or given up.

Every method is synchronous and never awaits, so it is atomic with respect to other
coroutines; multi-statement changes also run in one SQLite transaction so a crash
leaves either all or none of them.
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
