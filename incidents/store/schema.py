"""The incidents tables."""

# The schema is Alembic's: bot/storage/migrations/ (this domain's steps from before are
# frozen in bot/storage/migrations/legacy.py; a change is a new revision).
