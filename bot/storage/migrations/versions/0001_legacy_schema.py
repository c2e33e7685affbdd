"""The schema before Alembic: each domain's frozen steps, applied as secbot always did.

A file made by an earlier secbot has applied some prefix of each domain's list (its
``schema_migrations`` rows say which); this applies the rest, in the same order, and
records each in ``schema_migrations`` exactly as before, so nothing already there is
touched or lost. A new file gets every step. The whole upgrade runs in one transaction
(``bot.storage.schema.upgrade``): a crash half-way leaves the file as it was.

On PostgreSQL (where no database predates Alembic) the frozen SQL, which is SQLite's
own, is not replayed: the same tables are made from a Core snapshot of the schema as of
this revision (``snapshot_0001.py``), and the later revisions apply as usual.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations import ForwardOnly, snapshot_0001
from bot.storage.migrations.legacy import LEGACY

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# As it was (a lightweight table, not today's declaration: a revision never changes).
schema_migrations = sa.table(
    "schema_migrations", sa.column("domain"), sa.column("version"), sa.column("applied_at")
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        # No file from before Alembic can exist here: the same schema, made at once.
        snapshot_0001.create()
        return
    for domain, steps in LEGACY.items():
        done: set[int] = set(
            bind.execute(
                sa.select(schema_migrations.c.version).where(schema_migrations.c.domain == domain)
            ).scalars()
        )
        for version, sql in enumerate(steps, start=1):
            if version in done:
                continue
            for statement in (s.strip() for s in sql.split(";")):
                if statement:
                    bind.exec_driver_sql(statement)
            bind.execute(
                schema_migrations.insert().values(
                    domain=domain, version=version, applied_at=datetime.now(UTC).isoformat()
                )
            )


def downgrade() -> None:
    raise ForwardOnly
