"""The shipped playbooks put steps in a safe order, and the playbook lint holds them to it.

Without chat: the checklist a given set of triage facts gets, and the lint's rules on
links, `checked:` dates and the "First 15 minutes" limit (issue 15, item 4).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from content.library.sources import today_utc
from incidents.playbook_lint import check, load_playbooks, main
from incidents.playbooks import FIRST_LIMIT, playbook_files
from incidents.triage import Facts

TODAY = date(2026, 12, 4)
SOURCE = {
    "title": "NCSC: Recovering a hacked account",
    "url": "https://www.ncsc.gov.uk/guidance/recovering-a-hacked-account",
    "checked": TODAY,
}
LINK = "https://help.x.com/en/safety-and-security/x-account-compromised"
# Each platform's own steps link a page on the platform's own site (X still answers on
# its old help address; Threads' help lives with Instagram's).
PLATFORM_HOSTS = {
    "x": {"help.x.com", "help.twitter.com"},
    "facebook": {"www.facebook.com"},
    "instagram": {"www.instagram.com", "help.instagram.com"},
    "threads": {"www.instagram.com", "help.instagram.com"},
    "linkedin": {"www.linkedin.com"},
    "youtube": {"support.google.com"},
    "tiktok": {"support.tiktok.com"},
}
INSTAGRAM_HACKED = "https://www.instagram.com/hacked"


@pytest.fixture(scope="module")
def books():
    return load_playbooks()


def ids(books, phase: str | None = None, **facts) -> list[str]:
    facts.setdefault("platform", "x")
    facts["symptoms"] = frozenset(facts.get("symptoms", ()))
    facts["flags"] = frozenset(facts.get("flags", ()))
    return [s.id for s in books.steps_for(Facts(**facts)) if phase in (None, s.phase)]


def test_locked_out_x_hijack_starts_with_the_recovery_route_then_a_safe_order(books):
    facts = {"access": "no", "symptoms": ["locked-out", "rogue-posts"], "severity": 1}
    first = ids(books, "first", **facts)
    assert first == [
        "recover-route",
        "notify-security-team",
        "contain-scheduled",
        "evidence-capture",
    ]
    steps = {s.id: s for s in books.steps_for(Facts.of("x", **facts))}
    assert steps["recover-route"].link == LINK  # X's own page, not general advice
    assert "press office" in steps["notify-security-team"].text.en
    assert "platform's own scheduler" in steps["contain-scheduled"].text.en
    every = ids(books, **facts)
    # Evidence before anything is revoked or deleted.
    for revoke in ("contain-sessions", "contain-admins", "x-connected-apps", "recover-undo"):
        assert every.index("evidence-capture") < every.index(revoke)
    # The device, then the linked email, before the platform password.
    assert (
        every.index("contain-devices")
        < every.index("contain-email")
        < every.index("contain-password")
    )
    # The holding line is agreed with the press office before it is posted.
    assert every.index("communicate-press-office") < every.index("communicate-holding-line")
    assert "recover-no-payment" in every and "recover-new-account" in every
    # With access, the route is not in the first 15 minutes at all.
    assert "recover-route" not in ids(books, **{**facts, "access": "yes"})
    assert ids(books, "first", **{**facts, "access": "unsure"})[0] == "recover-route"


def test_impersonation_gets_its_own_path_and_no_hijack_steps(books):
    every = ids(books, kind="impersonation", symptoms=["impersonation"], severity=3)
    first = ids(books, "first", kind="impersonation", symptoms=["impersonation"], severity=3)
    assert first == ["notify-security-team", "evidence-fake-account", "recover-impersonation"]
    assert {"recover-takedown", "communicate-press-office", "communicate-real-account"} <= set(
        every
    )
    hijack_only = {
        "contain-password", "contain-email", "contain-sessions", "contain-scheduled",
        "evidence-capture", "communicate-holding-line", "recover-no-payment", "review-access",
    }  # fmt: skip
    assert not hijack_only & set(every)
    assert every.index("communicate-press-office") < every.index("communicate-real-account")
    # A hijack never gets the impersonation path.
    assert not {"recover-takedown", "recover-impersonation"} & set(ids(books, kind="hijack"))


@pytest.mark.parametrize("answer", ["yes", "unsure"])
def test_personal_data_brings_the_dpo_and_the_ico_72_hours(books, answer):
    steps = books.steps_for(Facts("facebook", personal_data=answer, severity=2))
    first = [s for s in steps if s.phase == "first"]
    dpo = next(s for s in first if s.id == "notify-dpo")
    assert "data protection officer" in dpo.text.en and "72 hours" in dpo.text.en
    ico = next(s for s in steps if s.id == "notify-ico")
    assert ico.phase == "notify" and "ICO" in ico.text.en
    none = ids(books, platform="facebook", personal_data="no", severity=2)
    assert "notify-dpo" not in none and "notify-ico" not in none


def test_every_shipped_step_is_linked_dated_and_platform_steps_link_the_platform(books):
    overlays = books.overlays
    assert {"x", "facebook", "instagram", "linkedin", "youtube", "tiktok", "threads"} <= set(
        overlays
    )
    for step in books.common.steps:
        assert step.link and step.source.checked, step.id
    assert set(PLATFORM_HOSTS) == set(overlays)
    for platform, hosts in PLATFORM_HOSTS.items():
        assert overlays[platform].steps, platform
        for step in overlays[platform].steps:
            assert step.link and urlparse(step.link).netloc in hosts, (platform, step.id)
            assert step.source.checked
    fraud = next(s for s in books.common.steps if s.id == "notify-report-fraud")
    assert urlparse(fraud.link).netloc == "reportfraud.police.uk"
    assert "Report Fraud" in fraud.text.en and "replaced Action Fraud" in fraud.text.en
    assert "NCSC" in next(s for s in books.common.steps if s.id == "notify-ncsc").text.en
    assert "security team" in next(s for s in books.common.steps if s.id == "notify-ncsc").text.en


@pytest.mark.parametrize("platform", sorted(PLATFORM_HOSTS))
def test_every_platform_reports_a_fake_account_through_its_own_pages(books, platform):
    """Impersonation: the first steps name the platform's own way to report a fake account,
    replacing the common step's general advice, on every platform with a playbook."""
    facts = Facts.of(platform, kind="impersonation", symptoms=["impersonation"], severity=3)
    first = [s for s in books.steps_for(facts) if s.phase == "first"]
    assert [s.id for s in first] == [
        "notify-security-team",
        "evidence-fake-account",
        "recover-impersonation",
    ]
    report = first[-1]
    assert report in books.overlays[platform].steps  # the platform's own, not the common one
    assert urlparse(report.link).netloc in PLATFORM_HOSTS[platform]
    assert report.source.checked and report.source.url.startswith("https://")
    assert "reference number" in report.text.en


def test_instagram_locked_out_goes_to_instagram_hacked_and_is_honest_about_the_email(books):
    facts = Facts.of("instagram", access="no", symptoms=["locked-out"], severity=1)
    route = books.steps_for(facts)[0]
    assert (route.id, route.phase, route.link) == ("recover-route", "first", INSTAGRAM_HACKED)
    assert "about.instagram.com" in route.source.url  # Instagram's own word for the address
    text = route.text.en
    # The "revert this change" email is only in news reports: said so, and the reader is
    # sent to instagram.com/hacked rather than told to trust a link in an email.
    assert "undo" in text and "could not confirm" in text
    assert "not a link in an email" in text and "Never pay" in text


def test_threads_is_recovered_through_its_instagram_account(books):
    facts = Facts.of("threads", access="unsure", symptoms=["locked-out"], severity=2)
    steps = books.steps_for(facts)
    route = steps[0]
    assert (route.id, route.link) == ("recover-route", INSTAGRAM_HACKED)
    assert "Instagram account back first" in route.text.en
    assert "could not check" in route.text.en  # Threads' own steps: not sourced, said so
    order = [s.id for s in steps]
    email = next(s for s in steps if s.id == "contain-email")
    assert "Instagram account linked to your Threads profile" in email.text.en
    assert order.index("contain-devices") < order.index("contain-email")
    assert order.index("contain-email") < order.index("contain-password")


def test_unsourced_forms_send_people_to_the_help_centre_not_a_guessed_address(books):
    """Where no official page for the form was found, the step says so and links the
    platform's help centre itself (a bare front page), never a made-up deep link."""
    for platform in ("facebook", "instagram", "threads"):
        step = next(s for s in books.overlays[platform].steps if s.id == "recover-impersonation")
        assert "could not check" in step.text.en and "Help Centre yourself" in step.text.en
        assert urlparse(step.link).path in ("/", "/help"), (platform, step.link)


def test_shipped_playbooks_have_no_lint_problems_on_the_day_they_were_checked(capsys):
    books, problems = check(playbook_files(), today=TODAY)
    assert problems == [] and books is not None
    assert main([], today=TODAY) == 0
    assert "0 problems" in capsys.readouterr().out


# --- the lint's rules, on small playbooks written for each test ----------------------


def step(sid: str, phase: str = "contain", text: str = "Tell the team now.", **more) -> dict:
    return {"id": sid, "phase": phase, "text": {"en": text}, "source": SOURCE, **more}


def write(tmp_path: Path, common: list[dict], **overlays: list[dict]) -> list[Path]:
    tmp_path.mkdir(exist_ok=True)
    files = {"common": common, **overlays}
    for platform, steps in files.items():
        data = {"platform": platform, "steps": steps}
        (tmp_path / f"{platform}.yml").write_text(yaml.safe_dump(data, sort_keys=False))
    return sorted(tmp_path.glob("*.yml"))


def test_an_old_checked_date_is_a_warning_not_a_failure(tmp_path, capsys):
    old = {**SOURCE, "checked": date(2026, 5, 1)}
    paths = write(tmp_path, [step("tell-team"), {**step("old-page"), "source": old}])
    books, problems = check(paths, today=TODAY)
    assert books is not None  # still loads: a person should look, the bot still starts
    (warning,) = problems
    assert (warning.rule, warning.id, warning.is_error) == ("source-checked", "old-page", False)
    assert "more than 6 months" in warning.message
    only_old = write(tmp_path / "old", [{**step("old-page"), "source": old}])
    assert check(only_old, today=date(2026, 11, 1))[1] == []  # six months to the day: fine
    assert main([str(p) for p in paths], today=TODAY) == 0
    out = capsys.readouterr().out
    assert "old-page" in out and "warning" in out
    future = {**SOURCE, "checked": date(2027, 1, 1)}
    paths = write(tmp_path, [{**step("typo"), "source": future}])
    assert check(paths, today=TODAY)[0] is None  # a date in the future is a typo


def test_a_platform_step_without_a_link_fails(tmp_path, capsys):
    paths = write(
        tmp_path,
        [
            step("tell-team"),  # people only: no link needed
            step("route", text="Use the platform's own recovery route."),  # no link: fails
            step("route-linked", text="Use the platform's own form.", link=LINK),
            step("named", text="Check the Facebook Page admins."),  # names a platform
        ],
        x=[step("x-apps", text="Revoke apps you do not know."), step("x-ok", link=LINK)],
    )
    books, problems = check(paths, today=TODAY)
    assert books is None
    missing = {(Path(p.path).name, p.id) for p in problems if p.rule == "link-missing"}
    assert missing == {("common.yml", "route"), ("common.yml", "named"), ("x.yml", "x-apps")}
    assert all(p.is_error for p in problems)
    assert main([str(p) for p in paths], today=TODAY) == 1
    assert "link-missing" in capsys.readouterr().out


def test_more_than_five_first_steps_for_any_facts_fails(tmp_path):
    first = [step(f"first-{n}", "first") for n in range(FIRST_LIMIT - 2)]
    exclusive = [  # never together: hijack or impersonation
        step("hijack-a", "first", when={"kind": ["hijack"]}),
        step("imp-a", "first", when={"kind": ["impersonation"]}),
        step("imp-b", "first", when={"kind": ["impersonation"]}),
    ]
    books, problems = check(write(tmp_path, first + exclusive), today=TODAY)
    assert problems == [] and books is not None  # at most five for any facts
    locked = step("route", "first", when={"access": ["no", "unsure"]})
    books, problems = check(write(tmp_path, first + exclusive + [locked]), today=TODAY)
    assert books is None
    (problem,) = problems
    assert problem.rule == "first-limit" and "6 steps" in problem.message
    assert "kind=impersonation" in problem.message and "access=no" in problem.message
    # An overlay's own first step counts too, for that platform only.
    extra = [step("x-first", "first", link=LINK)]
    books, problems = check(write(tmp_path, first + exclusive, x=extra), today=TODAY)
    assert [(p.rule, Path(p.path).name) for p in problems] == [("first-limit", "x.yml")]


def test_bare_yes_and_no_in_when_get_a_hint(tmp_path):
    path = tmp_path / "common.yml"
    path.write_text(
        "platform: common\nsteps:\n"
        "  - {id: a, phase: first, when: {access: [no]}, text: {en: Tell the team.},\n"
        "     source: {title: NCSC, url: 'https://www.ncsc.gov.uk/x', checked: 2026-12-04}}\n"
    )
    books, problems = check([path], today=TODAY)
    assert books is None and any("in quotes" in p.message for p in problems)


def test_the_clock_defaults_to_today_in_utc(tmp_path):
    fresh = {**SOURCE, "checked": today_utc()}
    books, problems = check(write(tmp_path, [{**step("fresh"), "source": fresh}]))
    assert books is not None and problems == []
