"""A routing key kept by an older secbot (in a paging chain and an outbox row, from a
routing file that held the key itself) is gone from the database after a start: the
rows name the variable that holds it now, and the bytes are in neither the file nor
its write-ahead log."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import insert

from app import SERVICES
from bot.storage.db import open_db
from bot.storage.sql import execute
from incidents.paging.store import PagingStore
from incidents.paging.store.tables import paging_incidents, paging_outbox
from tests import incident_support
from tests.incident_support import routing_env
from tests.support import (
    database_url_for,
    eventually,
    every_row_text,
    in_a_thread,
    start_bot,
    stop_bot,
)

fake_pd = incident_support.fake_pd

OLD_KEY = "0ld-r0uting-k3y-kept-in-the-db"
STAMP = "2026-03-30T08:30:00.000000Z"  # the paging tables' own time text


def on_disk(path: Path) -> bytes:
    """The database file and its write-ahead log, as bytes (on PostgreSQL, where there is
    no file of ours to read, what the rows hold)."""
    url = database_url_for(path)
    if url is not None:
        return in_a_thread(every_row_text(url)).encode()
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def keep_an_old_secret(path: Path) -> None:
    """What a routing file with ``routing_key: <the key>`` left behind."""
    target = {"type": "pagerduty", "routing_key": OLD_KEY}
    chain = {"team": "comms-security", "members": [], "repeat": 0, "steps": [],
             "targets": {"duty-pd": target}}  # fmt: skip
    db = open_db(database_url_for(path) or path)
    try:
        await execute(
            db,
            insert(paging_incidents),
            {"incident_id": "SEC-2026-0001", "info": "{}", "team": "comms-security",
             "chain": json.dumps(chain), "drill": 0, "state": "resolved",
             "started_at": STAMP},
        )  # fmt: skip
        await execute(
            db,
            insert(paging_outbox),
            {"incident_id": "SEC-2026-0001", "step": 1, "repeat_round": 1,
             "target_id": "duty-pd", "action": "trigger", "provider": "pagerduty",
             "target": json.dumps(target), "status": "sent", "attempts": 1,
             "next_attempt_at": STAMP, "created_at": STAMP},
        )  # fmt: skip
    finally:
        await db.close()


async def test_a_kept_routing_key_is_replaced_by_its_variable_at_start(tmp_path, fake_pd):
    path = tmp_path / "secbot.db"
    env = {
        "SECBOT_DB": str(path),
        "SECBOT_MODE": "development",
        **routing_env(tmp_path, fake_pd.url),
    }
    await stop_bot(await start_bot(env))  # the schema, as a running secbot leaves it
    await keep_an_old_secret(path)
    assert OLD_KEY.encode() in on_disk(path)

    bot = await start_bot(env)
    try:
        store = PagingStore(bot.app[SERVICES].db)

        async def scrubbed():
            inc = await store.incident("SEC-2026-0001")
            return inc is not None and "routing_key" not in inc.chain["targets"]["duty-pd"]

        await eventually(scrubbed)
        inc = await store.incident("SEC-2026-0001")
        # The current routing file names the variable that holds the key now.
        assert inc.chain["targets"]["duty-pd"] == {
            "type": "pagerduty",
            "routing_key_env": "DUTY_PD_KEY",
        }
        (page,) = await store.pages.all("SEC-2026-0001")
        assert page.target == {"type": "pagerduty", "routing_key_env": "DUTY_PD_KEY"}
        assert page.status == "sent"  # nothing else about the row changed
    finally:
        await stop_bot(bot)
    assert OLD_KEY.encode() not in on_disk(path)
