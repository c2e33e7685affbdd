"""The posture's counting rules on their own (the end-to-end tests are in
tests/test_posture.py): what makes recovery contacts personal, team names folded across
the register and the incidents, and no "untrained" figures when training is not loaded."""

from __future__ import annotations

from datetime import UTC, datetime

from incidents.posture.figures import recovery_problem, tally
from incidents.posture.metrics import MAX_TEAMS, OTHER, team_rows
from incidents.register.model import Account, Details, Person
from incidents.reviews.trained import TrainedCheck, Untrained
from incidents.store.summary import LastDrill, OpenCount

AT = datetime(2026, 12, 4, 11, 0, tzinfo=UTC)


def account(n: int, team: str, **details) -> Account:
    d = Details(platform="x", handle=f"@a{n}", team=team, **details)
    return Account(n, "web:local", d, AT, AT)


def test_recovery_contacts_held_outside_the_organisation_are_personal():
    assert recovery_problem(Details("x", "@a", recovery_email="me@gmail.com",
                                    recovery_shared=True)) == "personal email address"  # fmt: skip
    assert recovery_problem(Details("x", "@a", recovery_phone="+44 7700 900123")) == (
        "held by one person"
    )
    assert recovery_problem(Details("x", "@a", recovery_email="press@dept.gov.uk",
                                    recovery_shared=True)) is None  # fmt: skip
    assert recovery_problem(Details("x", "@a")) is None  # nothing recorded: nothing to flag


def test_teams_are_folded_and_training_off_counts_nobody_untrained():
    accounts = [
        account(1, "Press office", two_factor="sms"),
        account(2, "press  OFFICE", two_factor="passkey"),
    ]
    off = TrainedCheck(2, [Untrained("Ann", ["X @a1"])], training_on=False)
    posture = tally(
        AT, accounts, [], off,
        [OpenCount("web:local", "PRESS OFFICE", False, 2)], [],
        [LastDrill("web:local", "Press Office", AT)],
    )  # fmt: skip
    (team,) = posture.teams
    assert (team.name, team.accounts, len(team.weak_2fa)) == ("Press office", 2, 1)
    assert team.open_incidents == 2 and team.last_drill == AT
    assert posture.untrained == 0 and team.untrained == [] and not posture.training_on


def test_metric_labels_are_bounded():
    accounts = [account(n, f"Team {n}", owner=Person("x")) for n in range(MAX_TEAMS + 5)]
    posture = tally(AT, accounts, [], TrainedCheck(0, [], True), [], [], [])
    rows = team_rows(posture)
    assert len(rows) == MAX_TEAMS + 1
    assert rows[OTHER].values["secbot_posture_accounts"] == 5
