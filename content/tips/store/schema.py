"""The tips tables: the migration steps of the ``tips`` domain, in order.

Never edit or reorder a step: databases already migrated have run them. Add a new step
at the end.
"""

DOMAIN = "tips"
MIGRATIONS = [
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
    # A fan-out reads the pending rows in due order: the index serves the filter and the
    # order, so a day's 10,000 claimed rows need no sort and old sent rows are never read.
    """
    CREATE INDEX tip_deliveries_due ON tip_deliveries (status, due_at, id)
    """,
    # Only `pending` and `sending` rows are ever looked up by status. Partial indexes keep
    # the (ever-growing) history of sent rows out of them, and a row's move from `sending`
    # to `sent` then touches no index at all: half the index writes of a fan-out.
    """
    DROP INDEX tip_deliveries_status;
    DROP INDEX tip_deliveries_due;
    CREATE INDEX tip_deliveries_pending ON tip_deliveries (status, due_at, id)
        WHERE status = 'pending';
    CREATE INDEX tip_deliveries_sending ON tip_deliveries (status, id) WHERE status = 'sending'
    """,
    # The chat delivery (a `/tip send-now`) that claimed a row, so a replay of it after a
    # crash finds the row (and finishes or reports it) rather than claiming a second tip.
    # Partial: scheduled rows, the fan-out's thousands, carry no key and cost no index write.
    """
    ALTER TABLE tip_deliveries ADD COLUMN request_key TEXT;
    CREATE UNIQUE INDEX tip_deliveries_request ON tip_deliveries (request_key)
        WHERE request_key IS NOT NULL
    """,
    # The chat delivery (a `/tip subscribe`) that last set a subscription, so a replay of
    # it after a crash sees its change made and does not announce it in the channel again.
    """
    ALTER TABLE tip_subscriptions ADD COLUMN delivery_key TEXT
    """,
]
