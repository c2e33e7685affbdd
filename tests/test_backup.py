"""Backup and restore (issue 18 item 8) and the SQLite file's operator commands (issue 14
item 7): ``python app.py db backup|restore|tables|vacuum``, run as an operator would, in
a process of their own, while the app runs over loopback HTTP (or once it has stopped)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from tests.quiz_support import LIBRARY, latest_post_id, post_choice
from tests.support import start_bot, stop_bot
from tests.test_retention import START, report_incident, say

APP = Path(__file__).resolve().parents[1] / "app.py"


def secbot(*args: str, db: str | Path, **env: str) -> subprocess.CompletedProcess:
    """``python app.py ARGS`` with SECBOT_DB=db and nothing else of secbot's set."""
    full = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "SECBOT_", "HOST"))
    }
    full.update({"SECBOT_DB": str(db), **env})
    return subprocess.run(
        [sys.executable, str(APP), *args],
        env=full,
        cwd=Path(db).parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def in_thread(*args: str, db: str | Path, **env: str) -> subprocess.CompletedProcess:
    """The same, leaving the event loop free to serve the app meanwhile."""
    return await asyncio.to_thread(secbot, *args, db=db, **env)


def one_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


async def what_people_see(bot, incident_id: str) -> dict[str, str]:
    """Quiz progress, the channel's tips and the incident, as people read them."""
    report = await say(bot, "web-user-3", f"compromised report {incident_id}")
    return {
        "quiz": (await say(bot, "web-user-2", "quiz stats"))["text"],
        "tips": (await say(bot, "web-user-1", "tip status"))["text"],
        "incident": report["text"] if report.get("attachment") else "not found",
    }


@pytest.mark.sqlite_only  # the SQLite file itself
async def test_a_backup_taken_while_secbot_runs_restores_into_a_fresh_app(
    slack_env, fake_slack, fake_connector, tmp_path
):
    live_db = slack_env["SECBOT_DB"]
    kept = tmp_path / "backups" / "secbot-backup.db"
    kept.parent.mkdir()
    live = await start_bot(
        slack_env, clock=FakeClock(START), slack=fake_slack, connector=fake_connector,
        content=LIBRARY,
    )  # fmt: skip
    try:
        question = await say(live, "web-user-1", "quiz")
        choice = await post_choice(live, await latest_post_id(live), right=True)
        action = {"action_id": "quiz:answer", "value": choice, "message_id": str(question["id"])}
        await say(live, "web-user-2", action=action)
        subscribed = await say(live, "web-user-1", "tip subscribe 09:30 mon-fri")
        assert "09:30" in subscribed["text"], subscribed
        incident = await report_incident(live, "web-user-3")
        before = await what_people_see(live, incident)
        assert "You've answered 1 question and got 1 right" in before["quiz"]
        assert "09:30" in before["tips"] and incident in before["incident"]

        # The backup, while the app runs and answers.
        taking = asyncio.ensure_future(in_thread("db", "backup", str(kept), db=live_db))
        while not taking.done():  # people keep using secbot meanwhile
            assert (await say(live, "web-user-2", "quiz stats"))["text"] == before["quiz"]
        took = taking.result()
        assert took.returncode == 0, took.stderr
        assert took.stdout.startswith(f"Backed up SECBOT_DB to {kept} (")

        # Refused with one line each: a file that exists, a folder that doesn't, and a
        # restore over the database the app is using.
        refused = one_line(await in_thread("db", "backup", str(kept), db=live_db))
        assert refused == f"secbot: {str(kept)!r} already exists: choose a new file name"
        nowhere = tmp_path / "no-such-folder" / "b.db"
        refused = one_line(await in_thread("db", "backup", str(nowhere), db=live_db))
        assert refused == f"secbot: the folder {str(nowhere.parent)!r} does not exist"
        refused = one_line(await in_thread("db", "restore", str(kept), db=live_db))
        assert refused == (
            f"secbot: SECBOT_DB {live_db!r} is in use: stop secbot (every instance) before"
            " restoring"
        )
        assert (await say(live, "web-user-2", "quiz stats"))["text"] == before["quiz"]
    finally:
        await stop_bot(live)

    # A fresh app knows none of it, until the backup is restored into it (stopped).
    fresh_env = {**slack_env, "SECBOT_DB": str(tmp_path / "fresh" / "secbot.db")}
    fresh = await start_bot(fresh_env, clock=FakeClock(START), slack=fake_slack,
                            connector=fake_connector, content=LIBRARY)  # fmt: skip
    try:
        empty = await what_people_see(fresh, incident)
        assert "You've answered" not in empty["quiz"]
        assert "isn't getting daily tips" in empty["tips"]
        assert empty["incident"] == "not found"
    finally:
        await stop_bot(fresh)
    restored = secbot("db", "restore", str(kept), db=fresh_env["SECBOT_DB"])
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"Restored SECBOT_DB {fresh_env['SECBOT_DB']} from {kept}")
    fresh = await start_bot(fresh_env, clock=FakeClock(START), slack=fake_slack,
                            connector=fake_connector, content=LIBRARY)  # fmt: skip
    try:
        assert await what_people_see(fresh, incident) == before
    finally:
        await stop_bot(fresh)


@pytest.mark.sqlite_only  # the SQLite file itself
def test_restore_refuses_a_file_that_is_not_a_secbot_database(tmp_path):
    target = tmp_path / "secbot.db"
    assert secbot("db", "upgrade", db=target).returncode == 0
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE things (x)")
    for path in (text, other):
        assert one_line(secbot("db", "restore", str(path), db=target)) == (
            f"secbot: that file {str(path)!r} is not a secbot database"
        )
    newer = tmp_path / "newer.db"
    assert secbot("db", "backup", str(newer), db=target).returncode == 0
    with closing(sqlite3.connect(newer)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert one_line(secbot("db", "restore", str(newer), db=target)) == (
        f"secbot: that file {str(newer)!r} is from a newer secbot (revision 9999)"
    )
    missing = tmp_path / "missing.db"
    assert one_line(secbot("db", "restore", str(missing), db=target)) == (
        f"secbot: {str(missing)!r} is not a file"
    )


def test_on_postgresql_the_commands_name_the_tools_to_use(tmp_path):
    url = "postgresql+asyncpg://secbot:secret@db.example/secbot"
    for command, tool in (("backup", "pg_dump"), ("restore", "pg_restore")):
        line = one_line(
            secbot("db", command, str(tmp_path / "x"), db=tmp_path / "s.db",
                   SECBOT_DATABASE_URL=url)  # fmt: skip
        )
        assert f"on PostgreSQL use {tool} " in line and "${SECBOT_DATABASE_URL/+asyncpg/}" in line
        assert "secret" not in line


@pytest.mark.sqlite_only  # the SQLite file itself
def test_tables_counts_rows_and_vacuum_waits_for_secbot_to_stop(tmp_path):
    db = tmp_path / "secbot.db"
    assert secbot("db", "upgrade", db=db).returncode == 0
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.executemany(
            "INSERT INTO processed_deliveries (key, seen_at) VALUES (?, ?)",
            [(f"slack:e{n}", "2026-11-25T10:00:00.000000+00:00") for n in range(20000)],
        )
    listed = secbot("db", "tables", db=db)
    assert listed.returncode == 0, listed.stderr
    rows = dict(line.rsplit(None, 1) for line in listed.stdout.splitlines()[1:-1])
    assert rows["processed_deliveries"] == "20,000" and rows["incidents"] == "0"
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("DELETE FROM processed_deliveries")
    freed = secbot("db", "tables", db=db).stdout.splitlines()[-1]
    assert "MB is free space" in freed and " 0.0 MB is free" not in freed

    holder = sqlite3.connect(db)  # as a running secbot holds it
    holder.execute("PRAGMA journal_mode=WAL")
    try:
        assert one_line(secbot("db", "vacuum", db=db)) == (
            f"secbot: SECBOT_DB {str(db)!r} is in use: stop secbot (every instance) before"
            " vacuuming"
        )
    finally:
        holder.close()
    size = db.stat().st_size
    vacuumed = secbot("db", "vacuum", db=db)
    assert vacuumed.returncode == 0, vacuumed.stderr
    assert db.stat().st_size < size
    assert "0.0 MB is free space" in secbot("db", "tables", db=db).stdout
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
