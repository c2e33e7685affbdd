"""Exam completions as xAPI statements to a learning record store (issue 19 item 7), so a
department's LMS counts secbot's exam like any course. On only when ``SECBOT_LRS_URL``
is set.

The outbox pattern, with the exam record as the source: each round copies every exam
result not yet in ``xapi_outbox`` into it (one row per result, UNIQUE), then sends the
rows due. Nothing is lost: a result written while the LRS is down, or just before a
crash, is picked up by the next round. Nothing is counted twice: each statement has a
fixed id (a UUID made from the result), sent with ``PUT /statements?statementId=``,
which an LRS stores once (a repeat with the same content is accepted; xAPI 1.0.3). A
failed send comes back after :data:`bot.retry.LRS`'s delay (never sooner than a
Retry-After), claimed first by moving ``next_attempt_at`` on, so two processes don't
send the same row at once.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import bindparam, select, update

from bot.retry import LRS
from bot.settings import ConfigError
from bot.storage.sql import execute, upsert
from content.quiz.store.tables import quiz_exam_results as qe
from content.training.tables import xapi_outbox as xo

if TYPE_CHECKING:
    from bot.core import Services

log = logging.getLogger(__name__)

VERSION = "1.0.3"
NAMESPACE = uuid.UUID("6f1c2b1e-6b2f-4a57-9c55-0c3f3a9e5a11")  # secbot's statement ids
VERBS = {
    True: ("http://adlnet.gov/expapi/verbs/passed", "passed"),
    False: ("http://adlnet.gov/expapi/verbs/failed", "failed"),
}
HOME_PAGES = {
    "slack": "https://slack.com",
    "teams": "https://teams.microsoft.com",
    "web": "https://secbot.invalid/webchat",
}
BATCH = 100
CLAIM = timedelta(minutes=2)  # how long a send may take before another process retries
LONGEST_WAIT = 60.0
TIMEOUT = aiohttp.ClientTimeout(total=20)

_WAITING = (
    select(qe).where(~qe.c.id.in_(select(xo.c.exam_result_id))).order_by(qe.c.id).limit(BATCH)
)
_DUE = (
    select(xo.c.id, xo.c.statement_id, xo.c.statement, xo.c.attempts, xo.c.next_attempt_at)
    .where(xo.c.sent_at.is_(None), xo.c.next_attempt_at <= bindparam("now"))
    .order_by(xo.c.next_attempt_at, xo.c.id)
    .limit(BATCH)
)


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConfigError("SECBOT_LRS_URL must be an http(s) URL, like https://lrs.example/xapi")
    return url.rstrip("/")


def statement(row: Any, activity: str) -> dict[str, Any]:
    """The xAPI statement for one exam result."""
    platform, _, user_id = str(row.user_key).partition(":")
    verb, word = VERBS[bool(row.passed)]
    total = max(1, int(row.total))
    return {
        "id": str(uuid.uuid5(NAMESPACE, f"exam-result:{row.id}:{row.session_id}")),
        "actor": {
            "objectType": "Agent",
            "name": row.user_name or "A secbot user",
            "account": {
                "homePage": HOME_PAGES.get(platform, HOME_PAGES["web"]),
                "name": user_id or str(row.user_key),
            },
        },  # fmt: skip
        "verb": {"id": verb, "display": {"en-GB": word}},
        "object": {
            "objectType": "Activity",
            "id": activity,
            "definition": {
                "name": {"en-GB": "secbot security exam"},
                "type": "http://adlnet.gov/expapi/activities/assessment",
            },
        },
        "result": {
            "score": {
                "raw": int(row.score),
                "min": 0,
                "max": total,
                "scaled": round(int(row.score) / total, 4),
            },
            "success": bool(row.passed),
            "completion": True,
        },  # fmt: skip
        "timestamp": row.completed_at.isoformat(),
        "context": {"extensions": {"urn:secbot:content-version": row.content_version}},
    }


class LrsOutbox:
    """Copy new exam results into the outbox and send what is due."""

    def __init__(self, services: Services, url: str):
        self.services = services
        self.db = services.db
        self.url = check_url(url)
        s = services.settings
        self.activity = s.lrs_activity_id
        token = base64.b64encode(f"{s.lrs_username or ''}:{s.lrs_password or ''}".encode())
        self.headers = {
            "X-Experience-API-Version": VERSION,
            "Content-Type": "application/json",
            **({"Authorization": f"Basic {token.decode()}"} if s.lrs_username else {}),
        }

    def now(self) -> datetime:
        return self.services.clock.now()

    async def collect(self) -> int:
        """Put every exam result the outbox lacks into it; how many were added."""
        rows = (await execute(self.db, _WAITING)).all()
        now = self.now()
        for row in rows:
            made = statement(row, self.activity)
            stmt = upsert(xo).values(
                exam_result_id=row.id, statement_id=made["id"], statement=json.dumps(made),
                created_at=now, next_attempt_at=now,
            ).on_conflict_do_nothing(index_elements=["exam_result_id"])  # fmt: skip
            await execute(self.db, stmt)
        return len(rows)

    async def step(self) -> float:
        while await self.collect() == BATCH:
            pass
        now = self.now()
        due = (await execute(self.db, _DUE, {"now": now})).all()
        if due:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                for row in due:
                    await self.send(session, row, now)
        upcoming = (
            await execute(
                self.db,
                select(xo.c.next_attempt_at)
                .where(xo.c.sent_at.is_(None))
                .order_by(xo.c.next_attempt_at)
                .limit(1),
            )
        ).scalar()
        if upcoming is None:
            return LONGEST_WAIT
        return min(LONGEST_WAIT, max(0.0, (upcoming - self.now()).total_seconds()))

    async def send(self, session: aiohttp.ClientSession, row: Any, now: datetime) -> None:
        claim = (
            update(xo)
            .where(xo.c.id == row.id, xo.c.sent_at.is_(None),
                   xo.c.next_attempt_at == row.next_attempt_at)
            .values(next_attempt_at=now + CLAIM)
        )  # fmt: skip
        if (await execute(self.db, claim)).rowcount != 1:
            return  # another process has it
        retry_after: float | None = None
        try:
            async with session.put(
                f"{self.url}/statements",
                params={"statementId": row.statement_id},
                data=row.statement.encode("utf-8"),
                headers=self.headers,
            ) as resp:
                status = resp.status
                if status == 429 or status >= 500:
                    retry_after = _seconds(resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as e:
            status, error = 0, type(e).__name__
        else:
            error = f"HTTP {status}"
        # 409: the LRS has a statement with this id already (sent before a crash).
        if status in (200, 204, 409):
            await execute(
                self.db,
                update(xo).where(xo.c.id == row.id).values(sent_at=self.now(), last_error=None),
            )
            return
        failures = int(row.attempts) + 1
        wait = LRS.delay(failures, retry_after)
        log.warning("the learning record store refused a statement (%s); again in %.0f s",
                    error, wait)  # fmt: skip
        await execute(
            self.db,
            update(xo)
            .where(xo.c.id == row.id)
            .values(attempts=failures, last_error=error,
                    next_attempt_at=self.now() + timedelta(seconds=wait)),
        )  # fmt: skip


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
