"""The incidents tables (migrations domain ``incidents``)."""

DOMAIN = "incidents"
MIGRATIONS = [
    """
    CREATE TABLE incident_sequence (
        year INTEGER PRIMARY KEY,
        last INTEGER NOT NULL
    );
    CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        drill INTEGER NOT NULL DEFAULT 0,
        platform TEXT,
        account TEXT,
        symptoms TEXT NOT NULL DEFAULT '[]',
        flags TEXT NOT NULL DEFAULT '[]',
        has_access INTEGER,
        harmful_live INTEGER,
        severity INTEGER,
        status TEXT NOT NULL DEFAULT 'triage',
        triage_step TEXT NOT NULL DEFAULT 'platform',
        reporter TEXT NOT NULL,
        reporter_name TEXT NOT NULL DEFAULT '',
        commander TEXT NOT NULL,
        commander_name TEXT NOT NULL DEFAULT '',
        department TEXT,
        summary TEXT,
        origin TEXT NOT NULL,
        card_id TEXT,
        room TEXT,
        checklist_id TEXT,
        team TEXT,
        acked_by TEXT,
        acked_by_name TEXT,
        created_at TEXT NOT NULL,
        triaged_at TEXT,
        acked_at TEXT,
        contained_at TEXT,
        closed_at TEXT
    );
    CREATE INDEX incidents_status ON incidents (status);
    CREATE TABLE incident_steps (
        incident_id TEXT NOT NULL REFERENCES incidents (id),
        step_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        phase TEXT NOT NULL,
        text TEXT NOT NULL,
        link TEXT,
        status TEXT NOT NULL DEFAULT 'open',
        by_key TEXT,
        by_name TEXT,
        at TEXT,
        reason TEXT,
        assignee TEXT,
        assignee_name TEXT,
        PRIMARY KEY (incident_id, step_id)
    );
    CREATE TABLE incident_events (
        id INTEGER PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES incidents (id),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX incident_events_incident ON incident_events (incident_id, id)
    """,
    # Tenancy and need-to-know: each incident belongs to the tenant it was reported in
    # (``platform:workspace``, see bot.core.tenancy), and to its people. Existing incidents
    # get the tenant of their origin and, as people, their reporter, commander and
    # step assignees. The indexes serve the start limits (open triage, starts an hour).
    """
    ALTER TABLE incidents ADD COLUMN tenant TEXT;
    UPDATE incidents SET tenant =
        json_extract(origin, '$.platform') || ':' || json_extract(origin, '$.workspace');
    CREATE INDEX incidents_tenant ON incidents (tenant, status);
    CREATE INDEX incidents_tenant_created ON incidents (tenant, created_at);
    CREATE INDEX incidents_reporter ON incidents (reporter, status, created_at);
    CREATE TABLE incident_people (
        incident_id TEXT NOT NULL REFERENCES incidents (id),
        person TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL,
        added_by TEXT,
        added_at TEXT NOT NULL,
        PRIMARY KEY (incident_id, person)
    );
    INSERT OR IGNORE INTO incident_people (incident_id, person, name, role, added_at)
        SELECT id, reporter, reporter_name, 'reporter', created_at FROM incidents;
    INSERT OR IGNORE INTO incident_people (incident_id, person, name, role, added_at)
        SELECT id, commander, commander_name, 'commander', created_at FROM incidents;
    INSERT OR IGNORE INTO incident_people (incident_id, person, name, role, added_at)
        SELECT s.incident_id, s.assignee, COALESCE(s.assignee_name, ''), 'assignee',
               i.created_at
        FROM incident_steps s JOIN incidents i ON i.id = s.incident_id
        WHERE s.assignee IS NOT NULL
    """,
    # The delivery (a /compromised) that started an incident: a delivery replayed after a
    # crash finds its incident instead of starting a second one.
    """
    ALTER TABLE incidents ADD COLUMN delivery_key TEXT;
    CREATE UNIQUE INDEX incidents_delivery ON incidents (delivery_key)
        WHERE delivery_key IS NOT NULL
    """,
    # Issue 15 triage: every question may be answered "Not sure", so the answers are kept
    # as words (yes, no, unsure) beside the old true/false columns, plus the new personal
    # data question and the kind (hijack or impersonation). The checklist phases were
    # renamed: "Preserve evidence" became part of the "First 15 minutes", "review" became
    # "harden" (incidents.playbooks.OLD_PHASES).
    """
    ALTER TABLE incidents ADD COLUMN access TEXT;
    ALTER TABLE incidents ADD COLUMN harmful TEXT;
    ALTER TABLE incidents ADD COLUMN personal_data TEXT;
    ALTER TABLE incidents ADD COLUMN kind TEXT;
    UPDATE incidents SET
        access = CASE has_access WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END,
        harmful = CASE harmful_live WHEN 1 THEN 'yes' WHEN 0 THEN 'no' END,
        kind = CASE WHEN triage_step = 'done' THEN 'hijack' END;
    UPDATE incident_steps SET phase = 'first' WHERE phase = 'evidence';
    UPDATE incident_steps SET phase = 'harden' WHERE phase = 'review'
    """,
]
