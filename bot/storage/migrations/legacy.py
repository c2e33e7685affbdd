"""The schema as it was before Alembic: every domain's forward-only steps, frozen.

Until storage v2 each domain kept a list of SQL steps and applied the ones a file lacked
through ``schema_migrations`` (domain, version) at start. Revision 0001 applies these
lists in the same way and order, so a file made by any earlier secbot comes up to the
same schema with nothing lost. They are copied here as they stood at the freeze and are
never edited: later schema changes are new Alembic revisions.
"""

from __future__ import annotations

# Domain -> its steps, in the order the app applied them (the core's, then each feature's
# in FEATURES order: tips, quiz, then incidents, whose set-up registered paging first).
LEGACY: dict[str, list[str]] = {
    "core.deliveries": [
        """
    CREATE TABLE processed_deliveries (
        key TEXT PRIMARY KEY,
        seen_at TEXT NOT NULL
    );
    CREATE INDEX processed_deliveries_seen ON processed_deliveries (seen_at)
    """,
    ],
    "core.inbox": [
        """
    CREATE TABLE inbox (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL
    )
    """,
        """
    CREATE TABLE inbox_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    INSERT INTO inbox_v2 (id, source, kind, payload, received_at)
        SELECT id, source, kind, payload, received_at FROM inbox;
    DROP TABLE inbox;
    ALTER TABLE inbox_v2 RENAME TO inbox;
    CREATE INDEX inbox_source ON inbox (source, id)
    """,
        """
    ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE inbox ADD COLUMN last_error TEXT;
    CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        what TEXT NOT NULL,
        error TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        dead_at TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX dead_letters_dead_at ON dead_letters (dead_at)
    """,
    ],
    "core.webchat": [
        """
    CREATE TABLE webchat_messages (
        id INTEGER PRIMARY KEY,
        conversation TEXT NOT NULL,
        visible_to TEXT,
        sender TEXT NOT NULL,
        payload TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX webchat_messages_conv ON webchat_messages (conversation, version)
    """,
        """
    CREATE INDEX webchat_messages_version ON webchat_messages (version)
    """,
    ],
    "core.teams": [
        """
    CREATE TABLE teams_conversations (
        conversation_id TEXT PRIMARY KEY,
        reference TEXT NOT NULL,
        tenant_id TEXT,
        is_personal INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        updated_at TEXT NOT NULL
    )
    """,
        """
    CREATE TABLE teams_users (
        user_id TEXT PRIMARY KEY,
        teams_id TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
        """ALTER TABLE teams_conversations ADD COLUMN trust TEXT""",
    ],
    "core.workspaces": [
        """
    CREATE TABLE paused_workspaces (
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        reason TEXT NOT NULL,
        paused_at TEXT NOT NULL,
        PRIMARY KEY (platform, workspace)
    )
    """,
    ],
    "tips": [
        """
    CREATE TABLE tip_subscriptions (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        is_direct INTEGER NOT NULL DEFAULT 0,
        thread TEXT,
        local_time TEXT NOT NULL,
        days TEXT NOT NULL,
        nation TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        inactive_reason TEXT,
        cycle INTEGER NOT NULL DEFAULT 1,
        next_local_date TEXT,
        next_due TEXT,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (platform, workspace, channel)
    );
    CREATE INDEX tip_subscriptions_due ON tip_subscriptions (active, next_due);
    CREATE TABLE tip_deliveries (
        id INTEGER PRIMARY KEY,
        subscription_id INTEGER NOT NULL REFERENCES tip_subscriptions (id),
        local_date TEXT,
        test_slot INTEGER,
        kind TEXT NOT NULL,
        tip_id TEXT NOT NULL,
        cycle INTEGER NOT NULL,
        status TEXT NOT NULL,
        due_at TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        retry_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        message_id TEXT,
        error TEXT,
        UNIQUE (subscription_id, local_date),
        UNIQUE (subscription_id, test_slot)
    );
    CREATE INDEX tip_deliveries_status ON tip_deliveries (status, retry_at);
    CREATE TABLE tip_rotation (
        subscription_id INTEGER NOT NULL REFERENCES tip_subscriptions (id),
        cycle INTEGER NOT NULL,
        tip_id TEXT NOT NULL,
        served_at TEXT NOT NULL,
        PRIMARY KEY (subscription_id, cycle, tip_id)
    );
    CREATE TABLE tip_votes (
        tip_id TEXT NOT NULL,
        place TEXT NOT NULL,
        voter TEXT NOT NULL,
        vote TEXT NOT NULL CHECK (vote IN ('useful', 'not-useful')),
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tip_id, place, voter)
    )
    """,
        """
    CREATE INDEX tip_deliveries_due ON tip_deliveries (status, due_at, id)
    """,
        """
    DROP INDEX tip_deliveries_status;
    DROP INDEX tip_deliveries_due;
    CREATE INDEX tip_deliveries_pending ON tip_deliveries (status, due_at, id)
        WHERE status = 'pending';
    CREATE INDEX tip_deliveries_sending ON tip_deliveries (status, id) WHERE status = 'sending'
    """,
        """
    ALTER TABLE tip_deliveries ADD COLUMN request_key TEXT;
    CREATE UNIQUE INDEX tip_deliveries_request ON tip_deliveries (request_key)
        WHERE request_key IS NOT NULL
    """,
        """
    ALTER TABLE tip_subscriptions ADD COLUMN delivery_key TEXT
    """,
    ],
    "quiz": [
        """
    CREATE TABLE quiz_posts (
        id INTEGER PRIMARY KEY,
        item_id TEXT NOT NULL,
        option_order TEXT NOT NULL,
        tag TEXT NOT NULL DEFAULT '',
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        is_direct INTEGER NOT NULL DEFAULT 0,
        thread TEXT,
        message_id TEXT,
        posted_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        closes_at TEXT NOT NULL,
        closed_at TEXT
    );
    CREATE INDEX quiz_posts_due ON quiz_posts (closes_at) WHERE closed_at IS NULL;
    CREATE INDEX quiz_posts_place ON quiz_posts (platform, workspace, channel, created_at);

    CREATE TABLE quiz_sessions (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('practice', 'exam')),
        user_key TEXT NOT NULL,
        user_name TEXT NOT NULL DEFAULT '',
        questions TEXT NOT NULL,
        answered INTEGER NOT NULL DEFAULT 0,
        correct INTEGER NOT NULL DEFAULT 0,
        shown INTEGER NOT NULL DEFAULT 0,
        shown_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'done', 'abandoned')),
        tag TEXT NOT NULL DEFAULT '',
        content_version TEXT NOT NULL DEFAULT '',
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE UNIQUE INDEX quiz_sessions_one_active ON quiz_sessions (user_key, kind)
        WHERE status = 'active';

    CREATE TABLE quiz_answers (
        id INTEGER PRIMARY KEY,
        user_key TEXT NOT NULL,
        user_name TEXT NOT NULL DEFAULT '',
        item_id TEXT NOT NULL,
        module TEXT NOT NULL,
        principle TEXT NOT NULL,
        choice INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        seconds REAL NOT NULL,
        context TEXT NOT NULL CHECK (context IN ('channel', 'practice', 'exam')),
        post_id INTEGER REFERENCES quiz_posts (id),
        session_id INTEGER REFERENCES quiz_sessions (id),
        position INTEGER,
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        UNIQUE (post_id, user_key),
        UNIQUE (session_id, position)
    );
    CREATE INDEX quiz_answers_user ON quiz_answers (user_key, answered_at);
    CREATE INDEX quiz_answers_place ON quiz_answers (platform, workspace, channel, answered_at);

    CREATE TABLE quiz_cards (
        user_key TEXT NOT NULL,
        item_id TEXT NOT NULL,
        card TEXT NOT NULL,
        due TEXT NOT NULL,
        reviews INTEGER NOT NULL DEFAULT 0,
        lapses INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (user_key, item_id)
    );
    CREATE INDEX quiz_cards_due ON quiz_cards (user_key, due);

    CREATE TABLE quiz_exam_results (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL UNIQUE REFERENCES quiz_sessions (id),
        user_key TEXT NOT NULL,
        user_name TEXT NOT NULL DEFAULT '',
        score INTEGER NOT NULL,
        total INTEGER NOT NULL,
        passed INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        completed_at TEXT NOT NULL,
        content_version TEXT NOT NULL,
        refresher_due TEXT NOT NULL
    );
    CREATE INDEX quiz_exam_results_user ON quiz_exam_results (user_key, completed_at);

    CREATE TABLE quiz_prefs (
        user_key TEXT PRIMARY KEY,
        leaderboard_opt_out INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    )
    """,
        """
    CREATE TABLE quiz_prompts (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL CHECK (source IN ('tip')),
        source_id TEXT NOT NULL DEFAULT '',
        user_key TEXT NOT NULL,
        item_id TEXT NOT NULL,
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        shown_at TEXT NOT NULL
    );
    CREATE INDEX quiz_prompts_user_item ON quiz_prompts (user_key, item_id, id);

    CREATE TABLE quiz_answers_v2 (
        id INTEGER PRIMARY KEY,
        user_key TEXT NOT NULL,
        user_name TEXT NOT NULL DEFAULT '',
        item_id TEXT NOT NULL,
        module TEXT NOT NULL,
        principle TEXT NOT NULL,
        choice INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        seconds REAL NOT NULL,
        context TEXT NOT NULL CHECK (context IN ('channel', 'practice', 'exam', 'tip')),
        post_id INTEGER REFERENCES quiz_posts (id),
        session_id INTEGER REFERENCES quiz_sessions (id),
        position INTEGER,
        prompt_id INTEGER REFERENCES quiz_prompts (id),
        platform TEXT NOT NULL,
        workspace TEXT NOT NULL,
        channel TEXT NOT NULL,
        answered_at TEXT NOT NULL,
        UNIQUE (post_id, user_key),
        UNIQUE (session_id, position),
        UNIQUE (prompt_id)
    );
    INSERT INTO quiz_answers_v2 (id, user_key, user_name, item_id, module, principle, choice,
        correct, seconds, context, post_id, session_id, position, platform, workspace, channel,
        answered_at)
        SELECT id, user_key, user_name, item_id, module, principle, choice, correct, seconds,
        context, post_id, session_id, position, platform, workspace, channel, answered_at
        FROM quiz_answers;
    DROP TABLE quiz_answers;
    ALTER TABLE quiz_answers_v2 RENAME TO quiz_answers;
    CREATE INDEX quiz_answers_user ON quiz_answers (user_key, answered_at);
    CREATE INDEX quiz_answers_place ON quiz_answers (platform, workspace, channel, answered_at)
    """,
        """
    CREATE INDEX quiz_posts_place_id ON quiz_posts (platform, workspace, channel, id)
    """,
        """
    ALTER TABLE quiz_posts ADD COLUMN delivery_key TEXT;
    CREATE UNIQUE INDEX quiz_posts_delivery ON quiz_posts (delivery_key)
        WHERE delivery_key IS NOT NULL;
    ALTER TABLE quiz_answers ADD COLUMN delivery_key TEXT;
    CREATE UNIQUE INDEX quiz_answers_delivery ON quiz_answers (delivery_key)
        WHERE delivery_key IS NOT NULL
    """,
    ],
    "paging": [
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
    """,
    ],
    "incidents": [
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
        """
    ALTER TABLE incidents ADD COLUMN delivery_key TEXT;
    CREATE UNIQUE INDEX incidents_delivery ON incidents (delivery_key)
        WHERE delivery_key IS NOT NULL
    """,
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
    ],
}
