"""The self-assessment's rules without a platform: scoring (worst rating wins, with
counts), the questions file's lint, the protective marking setting, and the report's
escaping and links."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings
from content.assessment import report as rendering
from content.assessment import report_html
from content.assessment.scoring import overall, score, worst
from content.library import lint
from content.library.assessment import ASSESSMENT_FILE, check_questionnaire
from tests.assessment_support import QUESTIONS, anchors_resolve

AT = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)


def rated(rating: str) -> dict[str, str]:
    """Every question answered with its first answer of ``rating`` (else its first)."""
    return {
        q.id: next((a.id for a in q.answers if a.rating == rating), q.answers[0].id)
        for q in QUESTIONS.questions
    }


def test_worst_rating_wins():
    assert worst(["green", "amber", "green"]) == "amber"
    assert worst(["amber", "red", "green"]) == "red"
    assert worst([]) == "green"


def test_a_principle_takes_its_worst_answer_and_counts_each_rating():
    answers = rated("green")
    control = [q for q in QUESTIONS.questions if q.principle == "control-access"]
    answers[control[0].id] = next(a.id for a in control[0].answers if a.rating == "amber")
    answers[control[1].id] = next(a.id for a in control[1].answers if a.rating == "red")
    del answers[control[2].id]  # not answered: counts as red
    answers["a-question-since-removed"] = "yes"  # ignored
    scores = {s.principle: s for s in score(QUESTIONS, answers)}
    assert list(scores) == ["trust-the-platform", "control-access", "content-approval",
                            "track-actions", "recovery-plan"]  # fmt: skip
    assert scores["control-access"].rating == "red"
    assert scores["control-access"].counts == {
        "green": len(control) - 3, "amber": 1, "red": 1, "unanswered": 1,
    }  # fmt: skip
    assert {s.rating for p, s in scores.items() if p != "control-access"} == {"green"}
    assert overall(list(scores.values())) == "red"
    assert overall(score(QUESTIONS, rated("green"))) == "green"
    assert overall(score(QUESTIONS, rated("amber"))) == "amber"


def test_the_built_in_questions_pass_the_lint_and_cover_every_principle(content_library):
    problems = check_questionnaire(set(content_library.tips), set(content_library.quiz_items))
    assert problems == []
    assert 15 <= len(QUESTIONS.questions) <= 25
    assert {q.principle for q in QUESTIONS.questions} == set(rendering.PRINCIPLE_NAMES)
    for q in QUESTIONS.questions:
        assert {a.rating for a in q.answers} >= {"green"}
        assert all((a.fix is None) == (a.rating == "green") for a in q.answers)


def test_the_lint_names_a_tip_or_question_that_does_not_exist(tmp_path: Path, content_library):
    text = ASSESSMENT_FILE.read_text(encoding="utf-8")
    broken = text.replace("tips: [tip-003, tip-068]", "tips: [tip-003, tip-999]", 1)
    broken = broken.replace("quiz: [q-pol-005, q-acc-006]", "quiz: [q-nope-001]", 1)
    path = tmp_path / "assessment.yml"
    path.write_text(broken, encoding="utf-8")
    found = check_questionnaire(
        set(content_library.tips), set(content_library.quiz_items), path, builtin=False
    )
    messages = [(p.rule, p.id, p.message) for p in found]
    assert ("unknown-id", "tp-approved",
            "teaches tip 'tip-999', which doesn't exist (or is retired)") in messages  # fmt: skip
    assert any(r == "unknown-id" and "q-nope-001" in m for r, _, m in messages)
    assert all(p.line is not None and p.line > 1 for p in found)
    # An amber answer with no fix, and US spelling, are problems too.
    path.write_text(
        text.replace('        fix: {en: "List the platforms and tools nobody has approved and'
                     ' ask your security team to review them. Stop using any they turn down."}\n',
                     "", 1).replace("Choose tools that log", "Choose tools that analyze", 1),
        encoding="utf-8",
    )  # fmt: skip
    rules = {
        p.rule
        for p in check_questionnaire(
            set(content_library.tips), set(content_library.quiz_items), path, builtin=False
        )
    }
    assert {"fix", "uk-spelling"} <= rules


def test_make_lint_checks_the_questions(monkeypatch, capsys):
    """``secbot content lint`` (``make lint``) runs the questionnaire's checks too."""
    called = []
    real = lint.questionnaire_problems
    monkeypatch.setattr(lint, "questionnaire_problems",
                        lambda *a: called.append(a) or real(*a))  # fmt: skip
    assert lint.main([]) == 0
    assert called and "tip-003" in called[0][0] and "q-pol-005" in called[0][1]


@pytest.mark.parametrize(
    "marking", ["<b>OFFICIAL</b>", "OFFICIAL\nSENSITIVE", "x" * 61, "OFFICIAL\u202e"]
)
def test_a_protective_marking_must_be_one_short_plain_line(marking, tmp_path):
    with pytest.raises(ConfigError, match="SECBOT_PROTECTIVE_MARKING"):
        load_settings({"SECBOT_PROTECTIVE_MARKING": marking, "SECBOT_MODE": "development",
                       "SECBOT_DB": str(tmp_path / "x.db")}, env_file=None)  # fmt: skip


def test_the_marking_defaults_to_official(tmp_path):
    settings = load_settings({"SECBOT_MODE": "development", "SECBOT_DB": str(tmp_path / "x.db")},
                             env_file=None)  # fmt: skip
    assert settings.protective_marking == "OFFICIAL"
    custom = load_settings({"SECBOT_MODE": "development", "SECBOT_DB": str(tmp_path / "x.db"),
                            "SECBOT_PROTECTIVE_MARKING": "  OFFICIAL:   SENSITIVE "},
                           env_file=None)  # fmt: skip
    assert custom.protective_marking == "OFFICIAL: SENSITIVE"


def test_the_report_escapes_names_and_every_link_lands(content_library):
    hostile = '<img src=x onerror=alert(1)> "Ops" & *co*'
    built = rendering.build(
        marking="OFFICIAL",
        team=hostile,
        started=("Lee </td> Lead", AT),
        finished=("Ann \u202eEditor", AT),
        scores=score(QUESTIONS, rated("red")),
        library=content_library,
    )
    page = report_html.html_report(built, content_library)
    assert "<img" not in page and "</td> Lead" not in page and "\u202e" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; &quot;Ops&quot; &amp;" in page
    assert page.count('<p class="marking') == 2 and "Fri 4 Dec 2026, 15:30 GMT" in page
    links, ids = anchors_resolve(page)
    assert links <= ids
    fixes = {f"fix-{q.id}" for q in QUESTIONS.questions}
    assert fixes <= links  # every red answer links to its fix
    taught = {f"tip-{t}" if not t.startswith("tip-") else t
              for q in QUESTIONS.questions for t in q.teaches.tips}  # fmt: skip
    assert taught <= ids
    md = rendering.markdown(built, content_library)
    assert md.startswith("**OFFICIAL**") and md.rstrip().endswith("**OFFICIAL**")
    assert "\\<img src=x onerror=alert(1)\\>" in md and "\\*co\\*" in md
    for q in QUESTIONS.questions:
        for t in q.teaches.tips:
            assert f"### Tip {t}:" in md
