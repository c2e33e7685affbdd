"""The tables of team self-assessments (revision 0013): one assessment per team at a
time (``assessments``: a partial UNIQUE index allows one unfinished per tenant and
team) and one answer per question per assessment (``assessment_answers``, keyed by
both: a double click or a retried delivery writes the same row, and changing an answer
before finishing replaces it)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, Table, Text

from bot.storage.sql import UtcDateTime, metadata

assessments = Table(
    "assessments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tenant", Text, nullable=False),
    Column("team", Text, nullable=False),  # the team's key: its name, lower case
    Column("team_name", Text, nullable=False),  # as typed or as the teams file has it
    Column("place", Text, nullable=False),  # JSON Place it was started from
    Column("started_at", UtcDateTime, nullable=False),
    Column("started_by", Text, nullable=False),  # platform:id
    Column("started_by_name", Text, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("finished_by", Text),
    Column("finished_by_name", Text),
    Column("finish_key", Text),  # the delivery that finished it: a replay sends the report
    Index("assessments_team", "tenant", "team", "finished_at"),
)

# One unfinished assessment per tenant and team: an index over the unfinished rows only.
_OPEN = assessments.c.finished_at.is_(None)
Index(
    "assessments_open",
    assessments.c.tenant,
    assessments.c.team,
    unique=True,
    sqlite_where=_OPEN,
    postgresql_where=_OPEN,
)

assessment_answers = Table(
    "assessment_answers",
    metadata,
    Column("assessment_id", Integer, ForeignKey("assessments.id"), primary_key=True),
    Column("question_id", Text, primary_key=True),
    Column("answer_id", Text, nullable=False),
    Column("answered_at", UtcDateTime, nullable=False),
    Column("answered_by", Text, nullable=False),  # platform:id
    Column("answered_by_name", Text, nullable=False),
)
