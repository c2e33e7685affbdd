"""Triage rules, playbook selection, playbook lint and the report's timings, without chat."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from content.library.sources import today_utc
from incidents.playbook_lint import check, load_playbooks, main
from incidents.playbooks import PHASES, PlaybookError, playbook_files
from incidents.report import build_report, duration
from incidents.store import Event, Incident, StepState
from incidents.triage import Facts, StartArgs, assess, kind_for, parse_start, severity_for

# Checked today, so the lint's six-month warning never fires whatever day the tests run.
SOURCE = {
    "title": "NCSC: Recovering a hacked account",
    "url": "https://www.ncsc.gov.uk/x",
    "checked": today_utc(),
}


@pytest.mark.parametrize(
    ("symptoms", "access", "harmful", "expected"),
    [
        (["impersonation"], True, True, 1),  # harmful content live
        (["impersonation"], False, False, 1),  # access lost
        (["unknown-login", "impersonation"], True, False, 2),
        (["settings-changed"], True, False, 2),
        (["phished"], True, False, 2),
        (["impersonation"], True, False, 3),
        (["lost-device"], True, False, 3),
        (["rogue-posts"], True, False, 4),
        ([], True, False, 4),
    ],
)
def test_severity_follows_from_the_answers(symptoms, access, harmful, expected):
    assert severity_for(symptoms, access, harmful) == expected


@pytest.mark.parametrize(
    ("symptoms", "access", "harmful", "personal", "expected", "kind"),
    [
        (["impersonation"], "yes", "no", "no", 3, "impersonation"),  # a fake account only
        (["impersonation"], "yes", "unsure", "no", 2, "impersonation"),  # cautious, not 1
        (["impersonation"], "yes", "no", "unsure", 2, "impersonation"),
        (["impersonation"], "yes", "yes", "no", 1, "impersonation"),  # harmful spreading
        (["impersonation"], "unsure", "no", "no", 1, "hijack"),  # maybe locked out too
        (["rogue-posts"], "unsure", "no", "no", 1, "hijack"),  # unsure access = locked out
        (["rogue-posts"], "yes", "unsure", "no", 2, "hijack"),  # as a confirmed hijack
        (["rogue-posts"], "yes", "no", "yes", 2, "hijack"),  # personal data exposed
        (["unsure"], "yes", "no", "no", 2, "hijack"),  # not sure what is happening
        (["unsure"], "yes", "unsure", "unsure", 2, "hijack"),
        (["lost-device"], "yes", "no", "no", 3, "hijack"),
    ],
)
def test_not_sure_is_read_cautiously(symptoms, access, harmful, personal, expected, kind):
    assert assess(symptoms, access, harmful, personal) == expected
    assert kind_for(symptoms, access) == kind
    assert Facts.of("x", symptoms, access=access).kind == kind


def test_steps_follow_kind_and_every_answer(tmp_path):
    def step(sid, phase, when=None):
        out = {"id": sid, "phase": phase, "text": {"en": "Tell the team now."}, "source": SOURCE}
        return {**out, "when": when} if when else out

    steps = [
        step("tell-team", "first"),
        step("route", "first", {"access": ["no", "unsure"]}),
        step("hijack-only", "contain", {"kind": ["hijack"]}),
        step("report-fake", "recover", {"kind": ["impersonation"]}),
        step("dpo", "notify", {"personal_data": ["yes", "unsure"]}),
        step("harm", "contain", {"harmful": ["yes", "unsure"], "severity": [1, 2]}),
        step("lessons", "harden"),
    ]
    _write(tmp_path, "common.yml", {"platform": "common", "steps": steps})
    books, problems = check(sorted(tmp_path.glob("*.yml")))
    assert problems == [] and books is not None

    def ids(**kw):
        return [s.id for s in books.steps_for(Facts(**{"platform": "x", **kw}))]

    assert ids() == ["tell-team", "hijack-only", "lessons"]
    assert ids(kind="impersonation") == ["tell-team", "report-fake", "lessons"]
    assert ids(access="unsure", personal_data="unsure", harmful="unsure", severity=1) == [
        "tell-team", "route", "hijack-only", "harm", "dpo", "lessons"
    ]  # fmt: skip
    assert "harm" not in ids(harmful="unsure", severity=3)  # every key must match
    bad = [step("odd", "first", {"access": ["maybe"], "kind": ["hack"]})]
    _write(tmp_path, "common.yml", {"platform": "common", "steps": bad})
    assert check(sorted(tmp_path.glob("*.yml")))[0] is None


def test_start_arguments_in_any_order():
    assert parse_start("") == parse_start("   ")
    args = parse_start("x @govuk")
    assert (args.platform, args.handle, args.error) == ("x", "@govuk", None)
    args = parse_start('@dept_handle dept="Home Office" twitter')
    assert (args.platform, args.handle, args.department) == ("x", "@dept_handle", "Home Office")
    assert parse_start("dept=DfE").department == "DfE"
    assert parse_start("stauts").error and "didn't understand" in parse_start("stauts").error
    # Issue 15: everyday words start an incident with what can be read.
    args = parse_start("we've been hacked on Twitter, @dhsc. Help!")
    assert (args.platform, args.handle, args.error) == ("x", "@dhsc", None)
    assert args.words == "we've been hacked on Help!"
    assert parse_start("our facebook's page was taken over").platform == "facebook"
    assert parse_start("hacked") == StartArgs(words="hacked")
    assert parse_start("x @bad‮name").error


def test_registry_suggests_the_command_a_mistyped_word_meant():
    from bot.core.registry import Registry

    async def nothing(turn):
        return None

    registry = Registry()
    registry.add_command("help", "Help", nothing, aliases=("start",))
    registry.add_command("quiz", "Quiz", nothing)
    registry.add_command("compromised", "Report", nothing, related=("hacked",), slash=True)
    registry.add_command("deadletters", "Dead letters", nothing, hidden=True)
    meant = {w: getattr(registry.suggest(w), "name", None) for w in (
        "comprimised", "/compromise", "HACKED", "quizz", "hepl", "hello", "x", "", "deadleters"
    )}  # fmt: skip
    assert meant == {
        "comprimised": "compromised", "/compromise": "compromised", "HACKED": "compromised",
        "quizz": "quiz", "hepl": None, "hello": None, "x": None, "": None, "deadleters": None,
    }  # fmt: skip


def test_shipped_playbooks_pass_lint(capsys):
    playbooks, problems = check(playbook_files())
    # Errors only: a checked: date turns into a warning six months on, which is not a
    # failure (tests/test_playbook_content.py checks for no warnings on a fixed day).
    assert [p for p in problems if p.is_error] == [] and playbooks is not None
    assert main([]) == 0
    assert "0 problems" in capsys.readouterr().out
    assert {"x", "facebook", "instagram", "linkedin", "youtube", "tiktok", "threads"} <= set(
        playbooks.overlays
    )


def test_checklist_depends_on_platform_symptoms_severity_and_flags():
    books = load_playbooks()
    sev1 = books.steps_for("x", ["rogue-posts"], 1)
    ids = [s.id for s in sev1]
    assert [s.phase for s in sev1] == sorted((s.phase for s in sev1), key=PHASES.index)
    assert {"contain-password", "contain-sessions", "contain-email", "contain-2fa"} <= set(ids)
    assert {"contain-admins", "contain-scheduled", "evidence-capture", "notify-siro"} <= set(ids)
    assert "x-connected-apps" in ids  # an overlay's own step
    assert "recover-route" not in ids  # we can still log in: no recovery route
    locked = books.steps_for(Facts.of("x", ["rogue-posts"], 1, access="no"))
    route = next(s for s in locked if s.id == "recover-route")  # overlay replaces common
    assert route.link == "https://help.x.com/en/safety-and-security/x-account-compromised"
    assert "notify-report-fraud" not in ids
    sev3 = [s.id for s in books.steps_for("other", ["impersonation"], 3, ["fraud"])]
    assert "notify-siro" not in sev3 and "notify-ncsc" not in sev3
    assert {"recover-impersonation", "notify-report-fraud"} <= set(sev3)
    other = books.steps_for(Facts.of("other", [], 4, access="unsure"))
    general = next(s for s in other if s.id == "recover-route")  # no overlay: general advice
    assert general.link and "ncsc.gov.uk" in general.link
    insta = books.steps_for(Facts.of("instagram", [], 4, access="unsure"))
    # Instagram's own route, now sourced from Instagram's announcement of the address.
    route = next(s for s in insta if s.id == "recover-route")
    assert route != general and route.link == "https://www.instagram.com/hacked"


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_lint_reports_every_problem_with_file_and_step(tmp_path):
    good = {"id": "ok-step", "phase": "contain", "text": {"en": "Change the password."}}
    steps = [
        {**good, "source": SOURCE},
        {**good, "source": SOURCE},  # duplicate id
        {
            "id": "Bad_ID",
            "phase": "contain",
            "text": {"en": "Organize the analyze of the color. Turn on two-step sign-in."},
            "link": "http://example.com",
            "source": {"title": "", "url": "ftp://x"},
            "when": {"symptoms": ["sneezing"], "severity": [7], "flags": ["odd"]},
        },
        {
            "id": "hard-words",
            "phase": "contain",
            "text": {
                "en": "Institutional authentication reconfiguration necessitates "
                "comprehensive organisational documentation verification procedures."
            },
            "source": SOURCE,
        },
    ]
    _write(tmp_path, "common.yml", {"platform": "common", "steps": steps})
    _write(
        tmp_path,
        "myspace.yml",
        {"platform": "myspace", "steps": [{**good, "phase": "dance", "source": SOURCE}]},
    )
    playbooks, problems = check(sorted(tmp_path.glob("*.yml")))
    assert playbooks is None
    rules = {(p.rule, p.id) for p in problems}
    assert ("unique-id", "ok-step") in rules
    assert {("id-format", "Bad_ID"), ("link", "Bad_ID"), ("source", "Bad_ID")} <= rules
    assert ("uk-spelling", "Bad_ID") in rules and ("when", "Bad_ID") in rules
    assert ("glossary", "Bad_ID") in rules  # "two-step": the house term is 2FA
    assert ("reading-ease", "hard-words") in rules
    assert ("schema", "ok-step") in rules  # the invalid phase
    assert all(p.path.endswith(".yml") for p in problems)
    assert sum(p.rule == "when" for p in problems) == 3


def test_bad_playbooks_refuse_start_up(tmp_path, monkeypatch):
    import incidents.playbooks as playbooks_module
    from app import create_app
    from bot.settings import ConfigError, load_settings

    _write(tmp_path, "common.yml", {"platform": "common", "steps": [{"id": "x"}]})
    monkeypatch.setattr(playbooks_module, "PLAYBOOK_DIR", tmp_path)
    with pytest.raises(PlaybookError) as caught:
        load_playbooks()
    assert "common.yml" in caught.value.report and isinstance(caught.value, ConfigError)
    settings = load_settings({"SECBOT_DB": str(tmp_path / "db.sqlite")}, env_file=None)
    with pytest.raises(PlaybookError):
        create_app(settings, features=["incidents.feature"], content=False)


def _incident(**kw) -> Incident:
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    from bot.core.model import Place

    base = dict(
        id="SEC-2026-0001",
        drill=False,
        platform="x",
        account="@gov|uk",
        symptoms=("rogue-posts",),
        flags=(),
        has_access=True,
        harmful_live=True,
        severity=1,
        status="closed",
        triage_step="done",
        reporter="web:a",
        reporter_name="Alex",
        commander="web:a",
        commander_name="Alex",
        department=None,
        summary="Password reset; posts removed",
        origin=Place("web", "local", "general"),
        card_id="1",
        room=None,
        checklist_id=None,
        team="comms-security",
        acked_by="web:b",
        acked_by_name="Bo",
        created_at=t0,
        triaged_at=t0 + timedelta(minutes=2),
        acked_at=t0 + timedelta(minutes=5, seconds=30),
        contained_at=None,
        closed_at=t0 + timedelta(hours=2),
    )
    base.update(kw)
    return Incident(**base)  # type: ignore[arg-type]


def test_report_timings_skips_and_escaping():
    inc = _incident()
    t0 = inc.created_at

    def step(sid, phase, status, minutes, reason=None):
        return StepState(
            inc.id, sid, 0, phase, f"Do {sid}", None, status, "web:b", "Bo",
            t0 + timedelta(minutes=minutes), reason, None, None,
        )  # fmt: skip

    steps = [
        step("contain-a", "contain", "done", 10),
        step("contain-b", "contain", "skipped", 20, "Not relevant | really"),
        step("review-a", "review", "open", 0),
    ]
    events = [Event(t0, "web:a", "Alex", "start", "Reported")]
    md = build_report(inc, steps, events, [], inc.acked_at, ZoneInfo("Europe/London"))
    assert "# Post-incident report: SEC-2026-0001" in md
    assert "**Time to acknowledge** (from paging to the first acknowledgement): 3 min 30 s" in md
    assert "every contain step was done or skipped): 20 min" in md
    assert "**Time to close**: 2 h 0 min" in md
    assert "contain-b: Not relevant \\| really" in md
    assert "@gov\\|uk" in md  # user text cannot break the table
    assert "- [ ] Do review-a — not done" in md
    assert "## Pages sent\n\nNone." in md
    drill = build_report(_incident(drill=True), steps, events, [], None, ZoneInfo("Europe/London"))
    assert drill.startswith("# Drill report") and "**DRILL** — this was an exercise." in drill
    assert "Time to acknowledge** (from paging to the first acknowledgement): not reached" in drill
    assert duration(timedelta(hours=1, minutes=2)) == "1 h 2 min"


async def test_biggest_checklist_fits_one_slack_message():
    """Shown a phase at a time (issue 15), the biggest checklist fits one Slack message
    with at most 15 controls, whichever phase is open and however far it has got."""
    from bot.core.model import Actor, Place
    from bot.render.slack import render
    from bot.storage.db import open_db
    from bot.storage.schema import upgrade
    from incidents.checklist_phases import ORDER, in_order, phase_of
    from incidents.checklist_view import MAX_CONTROLS, checklist, controls, current_phase
    from incidents.store import IncidentStore
    from incidents.triage import SYMPTOM_LABELS

    store = IncidentStore(open_db(":memory:"))
    await upgrade(store.db)
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    actor = Actor("web", "a", "Alex")
    inc = await store.create(now, reporter=actor, origin=Place("web", "local", "c"), platform="x")
    for symptom in SYMPTOM_LABELS:
        await store.triage.set_symptom(inc.id, symptom, True)
    await store.triage.answer(inc.id, "symptoms", "access")
    await store.triage.answer(inc.id, "access", "harmful", has_access=0, access="no")
    await store.triage.answer(inc.id, "harmful", "personal", harmful_live=1, harmful="yes")
    facts = Facts.of("x", SYMPTOM_LABELS, 1, ["fraud"], access="no", harmful="yes",
                     personal_data="yes")  # fmt: skip
    steps = load_playbooks().steps_for(facts)
    assert len(steps) > 23  # more open steps than one message has room for buttons
    assert await store.triage.finish(inc.id, facts=facts, steps=steps, actor=actor, now=now,
                               said="Personal data exposed: Yes")  # fmt: skip
    assert not await store.triage.finish(inc.id, facts=facts, steps=steps, actor=actor, now=now,
                                   said="Personal data exposed: Yes")  # fmt: skip
    tz = ZoneInfo("Europe/London")
    for done in range(0, len(steps) + 1, 5):
        for s in steps[:done]:
            await store.steps.resolve(inc.id, s.id, "done", actor, now)
        inc = await store.get(inc.id)
        for chosen in (None, *ORDER):
            states = await store.steps.all(inc.id)
            msg = checklist(inc, states, tz, chosen)
            assert controls(msg) <= MAX_CONTROLS
            blocks = render(msg)["blocks"]
            assert len(blocks) <= 50
            text = json.dumps(blocks, ensure_ascii=False)
            phase = current_phase(states, chosen)
            in_phase = [s for s in in_order(states) if phase_of(s.phase) == phase]
            # The open phase's next steps are shown; any more are counted, not lost.
            assert all(s.text[:30] in text for s in [s for s in in_phase if s.is_open][:8])
            hidden = [s for s in in_phase if s.text[:30] not in text]
            assert not hidden or "more steps in this phase" in text or "earlier steps" in text
    assert await store.advance_status(inc.id, now) == "monitoring"  # contain and recover all done
