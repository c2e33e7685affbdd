"""PostgreSQL (storage v2, issue 14): the migrations make the declared schema there too,
operators upgrade it with the same command, and a database that can't be used stops the
start with one line and exit status 2. These run against the session's throwaway server
(``pg_url`` in tests/conftest.py) and are skipped where PostgreSQL is not installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.storage.sql import metadata
from tests.support import admin_sql, in_a_thread
from tests.test_schema_matches import _import_everything

ROOT = Path(__file__).resolve().parents[1]
# Settings the app would otherwise want from the environment (none of them matter here).
BASE_ENV = {"PATH": os.environ.get("PATH", ""), "SECBOT_MODE": "development"}


def secbot(*args: str, url: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python app.py ...`` with SECBOT_DATABASE_URL set, as an operator runs it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        env={**BASE_ENV, "SECBOT_DATABASE_URL": url, "SECBOT_DB": str(cwd / "unused.db")},
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


async def _differences(url: str):
    from bot.storage.engine import create_engine_for

    declared = set(metadata.tables)

    def include_name(name, type_, parent_names):
        return name in declared if type_ == "table" else True

    def compare(conn):
        context = MigrationContext.configure(
            conn, opts={"include_name": include_name, "compare_type": True}
        )
        return compare_metadata(context, metadata), set(inspect(conn).get_table_names())

    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(compare)
    finally:
        await engine.dispose()


def test_db_upgrade_makes_the_declared_schema_on_postgresql(fresh_pg_url, tmp_path):
    """Revision 0001 makes the schema of its time from its Core snapshot on PostgreSQL,
    the later revisions apply as on SQLite, and the result is exactly what the code
    declares (the same comparison tests/test_schema_matches.py makes on SQLite)."""
    first = secbot("db", "upgrade", url=fresh_pg_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Upgraded the schema to revision" in first.stdout and "a new database" in first.stdout
    again = secbot("db", "upgrade", url=fresh_pg_url, cwd=tmp_path)
    assert again.returncode == 0 and "up to date" in again.stdout
    current = secbot("db", "current", url=fresh_pg_url, cwd=tmp_path)
    assert current.returncode == 0 and "up to date" in current.stdout
    assert not (tmp_path / "unused.db").exists()  # SECBOT_DATABASE_URL wins over SECBOT_DB

    _import_everything()
    differences, tables = in_a_thread(_differences(fresh_pg_url))
    assert differences == [], (
        "the declared tables differ from what the migrations make on PostgreSQL; if a "
        "domain just declared its tables, regenerate the 0001 snapshot: "
        "python -m tests.fixtures.build_pg_snapshot"
    )
    assert set(metadata.tables) <= tables


def test_a_database_that_can_not_be_used_stops_the_start_with_one_line(pg_url, tmp_path):
    """Nothing listens there, or no such database: one line naming the variable (never
    the password) and exit status 2, for the app and for the operator's command."""
    closed = f"postgresql+asyncpg://secbot:hunter2@127.0.0.1:{_closed_port()}/secbot"
    missing = pg_url.rsplit("/", 1)[0] + "/no_such_database"
    for url, why in ((closed, "refused"), (missing, "does not exist")):
        for args in ((), ("db", "upgrade")):
            done = secbot(*args, url=url, cwd=tmp_path)
            lines = done.stderr.strip().splitlines()
            assert done.returncode == 2, done.stderr
            assert len(lines) == 1 and "SECBOT_DATABASE_URL" in lines[0] and why in lines[0]
            assert "hunter2" not in done.stderr + done.stdout


def test_a_url_that_is_not_postgresql_is_refused_at_start(tmp_path):
    done = secbot(url="mysql://secbot@localhost/secbot", cwd=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "SECBOT_DATABASE_URL" in line and "PostgreSQL" in line


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql+asyncpg://secbot:hunter2@db:port/secbot", "must be a URL like"),
        ("not a url at all", "must be a URL like"),
        ("postgresql+asyncpg://secbot:hunter2@/secbot", "must name a host and a database"),
        ("postgresql+asyncpg://secbot:hunter2@db.example", "must name a host and a database"),
        ("postgresql+asyncpg://secbot:hunter2@no-such-host.invalid/secbot", "host name is unknown"),
    ],
)
def test_a_wrong_url_is_one_line_and_exit_status_2(tmp_path, url, words):
    """A URL mistyped (a port that is not a number, no host, no database, a host that
    does not exist): one line naming the variable and what is wrong, never the password
    nor a traceback, for the app and for the operator's command."""
    for args in ((), ("db", "upgrade")):
        done = secbot(*args, url=url, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()
        opening = "secbot: " if args else "secbot can't start: "
        assert line.startswith(opening + "SECBOT_DATABASE_URL"), line
        assert words in line and "hunter2" not in done.stderr + done.stdout


def test_a_database_whose_schema_is_newer_refuses_to_start(fresh_pg_url, tmp_path):
    """A database a later secbot upgraded (a revision this code does not know): the app
    and ``db upgrade`` refuse with one line saying so, and leave it as it was."""
    assert secbot("db", "upgrade", url=fresh_pg_url, cwd=tmp_path).returncode == 0
    in_a_thread(admin_sql(fresh_pg_url, "UPDATE alembic_version SET version_num = '9999'"))
    for args in ((), ("db", "upgrade")):
        done = secbot(*args, url=fresh_pg_url, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        problem = [line for line in done.stderr.splitlines() if "9999" in line]
        assert len(problem) == 1 and "newer than this secbot knows" in problem[0]
        assert "SECBOT_DATABASE_URL" in problem[0] and "Traceback" not in done.stderr
    current = secbot("db", "current", url=fresh_pg_url, cwd=tmp_path)
    assert "9999" in current.stdout + current.stderr


def _closed_port() -> int:
    from tests.conftest import _free_port

    return _free_port()  # free a moment ago: nothing listens there


async def test_readyz_fails_while_postgresql_is_away_and_work_resumes_after(pg_server):
    """The database goes away: /readyz says so (503) at once, /healthz stays 200, and a
    message sent meanwhile is refused with a 503 (the page sends it again), not lost.
    Once the server is back, the same message goes through."""
    from tests.support import start_bot, stop_bot

    bot = await start_bot(
        {"SECBOT_DATABASE_URL": pg_server.url, "SECBOT_MODE": "development", "PORT": "0"},
        features=[], content=False,
    )  # fmt: skip
    try:
        async def get(path: str) -> tuple[int, dict]:
            async with bot.session.get(bot.url + path) as r:
                return r.status, await r.json()

        assert (await get("readyz"))[0] == 200
        pg_server.stop()
        status, body = await get("readyz")
        assert status == 503 and body["ready"] is False
        status, body = await get("healthz")
        assert status == 200 and body["database"] is False
        status, _ = await bot.web_send(text="help", request_id="away")
        assert status == 503
        pg_server.start()
        assert (await get("readyz"))[0] == 200
        status, body = await bot.web_send(text="help", request_id="away")
        assert (status, body) == (200, {"ok": True})
        assert [m["sender"] for m in await bot.web_messages()] == ["user", "bot"]
    finally:
        await stop_bot(bot)


async def test_a_slack_delivery_while_postgresql_is_away_is_kept_once_it_is_back(
    pg_server, slack_env, fake_slack, content_library
):
    """Slack's delivery is acknowledged only once it is kept: while the server is away
    Slack gets a 503 (and sends it again), the workers carry on failing quietly, and once
    the server is back the resent delivery is kept, handled and answered once."""
    from tests.support import slash_command_body, start_bot, stop_bot

    env = {**slack_env, "SECBOT_DATABASE_URL": pg_server.url}
    bot = await start_bot(env, slack=fake_slack, content=content_library)
    body = slash_command_body(
        "/secbot", "help", response_url=fake_slack.response_url("away"), trigger_id="a.1"
    )
    try:
        pg_server.stop()
        assert (await bot.slack_post(body)).status == 503
        async with bot.session.get(bot.url + "healthz") as r:
            assert r.status == 200
        pg_server.start()
        retry = await bot.slack_post(body, headers={"X-Slack-Retry-Num": "1"})
        assert retry.status == 200
        replies = await fake_slack.wait_for(lambda s: s.responses())
        assert len(replies) == 1 and "What I can do" in replies[0]["text"]
        async with bot.session.get(bot.url + "readyz") as r:
            assert r.status == 200
        # A later command goes the whole way too: the workers came back on their own.
        assert (await bot.slash("/secbot", "help", user="U2", channel="C2")).status == 200
        await fake_slack.wait_for(lambda s: len(s.responses()) == 2)
    finally:
        await stop_bot(bot)
