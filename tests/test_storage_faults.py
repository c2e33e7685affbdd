"""Storage faults: liveness and readiness, the web chat's 503, and refusals at start.

``/healthz`` is liveness (the process answers; restarting would not mend a disk) and
``/readyz`` readiness (a tiny write commits). A database or settings file that can't be
used stops start-up with one line and exit status 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import event

from app import SERVICES
from tests.support import run_app

ROOT = Path(__file__).resolve().parents[1]

HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


async def _get(running, path: str) -> tuple[int, dict]:
    async with running.session.get(running.url + path) as r:
        return r.status, await r.json()


@pytest.mark.sqlite_only("holds the SQLite file's write lock from another process")
async def test_a_write_lock_held_by_another_process_fails_readiness_not_liveness(running):
    status, body = await _get(running, "readyz")
    assert (status, body["ready"]) == (200, True)
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLD_LOCK,
        running.settings.db_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"locked"
        status, body = await _get(running, "readyz")
        assert status == 503
        assert body == {"ready": False, "database": "can't be written: locked by another process"}
        # Liveness does not flap on the database: the process is fine, and says so.
        status, body = await _get(running, "healthz")
        assert status == 200 and body["status"] == "ok" and body["database"] is True
        # Reads carry on meanwhile (WAL): the web chat history still loads.
        assert isinstance(await running.web_messages(), list)
    finally:
        holder.stdin.close()
        await holder.wait()
    status, body = await _get(running, "readyz")
    assert (status, body) == (200, {"ready": True, "database": "writable"})


def _query_only(dbapi_connection, record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


@pytest.mark.sqlite_only("makes the SQLite connection query_only")
async def test_the_doors_answer_503_when_a_write_fails_and_lose_nothing(running):
    status, _ = await running.web_send(text="help", request_id="before")
    assert status == 200
    kept = await running.web_messages()
    engine = running.app[SERVICES].db.engine
    # SQLite refuses every write on connections made like this exactly as for a read-only
    # file or file system ("attempt to write a readonly database"), and lets reads
    # through; the pool is emptied so that every connection from now on is one of them.
    event.listen(engine.sync_engine, "connect", _query_only)
    await engine.dispose()
    try:
        status, data = await running.web_send(text="quiz", request_id="during")
        assert status == 503
        assert data == {
            "ok": False,
            "error": "secbot can't save messages just now. Please try again in a minute.",
        }
        status, body = await _get(running, "readyz")
        assert (status, body["database"]) == (503, "can't be written: read-only")
        assert (await _get(running, "healthz"))[0] == 200
        assert await running.web_messages() == kept
        # Teams too: a 503 rather than a 201 for an activity that could not be kept.
        status, body = await running.teams_say("help", personal=True)
        assert (status, body) == (503, {"error": "secbot can't save this just now"})
    finally:
        event.remove(engine.sync_engine, "connect", _query_only)
        await engine.dispose()
    # Once the database mends, the same send (the page sends it again) goes through.
    status, data = await running.web_send(text="help", request_id="during")
    assert (status, data) == (200, {"ok": True})
    assert len(await running.web_messages()) > len(kept)
    assert (await _get(running, "readyz"))[0] == 200


# --- refused at start --------------------------------------------------------------------

CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def _without_root_override() -> None:
    """Run the child as root still, but bound by file permissions like anyone else (CI
    runs as root, which reads and writes any file whatever its mode)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _start(env: dict[str, str], tmp_path: Path) -> str:
    """Run ``python app.py`` in ``tmp_path``; it must refuse to start: the one line."""
    proc = run_app(env, tmp_path, preexec_fn=_without_root_override)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr.strip().splitlines()[-1]


@pytest.mark.sqlite_only("a read-only SQLite file")
def test_a_read_only_database_file_refuses_start(tmp_path):
    db_path = tmp_path / "ro.db"
    made = sqlite3.connect(db_path)
    made.execute("PRAGMA journal_mode=WAL")
    made.close()
    db_path.chmod(0o444)
    last = _start({"SECBOT_DB": str(db_path)}, tmp_path)
    assert last == (
        f"secbot can't start: SECBOT_DB '{db_path}' can't be written (read-only): "
        "check the file's permissions and the free disk space"
    )


@pytest.mark.sqlite_only("a SQLite file that is not a database")
def test_a_file_that_is_not_a_database_refuses_start(tmp_path):
    db_path = tmp_path / "junk.db"
    db_path.write_bytes(b"\x00\xff" * 4096)
    last = _start({"SECBOT_DB": str(db_path)}, tmp_path)
    assert last.startswith(f"secbot can't start: SECBOT_DB '{db_path}' can't be opened")


@pytest.mark.parametrize(
    ("case", "make", "reason"),
    [
        ("not UTF-8", lambda p: p.write_bytes(b"PORT=3978\nSECBOT_NAME=caf\xe9\n"), "is not UTF-8"),
        ("unreadable", lambda p: (p.write_text("PORT=3978\n"), p.chmod(0)), "can't be read"),
        ("a folder", lambda p: p.mkdir(), "can't be read"),
    ],
)
def test_a_settings_file_that_cant_be_read_refuses_start(tmp_path, case, make, reason):
    make(tmp_path / ".env")
    last = _start({}, tmp_path)
    assert last.startswith(f"secbot can't start: the settings file .env {reason}"), case


@pytest.mark.parametrize(
    ("case", "make", "reason"),
    [
        ("not UTF-8", lambda p: p.write_bytes(b"default_team: \xff\xfe\n"), "is not UTF-8"),
        ("unreadable", lambda p: (p.write_text("default_team: x\n"), p.chmod(0)), "can't be read"),
        ("nested too deeply", lambda p: p.write_text("[" * 5000), "nests too deeply"),
    ],
)
def test_a_routing_file_that_cant_be_read_refuses_start(tmp_path, case, make, reason):
    routing = tmp_path / "routing.yml"
    make(routing)
    last = _start({"SECBOT_ROUTING": str(routing)}, tmp_path)
    assert last.startswith(f"secbot can't start: routing file {routing} {reason}"), case


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SECBOT_PAGING_RETRY_SECONDS", "nan", "a number from 0.1 to 600"),
        ("SECBOT_PAGING_RETRY_SECONDS", "inf", "a number from 0.1 to 600"),
        ("SECBOT_PAGING_RETRY_SECONDS", "-1", "a number from 0.1 to 600"),
        ("SECBOT_TIP_GRACE_MINUTES", "-5", "a whole number from 0 to 1440"),
        ("SECBOT_TIP_GRACE_MINUTES", "9" * 30, "a whole number from 0 to 1440"),
    ],
)
def test_settings_that_are_not_finite_or_out_of_range_refuse_start(
    tmp_path, name, value, expected
):
    last = _start({name: value}, tmp_path)
    assert last == f"secbot can't start: {name} must be {expected}, not {value!r}"


@pytest.mark.sqlite_only("renames a table in the SQLite file under the app's feet")
async def test_a_delivery_that_cannot_be_kept_is_not_acknowledged(running, fake_slack):
    """If the database refuses the write, Slack gets a 503 (and retries) rather than a
    200 for a delivery that would then be lost; once it can be kept, it is handled."""
    import sqlite3

    from tests.support import slash_command_body

    other = sqlite3.connect(running.settings.db_path, isolation_level=None, timeout=30)
    # The write lock first (waiting for it): the app's workers write meanwhile, and a
    # statement that reads and then writes would fail at once on a stale snapshot.
    other.execute("BEGIN IMMEDIATE")
    other.execute("ALTER TABLE inbox RENAME TO inbox_away")
    other.execute("COMMIT")
    body = slash_command_body(
        "/secbot", "help", response_url=fake_slack.response_url("retry"), trigger_id="r.1"
    )
    try:
        first = await running.slack_post(body)
        assert first.status == 503
    finally:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ALTER TABLE inbox_away RENAME TO inbox")
        other.execute("COMMIT")
        other.close()
    retry = await running.slack_post(body, headers={"X-Slack-Retry-Num": "1"})
    assert retry.status == 200
    replies = await fake_slack.wait_for(lambda s: s.responses())
    assert len(replies) == 1 and "What I can do" in replies[0]["text"]
