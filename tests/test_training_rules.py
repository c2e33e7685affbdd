"""The rules under assigned training that need no chat: when reminders fall (working
days, bank holidays, GMT/BST), due dates people type, and the teams file's errors."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from content.training.feature import parse_due
from content.training.nudges import plan
from content.training.report import csv_cell
from content.training.teams import TeamsFileError, load_teams


def test_reminders_skip_weekends_and_bank_holidays_at_ten_london_time():
    # Due Tuesday 29 December 2026: the 25th, 28th (Boxing Day substitute) are holidays.
    marks = plan(date(2026, 12, 29), datetime(2026, 12, 1, tzinfo=UTC), hour=10, every=3, after=2)
    assert [(m.split(":")[1], at) for m, at in marks] == [
        ("before", datetime(2026, 12, 22, 10, 0, tzinfo=UTC)),  # 24th, 23rd, 22nd
        ("on", datetime(2026, 12, 29, 10, 0, tzinfo=UTC)),
        ("after-1", datetime(2026, 12, 30, 10, 0, tzinfo=UTC)),
        ("after-2", datetime(2027, 1, 5, 10, 0, tzinfo=UTC)),  # New Year's Day skipped
    ]


def test_a_due_date_on_a_weekend_is_reminded_the_friday_before_and_in_summer_time():
    marks = dict(plan(date(2026, 6, 7), datetime(2026, 6, 1, tzinfo=UTC), hour=10, every=3,
                      after=0))  # fmt: skip
    assert marks["2026-06-07:on"] == datetime(2026, 6, 5, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert marks["2026-06-07:before"] == datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


def test_reminders_already_past_are_not_scheduled():
    marks = plan(date(2026, 12, 2), datetime(2026, 12, 1, 12, 0, tzinfo=UTC), hour=10, every=3,
                 after=1)  # fmt: skip
    assert [m for m, _ in marks] == ["2026-12-02:on", "2026-12-02:after-1"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-18", date(2026, 12, 18)),
        ("18/12/2026", date(2026, 12, 18)),
        ("18 December 2026", date(2026, 12, 18)),
        ("18 dec 2026", date(2026, 12, 18)),
        ("next friday", "isn't a date I understand"),
        ("2026-02-30", "isn't a date I understand"),
        ("2026-11-01", "has passed already"),
        ("2028-01-01", "more than a year away"),
    ],
)
def test_due_dates(typed, expected):
    got = parse_due(typed, date(2026, 12, 4))
    assert got == expected if isinstance(expected, date) else expected in got


def test_a_spreadsheet_never_runs_a_name_as_a_formula():
    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert csv_cell("Ann\u202eEditor") == "AnnEditor"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("teams: [", "is not valid YAML"),
        ("teams:\n  Social Media:\n    members: [web:a]\n", "use lower-case letters"),
        ("teams:\n  press:\n    members: [alice]\n", "is not a person"),
        ("teams:\n  press:\n    membres: [web:a]\n", "teams.press.membres"),
        ("teams:\n  a: {}\n  a: {}\n", "given twice"),
    ],
)
def test_a_wrong_teams_file_is_one_line_naming_the_problem(tmp_path, text, words):
    path = tmp_path / "teams.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TeamsFileError) as e:
        load_teams(path)
    assert words in str(e.value) and str(path) in str(e.value)


def test_the_example_teams_file_loads():
    teams = load_teams("docs/teams.example.yml")
    assert teams.led_by("web:press-lead") == ["press-office"]
    assert teams.name_in_file("slack:U0123BBBB") == "Sam Patel"
