"""Leases on the tip ledger: how several secbot instances share one fan-out.

A fan-out works through the ledger a page at a time. A page of ``pending`` rows that are
ready is *claimed* in one statement (``Leases.claim_page``: ``UPDATE … WHERE id IN
(SELECT … ORDER BY due_at, id LIMIT n FOR UPDATE SKIP LOCKED) RETURNING id``; on SQLite,
where SQLAlchemy leaves ``FOR UPDATE`` out, the statement holds the file's one write lock,
which does the same): the rows get ``claimed_by`` (this instance) and ``lease_until``.
Two instances never claim one row at once, and each goes on to its own next page.

The holder renews its leases every :data:`RENEW_SECONDS` while it works (the rows still
``pending`` in its pages and the ones it is posting, ``sending``) and gives the
``pending`` ones back when it stops cleanly, so a deploy's successor takes them at once.
An instance that is killed renews nothing: once its leases run out, whichever instance
looks next claims its ``pending`` rows and sends them, and settles its ``sending`` rows
(below). Nothing is reset wholesale at start: a row held by a live sibling is left alone.

**The guarantee across a kill.** A row moves to ``sending`` (committed) right before its
platform call and to its outcome right after. Neither Slack's ``chat.postMessage`` nor the
Bot Connector de-duplicates a repeated post, so a row found in ``sending`` with its lease
run out may or may not have reached the channel. Every post carries its row's id as an
idempotency key (Slack: message metadata), and the instance that settles the row asks the
platform (``content/tips/doubt.py``): found, it is recorded ``sent``; absent, it goes back
to ``pending`` and is posted again; can't tell, it is ``unknown`` and never posted again.

- **Slack, with ``channels:history`` / ``groups:history`` and the bot in the channel:
  exactly once.** No tip is posted twice (the move to ``sending`` is one conditional
  UPDATE, so of two instances exactly one posts a row, and a row is re-sent only when
  Slack's history shows it is not there) and none is dropped.
- **Teams, the web chat, or a Slack workspace without those scopes: at most once.** The
  Bot Connector gives a bot no way to read a conversation's messages, so a row caught
  mid-post (at most one per worker, ``SECBOT_TIP_CONCURRENCY`` per platform per instance)
  is logged and recorded ``unknown``. Rows claimed but not yet ``sending`` are always
  sent, by the next instance to look.

**A live instance never has its post looked for.** The holder renews the lease of every
row it has in hand, ``sending`` ones included, every :data:`RENEW_SECONDS` while a fan-out
runs or a post is on the wire (``TipDelivery._renewing``), and on a platform whose posts
can be looked for (Slack) a post's whole call is cut off after :func:`post_seconds` (half
the lease, well before a lease taken at its ``sending`` could run out even if every
renewal failed). So the call never waits out a rate limit: a keyed post's 429 comes back
at once as a refusal (the row waits, the workspace honours Retry-After), and a 5xx or
``fatal_error``, after which Slack may have posted it, leaves the row to be looked for. A post cut
off so is left ``sending`` and held by nobody for one more lease, time for the platform
to finish with a request it had already taken, and is then settled as above. So a
sibling only ever searches for a post that is no longer on the wire.

The shape (column names, lease length, renewal) matches the other background jobs'
leases (``claimed_by``, ``lease_until``, 15 s, renewed every 5 s).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

# How long a claim lasts without renewal: long enough that a busy instance renews several
# times before it could run out, short enough that a killed instance's page is taken
# over within a quarter of a minute. SECBOT_TIP_LEASE_SECONDS overrides it.
LEASE_SECONDS = 15
# How often the holder renews: a third of the lease, so two renewals can be late (a busy
# event loop, a locked database) before the lease runs out.
RENEW_FRACTION = 1 / 3
RENEW_SECONDS = LEASE_SECONDS * RENEW_FRACTION
# Rows claimed per statement (a claim holds the event loop for a few milliseconds per
# hundred rows until the engine swap, so pages stay small). Only the claimed pages are
# in memory, so a fan-out to 100,000 channels holds a page or two of rows, not 100,000.
PAGE_ROWS = 500


def post_seconds(lease_seconds: float) -> float:
    """The longest one tip post may take, the client's retries included: half the lease.
    A row's lease is taken when it becomes ``sending``, right before the post; if every
    renewal failed, it would run out one lease later, by which time the post has long
    been given up and the platform has finished with it (see the guarantee above)."""
    return lease_seconds / 2


def new_instance() -> str:
    """A name for this process in ``claimed_by``: new at every start, so a restarted
    process never mistakes a lease its earlier life held for one it holds."""
    return uuid.uuid4().hex


class Lease:
    """This instance's name and lease length, for the ledger's claims."""

    def __init__(self, owner: str | None = None, seconds: float = LEASE_SECONDS):
        self.owner = owner or new_instance()
        self.seconds = seconds

    @property
    def renew_every(self) -> float:
        return self.seconds * RENEW_FRACTION

    def until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)
