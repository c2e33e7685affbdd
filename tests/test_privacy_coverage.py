"""Export and erasure cover every table that holds a person (issue 18 item 6), and the
audit log can only grow (item 7).

The MetaData is searched for columns that look like a person (a user, actor, person,
voter, reporter, commander, author, assignee, anything ``*_by``, ``by_*`` or a name):
each must be covered by ``bot.privacy.coverage`` or listed there as not a person, with
the reason. A feature that adds such a table without covering it fails here.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from sqlalchemy import Column, MetaData, Table, Text

import bot.audit
from bot.audit.store import AuditLog
from bot.privacy.coverage import HELD, NOT_PEOPLE, NOT_PEOPLE_COLUMNS, Held
from bot.storage.sql import metadata
from tests.test_schema_matches import _import_everything

PERSON = re.compile(
    r"(^|_)(users?|actor|person|people|voter|reporter|commander|author|assignee|dpo|sender"
    r"|visible_to|member|owner|by)(_|$)|(^|_)name$"
)


def covered_columns(held: Held) -> set[str]:
    columns = {c for pair in held.people for c in pair if c}
    columns |= {*held.ids, *held.mentions, *held.names, *held.texts, *held.chat_targets}
    return columns | ({held.dm} if held.dm else set())


def uncovered(tables: MetaData) -> list[str]:
    """Person-like columns that neither the coverage nor NOT_PEOPLE names."""
    missing = []
    for table in tables.tables.values():
        held = HELD.get(table.name)
        mine = covered_columns(held) if held else set()
        for column in table.columns:
            if not PERSON.search(column.name) or column.name in NOT_PEOPLE_COLUMNS:
                continue
            if column.name not in mine and (table.name, column.name) not in NOT_PEOPLE:
                missing.append(f"{table.name}.{column.name}")
    return missing


def test_every_column_that_holds_a_person_is_covered():
    _import_everything()
    assert uncovered(metadata) == [], (
        "a table holds people that export and erasure don't cover: add it to "
        "bot/privacy/coverage.py (or NOT_PEOPLE, with the reason)"
    )


def test_the_check_catches_a_new_table_with_a_person_in_it():
    other = MetaData()
    Table("new_feature_things", other, Column("owner_key", Text), Column("colour", Text))
    Table("new_feature_votes", other, Column("user_key", Text), Column("created_by", Text))
    assert uncovered(other) == [
        "new_feature_things.owner_key",
        "new_feature_votes.user_key",
        "new_feature_votes.created_by",
    ]


def test_what_the_coverage_names_exists():
    """A renamed column must not quietly drop out of export and erasure. (A renamed
    table shows up in the test above: its new name is not covered. A table whose feature
    is not part of this secbot is skipped, as export and erasure skip it.)"""
    _import_everything()
    for name, held in HELD.items():
        if name not in metadata.tables:
            continue
        table = metadata.tables[name]
        for column in covered_columns(held) | ({held.only} if held.only else set()):
            assert column in table.c, f"{name}.{column} is covered but does not exist"
        assert held.erase in ("delete", "pseudonymise", "keep")
        if held.ids or held.dm or held.mentions:
            assert held.platform or held.any_platform, (
                f"{name}: bare ids need the platform they belong to"
            )


def test_the_audit_log_can_only_grow():
    """No update or delete in its store, and no method that could change an entry."""
    public = {n for n, _ in inspect.getmembers(AuditLog, inspect.isfunction) if n[0] != "_"}
    assert public == {"add", "page", "count", "all", "about"}
    folder = Path(bot.audit.__file__).parent
    for path in folder.glob("*.py"):
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(update|delete)\(", code), f"{path.name} changes entries"


def test_rows_pointing_at_rows_erasure_deletes_are_covered_and_go_first():
    """A row whose foreign key points at a row erasure deletes (with no ON DELETE) would
    make the whole erasure fail and roll back: its table must be covered, be deleted too,
    and come earlier in the list (as the xAPI outbox does, before the exam results)."""
    _import_everything()
    order = list(HELD)
    problems = []
    for table in metadata.tables.values():
        for fk in table.foreign_keys:
            target = HELD.get(fk.column.table.name)
            if target is None or target.erase != "delete" or fk.ondelete:
                continue
            mine = HELD.get(table.name)
            if mine is None or mine.erase != "delete":
                problems.append(f"{table.name} (not deleted with {target.table})")
            elif order.index(table.name) > order.index(target.table):
                problems.append(f"{table.name} (listed after {target.table})")
    assert problems == []
