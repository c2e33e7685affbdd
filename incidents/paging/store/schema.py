"""The paging tables (migrations domain ``paging``)."""

DOMAIN = "paging"
MIGRATIONS = [
    """
    CREATE TABLE paging_incidents (
        incident_id TEXT PRIMARY KEY,
        info TEXT NOT NULL,
        team TEXT NOT NULL,
        chain TEXT NOT NULL,
        drill INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active', 'acknowledged', 'resolved')),
        started_at TEXT NOT NULL,
        acknowledged_at TEXT,
        acknowledged_by TEXT,
        resolved_at TEXT,
        exhausted_at TEXT
    );
    CREATE TABLE paging_jobs (
        id INTEGER PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES paging_incidents (incident_id),
        step INTEGER NOT NULL,
        repeat_round INTEGER NOT NULL,
        due_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'cancelled')),
        finished_at TEXT,
        UNIQUE (incident_id, step, repeat_round)
    );
    CREATE INDEX paging_jobs_due ON paging_jobs (status, due_at);
    CREATE TABLE paging_outbox (
        id INTEGER PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES paging_incidents (incident_id),
        step INTEGER NOT NULL,
        repeat_round INTEGER NOT NULL,
        target_id TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('trigger', 'acknowledge', 'resolve')),
        provider TEXT NOT NULL,
        target TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        detail TEXT,
        ref TEXT,
        fallback_for TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (incident_id, step, repeat_round, target_id, action)
    );
    CREATE INDEX paging_outbox_due ON paging_outbox (status, next_attempt_at)
    """
]
