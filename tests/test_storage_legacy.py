"""Databases from before: rows written in an older shape on purpose, and what today's
code makes of them (tests/test_test_seams.py names this file as one of the few that may
write the database directly: no public method writes an old shape)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app import SERVICES
from bot.core import DeliveryFailed
from bot.core.model import Message, Place, Section
from tests import incident_support
from tests.incident_support import buttons, card_text
from tests.support import ready_db, sqlite_file, start_bot, stop_bot
from tests.test_incident_checklist import TEAM, by_id, click, expected_phase, web_incident
from tests.test_output_safety import db_bytes

fake_slack = incident_support.fake_slack
fake_connector = incident_support.fake_connector
fake_pd = incident_support.fake_pd

CONV = "a:personal-trust"  # as in test_teams_service_url


async def test_existing_incidents_get_their_origin_tenant_and_people(tmp_path):
    """The migration: incidents made before tenancy belong to where they were reported."""
    from datetime import UTC, datetime

    from bot.core.model import Actor, Place
    from bot.storage.db import migrate
    from bot.storage.migrations.legacy import LEGACY
    from incidents.store import IncidentStore

    db = sqlite_file(tmp_path / "old.db")
    migrate(db.conn, "incidents", LEGACY["incidents"][:1])  # as the main of that time left it
    origin = {"platform": "slack", "workspace": "TOLD", "channel": "C1", "is_direct": False,
              "thread": None}  # fmt: skip
    db.execute(
        "INSERT INTO incidents (id, reporter, reporter_name, commander, commander_name, origin,"
        " created_at) VALUES ('SEC-2026-0001', 'slack:UREP', 'Rep', 'slack:ULEAD', 'Lead', ?,"
        " '2026-01-05T09:00:00+00:00')",
        [json.dumps(origin)],
    )
    db.execute(
        "INSERT INTO incident_steps (incident_id, step_id, position, phase, text, assignee,"
        " assignee_name) VALUES ('SEC-2026-0001', 'contain-password', 0, 'contain', 'x',"
        " 'slack:USTEP', 'Step')"
    )
    db.close()
    store = IncidentStore(await ready_db(tmp_path / "old.db"))  # 0001 applies what it lacks
    assert (await store.get("SEC-2026-0001")).tenant == "slack:TOLD"
    assert {p[0] for p in await store.people.all("SEC-2026-0001")} == {
        "slack:UREP", "slack:ULEAD", "slack:USTEP"
    }  # fmt: skip
    new = await store.create(
        datetime(2027, 2, 1, tzinfo=UTC),
        reporter=Actor("slack", "UNEW", "New"),
        origin=Place("slack", "TOLD", "C1", enterprise="EORG"),
    )
    assert new.tenant == "slack:EORG"
    await store.db.close()


async def test_incidents_triaged_before_not_sure_keep_their_answers_and_phases(tmp_path):
    """Incidents triaged with yes/no columns and the old phase names (evidence, review)
    read as answers in words and today's phases, and their checklists still render."""
    from zoneinfo import ZoneInfo

    from bot.storage.db import migrate
    from bot.storage.migrations.legacy import LEGACY
    from incidents.checklist_view import checklist
    from incidents.report import build_report
    from incidents.store import IncidentStore

    db = sqlite_file(tmp_path / "old.db")
    migrate(db.conn, "incidents", LEGACY["incidents"][:3])  # before the issue 15 triage
    origin = {"platform": "web", "workspace": "local", "channel": "c", "is_direct": False,
              "thread": None}  # fmt: skip
    db.execute(
        "INSERT INTO incidents (id, reporter, reporter_name, commander, commander_name, origin,"
        " created_at, has_access, harmful_live, severity, triage_step, status, tenant)"
        " VALUES ('SEC-2026-0002', 'web:r', 'Rep', 'web:r', 'Rep', ?,"
        " '2026-01-05T09:00:00+00:00', 0, 1, 1, 'done', 'containing', 'web:local')",
        [json.dumps(origin)],
    )
    for i, (sid, phase) in enumerate([("evidence-capture", "evidence"), ("review-x", "review")]):
        db.execute(
            "INSERT INTO incident_steps (incident_id, step_id, position, phase, text)"
            " VALUES ('SEC-2026-0002', ?, ?, ?, ?)",
            [sid, i, phase, f"Do {sid}"],
        )
    db.close()
    store = IncidentStore(await ready_db(tmp_path / "old.db"))
    inc = await store.get("SEC-2026-0002")
    assert (inc.access, inc.harmful, inc.personal_data, inc.kind) == ("no", "yes", None, "hijack")
    steps = await store.steps.all(inc.id)
    assert [s.phase for s in steps] == ["first", "harden"]
    shown = repr(checklist(inc, steps, ZoneInfo("Europe/London")))
    assert "Do evidence-capture" in shown and "First 15 minutes" in shown
    md = build_report(inc, steps, [], [], None, ZoneInfo("Europe/London"))
    assert "### First 15 minutes" in md and "### Harden and review" in md
    await store.db.close()


@pytest.mark.sqlite_only("writes rows into the SQLite file as an older secbot did")
async def test_secret_values_stored_before_are_removed_at_start(
    slack_env, fake_slack, fake_connector, fake_pd, content_library, tmp_path
):
    """A database from before: a chain snapshot and a page holding an inline key."""
    env = {**slack_env, **incident_support.routing_env(tmp_path, fake_pd.url)}
    bot = await start_bot(env, slack=fake_slack, connector=fake_connector, content=content_library)
    await stop_bot(bot)
    import sqlite3

    old_key = "legacy-inline-key-0a1b2c3d4e"
    chain = {
        "team": "comms-security", "members": [], "repeat": 0,
        "steps": [{"targets": ["duty-pd"], "wait_minutes": 5}],
        "targets": {"duty-pd": {"type": "pagerduty", "routing_key": old_key}},
    }  # fmt: skip
    conn = sqlite3.connect(env["SECBOT_DB"])
    with conn:
        conn.execute(
            "INSERT INTO paging_incidents (incident_id, info, team, chain, drill, state,"
            " started_at) VALUES ('SEC-2020-0001', '{}', 'comms-security', ?, 0, 'resolved',"
            " '2020-01-01T00:00:00.000000Z')",
            [json.dumps(chain)],
        )
        conn.execute(
            "INSERT INTO paging_outbox (incident_id, step, repeat_round, target_id, action,"
            " provider, target, status, next_attempt_at, created_at) VALUES ('SEC-2020-0001',"
            " 1, 1, 'duty-pd', 'trigger', 'pagerduty', ?, 'sent', '2020', '2020')",
            [json.dumps(chain["targets"]["duty-pd"])],
        )
    conn.close()
    assert old_key.encode() in db_bytes(env["SECBOT_DB"])
    bot = await start_bot(env, slack=fake_slack, connector=fake_connector, content=content_library)
    await stop_bot(bot)
    data = db_bytes(env["SECBOT_DB"])
    assert old_key.encode() not in data
    assert b'"routing_key_env": "DUTY_PD_KEY"' in data  # the variable that holds it now


async def test_proactive_posts_use_only_references_a_token_vouched_for(tmp_path, fake_connector):
    """A reference kept in development mode (or before trust was recorded, over http)
    is not used by a bot with an app id: it would send its credentials there."""
    db = str(tmp_path / "shared.db")
    dev = await start_bot(
        {"SECBOT_DB": db, "SECBOT_MODE": "development"}, connector=fake_connector, content=False
    )
    try:
        assert (await dev.teams_say("help", personal=True, conversation=CONV))[0] == 202
        await fake_connector.wait_for(lambda s: s.sent())
        sqlite_file(db).execute(
            "INSERT INTO teams_conversations (conversation_id, reference, tenant_id,"
            " is_personal, active, updated_at, trust) SELECT 'a:legacy', reference, tenant_id,"
            " is_personal, 1, updated_at, NULL FROM teams_conversations"
        )
    finally:
        await stop_bot(dev)

    fake_connector.calls.clear()
    prod = await start_bot({"SECBOT_DB": db}, connector=fake_connector, content=False)
    try:
        assert prod.settings.teams_authenticated
        transport = prod.app[SERVICES].transports["teams"]
        for conv in (CONV, "a:legacy"):
            with pytest.raises(DeliveryFailed) as failed:
                await transport.post(
                    Place("teams", "tenant-1", conv), Message("A tip", (Section("A tip"),))
                )
            assert failed.value.permanent
        assert fake_connector.calls == []
        # Once the conversation speaks with a valid token, its reference is trusted again.
        assert (await prod.teams_say("help", personal=True, conversation=CONV))[0] == 202
        tip = Message("A tip", (Section("A tip"),))
        await transport.post(Place("teams", "tenant-1", CONV), tip)
        assert any("A tip" in str(body) for body in fake_connector.sent())
    finally:
        await stop_bot(prod)


# --- a file made by main before Alembic (tests/fixtures/build_legacy_db.py made it) ------

LEGACY_FILE = Path(__file__).resolve().parent / "fixtures" / "legacy-e55fa84.db"


def _legacy_copy(tmp_path) -> Path:
    path = tmp_path / "secbot.db"
    shutil.copyfile(LEGACY_FILE, path)
    return path


# What the steps released after that file was made change on purpose: issue 15 renamed
# two checklist phases (incidents step 4).
RENAMED = {("incident_steps", "phase"): {"evidence": "first", "review": "harden"}}


def _every_row(db, columns: dict[str, list[str]] | None = None) -> dict[str, list[dict]]:
    """Every row of every table, as {column: value}; only ``columns`` if given (a later
    step may add columns)."""
    tables = [
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN"
            " ('sqlite_sequence', 'schema_migrations', 'alembic_version') ORDER BY name"
        )
    ]
    rows = {}
    for t in tables:
        wanted = (columns or {}).get(t)
        found = [dict(r) for r in db.execute(f'SELECT * FROM "{t}"').fetchall()]
        if wanted is not None:
            found = [{c: r[c] for c in wanted} for r in found]
        rows[t] = sorted(found, key=repr)
    return rows


def _renamed(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    out = {t: [dict(r) for r in found] for t, found in rows.items()}
    for (table, column), names in RENAMED.items():
        for r in out.get(table, []):
            r[column] = names.get(r[column], r[column])
        out[table] = sorted(out.get(table, []), key=repr)
    return out


async def test_a_file_made_before_alembic_upgrades_with_nothing_lost(tmp_path):
    from bot.storage.db import open_db
    from bot.storage.migrations.legacy import LEGACY
    from bot.storage.schema import head, status, upgrade

    path = _legacy_copy(tmp_path)
    db = sqlite_file(path)
    before = _every_row(db)
    assert before and all(before.values()), "the fixture has rows in every table"
    engine_db = open_db(path)
    assert (await status(engine_db)).current is None
    await upgrade(engine_db)
    assert (await status(engine_db)).current == head()
    await engine_db.close()
    columns = {t: list(found[0]) for t, found in before.items()}
    after = _every_row(db, columns)
    # Tables a later revision added start empty (0002: incident_checklists).
    added = {t: rows for t, rows in after.items() if t not in before}
    assert added == {t: [] for t in added}
    assert {t: rows for t, rows in after.items() if t in before} == _renamed(before)
    done = {tuple(r) for r in db.execute("SELECT domain, version FROM schema_migrations")}
    assert done == {(d, v) for d, steps in LEGACY.items() for v in range(1, len(steps) + 1)}
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


@pytest.mark.sqlite_only("starts the app on a SQLite file made before Alembic")
async def test_the_app_reads_a_file_made_before_alembic(
    tmp_path, slack_env, fake_slack, fake_connector, content_library, fake_pd
):
    """Quiz progress, tip subscriptions and incidents kept by the old code are all there."""
    from tests.incident_support import routing_env

    env = {**slack_env, "SECBOT_DB": str(_legacy_copy(tmp_path)),
           **routing_env(tmp_path, fake_pd.url)}  # fmt: skip
    bot = await start_bot(env, slack=fake_slack, connector=fake_connector, content=content_library)
    try:
        await bot.slash("/quiz", "stats", user="U1", channel="C1")
        stats = (await fake_slack.wait_for(lambda s: s.responses()))[-1]["text"]
        assert "You've answered 1 question and got 0 right" in stats, stats
        await bot.slash("/tip", "status", user="UADMIN", channel="C2")
        tips = await fake_slack.wait_for(lambda s: len(s.responses()) > 1 and s.responses())
        assert tips[-1]["text"].startswith("This channel gets a security tip at 09:30")
        assert "Tips left in this cycle: 261 of 262" in tips[-1]["text"]  # one already sent
        status, body = await bot.web_send(user="web-reporter", text="compromised status")
        assert status == 200 and body["ok"]
        listed = (await bot.web_messages(user="web-reporter"))[-1]["text"]
        assert "SEC-2026-0001" in listed, listed
    finally:
        await stop_bot(bot)


async def test_an_incident_stored_before_this_change_still_works(
    slack_env, fake_slack, fake_connector, content_library, fake_pd, tmp_path
):
    """A checklist kept before "Need help" and the chosen phase were stored is migrated
    at start: it renders by phase and its buttons work."""
    env = {**slack_env, **incident_support.routing_env(tmp_path, fake_pd.url)}
    first = await start_bot(env, slack=fake_slack, connector=fake_connector,
                            content=content_library)  # fmt: skip
    try:
        incident_id, checklist = await web_incident(first)
        old_ids = await expected_phase(first, incident_id, "first")
    finally:
        await stop_bot(first)
    # The database as it was before (revision 0001): none of the new columns or table.
    db = sqlite_file(env["SECBOT_DB"])
    for column in ("help_by", "help_name", "help_at"):
        db.execute(f"ALTER TABLE incident_steps DROP COLUMN {column}")
    db.execute("DROP TABLE incident_checklists")
    db.execute("ALTER TABLE incidents DROP COLUMN owning_team")  # 0009
    # ... nor the tables of later revisions, which are made again on the way up.
    for table in (
        "incident_evidence", "timeline_clips", "incident_takedowns",  # 0003
        "paging_webhook_events",  # 0006
        "retention_runs",  # 0008
        "register_accounts", "register_access", "register_imports",  # 0009
    ):  # fmt: skip
        db.execute(f"DROP TABLE IF EXISTS {table}")
    db.execute("DROP TABLE IF EXISTS incident_holding_lines")  # 0004
    for column in ("claimed_by", "lease_until"):  # 0012 (the fan-out's leases)
        db.execute(f"ALTER TABLE tip_deliveries DROP COLUMN {column}")
    for table in ("incident_timers", "incident_ico"):  # 0005 (the ICO clock, reminders)
        db.execute(f"DROP TABLE IF EXISTS {table}")
    for table in ("audit_log", "privacy_keys"):  # 0007 (audit log, people's rights)
        db.execute(f"DROP TABLE IF EXISTS {table}")
    db.execute("ALTER TABLE webchat_messages DROP COLUMN author")  # 0007
    for table in (
        "training_nudges", "training_assignments",  # 0010 (training, reviews, leavers)
        "access_review_decisions", "access_reviews", "leaver_tasks", "xapi_outbox",
    ):  # fmt: skip
        db.execute(f"DROP TABLE IF EXISTS {table}")
    for table in ("leaders", "rate_pauses", "card_redraws"):  # 0011 (leases)
        db.execute(f"DROP TABLE IF EXISTS {table}")
    for table in ("assessment_answers", "assessments"):  # 0013 (self-assessments)
        db.execute(f"DROP TABLE IF EXISTS {table}")
    for column in ("claimed_by", "lease_until", "finished_at"):  # 0014 (delivery states)
        db.execute(f"ALTER TABLE processed_deliveries DROP COLUMN {column}")
    db.execute("ALTER TABLE paging_incidents DROP COLUMN acknowledged_by_name")  # 0015
    for table in ("inbox", "paging_outbox", "paging_jobs"):  # 0011's lease columns
        for column in ("claimed_by", "lease_until") + (("claims",) if table == "inbox" else ()):
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.execute("UPDATE alembic_version SET version_num = '0001'")
    db.close()

    second = await start_bot(env, slack=fake_slack, connector=fake_connector,
                             content=content_library)  # fmt: skip
    try:
        assert await expected_phase(second, incident_id, "first") == old_ids
        # The message posted before the restart still works, and is redrawn by phase.
        messages = await click(
            second, "incident:done", f"{incident_id}|{old_ids[0]}", checklist["id"], user=TEAM
        )
        current = by_id(messages, checklist["id"])
        assert current["text"].startswith(f"{incident_id} checklist: 1 of")
        assert "First 15 minutes" in current["text"]
        messages = await click(
            second, "incident:step", f"{incident_id}|{old_ids[-1]}|help", checklist["id"]
        )
        assert "Help asked for by" in card_text(by_id(messages, checklist["id"])["blocks"])
        (show_next,) = buttons(by_id(messages, checklist["id"])["blocks"], "incident:phase")
        messages = await click(second, "incident:phase", show_next, checklist["id"])
        assert f"{incident_id}|{old_ids[-1]}" not in buttons(
            by_id(messages, checklist["id"])["blocks"], "incident:done"
        )
    finally:
        await stop_bot(second)
