"""Loading: the shipped content, organisation packs (override, retire) and ContentError."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import content.library.loader as loader
from content.library.lint import count_problems, main
from content.library.loader import ContentError, ContentLibrary, builtin_files, check, load_library
from content.library.models import MODULES, PLATFORM_LABELS, PRINCIPLES, TOPICS
from content.library.rules import (
    MIN_ITEMS,
    MIN_PER_MODULE,
    MIN_PER_PRINCIPLE,
    MIN_SCENARIOS,
    MIN_TIPS,
)

# Checked today by the lint's own clock, so no fixture ever reads as stale.
SRC = (
    'source: {title: "NCSC", url: "https://www.ncsc.gov.uk/guidance/example", '
    f"checked: {datetime.now(UTC).date().isoformat()}}}"
)

BASE_QUIZ = f"""\
items:
  - id: q-base-001
    stem: {{en: "A message says your page will be deleted unless you log in by a link. What now?"}}
    options:
      - text: {{en: "Open the platform's own app and check your notifications"}}
        correct: true
      - text: {{en: "Click the link quickly so the account is not deleted"}}
      - text: {{en: "Reply to the message and ask if it is really genuine"}}
      - text: {{en: "Forward the message to the team so they can decide"}}
    explanation: {{en: "Scammers copy platform messages to steal logins. Check the app itself."}}
    module: accounts
    principle: trust-the-platform
    topics: [phishing, 2fa]
    difficulty: 1
    scenario: true
    {SRC}
  - id: q-base-002
    stem: {{en: "Your manager asks you to send the team password by text. Which reply is safest?"}}
    options:
      - text: {{en: "Offer to share it through the password manager"}}
        correct: true
      - text: {{en: "Send it by text but delete the message later"}}
      - text: {{en: "Read it out over the phone in the open office"}}
      - text: {{en: "Email it with the subject line left empty"}}
    explanation: {{en: "A password manager lets you share a login. No one sees the password."}}
    module: people
    principle: control-access
    topics: [shared-logins, password-manager]
    difficulty: 2
    {SRC}
"""

BASE_TIPS = f"""\
tips:
  - id: tip-base-001
    title: {{en: "Turn on 2FA"}}
    body: {{en: "2FA asks for a code as well as your password. It stops most takeovers."}}
    action: {{en: "Turn on 2FA for one account today."}}
    module: accounts
    principle: control-access
    topics: [2fa]
    {SRC}
"""

OVERRIDE = f"""\
items:
  - id: q-base-002
    stem: {{en: "Our press officer wants the main account login sent by text. What do you say?"}}
    options:
      - text: {{en: "Offer to add them in the password manager"}}
        correct: true
      - text: {{en: "Send it by text and then delete the text"}}
      - text: {{en: "Read it out to them on a quick phone call"}}
      - text: {{en: "Email it to them with no subject line"}}
    explanation: {{en: "Our policy is to share logins only through the password manager."}}
    module: policy
    principle: control-access
    topics: [shared-logins]
    difficulty: 2
    {SRC}
  - id: q-org-001
    stem: {{en: "Who signs off posts about a new policy in our department?"}}
    options:
      - text: {{en: "The head of digital and the policy lead"}}
        correct: true
      - text: {{en: "Whoever is on the social media rota"}}
      - text: {{en: "No sign-off, if the post uses approved lines"}}
      - text: {{en: "The press office intern, to save time"}}
    explanation: {{en: "Policy posts need sign-off from both the digital and policy leads."}}
    module: policy
    principle: content-approval
    topics: [approval]
    difficulty: 1
    {SRC}
"""


@pytest.fixture
def fake_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Swap the shipped content for a tiny known set, so merge tests don't depend on it."""
    base = tmp_path / "builtin"
    base.mkdir()
    (base / "quiz.yml").write_text(BASE_QUIZ)
    (base / "tips.yml").write_text(BASE_TIPS)
    monkeypatch.setattr(loader, "builtin_files", lambda: sorted(base.glob("*.yml")))
    return base


def org_dir(tmp_path: Path, **files: str) -> Path:
    org = tmp_path / "org"
    for name, text in files.items():
        path = org / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return org


# --- loading with packs ------------------------------------------------------------


def test_loads_builtin_fixture(fake_builtin: Path) -> None:
    library = load_library()
    assert list(library.quiz_items) == ["q-base-001", "q-base-002"]
    assert library.item("q-base-001").options[0].correct
    assert library.item("q-base-001").correct_index == 0
    assert library.tip("tip-base-001").action.en == "Turn on 2FA for one account today."
    assert library.item("q-missing") is None and library.tip("tip-missing") is None


def test_pack_overrides_and_adds(fake_builtin: Path, tmp_path: Path) -> None:
    before = load_library()
    library = load_library(org_dir(tmp_path, **{"nested/ours.yml": OVERRIDE}))
    assert set(library.quiz_items) == {"q-base-001", "q-base-002", "q-org-001"}
    assert library.item("q-base-002").module == "policy"
    assert library.item("q-base-002").stem.en.startswith("Our press officer")
    assert library.version != before.version


def test_pack_retires_with_just_id(fake_builtin: Path, tmp_path: Path) -> None:
    retire = (
        "items:\n  - {id: q-base-001, enabled: false}\n"
        "tips:\n  - id: tip-base-001\n    enabled: false\n"
    )
    library = load_library(org_dir(tmp_path, **{"retire.yml": retire}))
    assert list(library.quiz_items) == ["q-base-002"]
    assert library.tips == {}
    assert library.items_for_tag("phishing") == []


def test_retiring_an_unknown_id_is_a_problem(fake_builtin: Path, tmp_path: Path) -> None:
    org = org_dir(tmp_path, **{"retire.yml": "items:\n  - {id: q-base-999, enabled: false}\n"})
    with pytest.raises(ContentError) as caught:
        load_library(org)
    assert caught.value.report == (
        f"{org / 'retire.yml'}:2: [unknown-id] q-base-999: "
        "enabled: false retires nothing: no built-in item has this id"
    )


def test_pack_cannot_repeat_its_own_id(fake_builtin: Path, tmp_path: Path) -> None:
    org = org_dir(tmp_path, **{"a.yml": OVERRIDE, "b.yml": OVERRIDE})
    with pytest.raises(ContentError) as caught:
        load_library(org)
    rules = [p.rule for p in caught.value.problems]
    assert rules == ["unique-id", "unique-id"]
    assert "b.yml:2: [unique-id] q-base-002: id already used at" in caught.value.report


def test_failing_pack_raises_with_full_report(fake_builtin: Path, tmp_path: Path) -> None:
    bad = OVERRIDE.replace("topics: [approval]", "topics: [aproval]").replace(
        "Who signs off", "Who should authorize"
    )
    org = org_dir(tmp_path, **{"bad.yml": bad})
    with pytest.raises(ContentError) as caught:
        load_library(org)
    report = caught.value.report.splitlines()
    lines = bad.splitlines()
    topic_line = lines.index("    topics: [aproval]") + 1
    stem_line = next(n for n, text in enumerate(lines, 1) if "authorize" in text)
    path = org / "bad.yml"
    assert report == [
        f"{path}:{stem_line}: [uk-spelling] q-org-001: stem uses US spelling 'authorize'; "
        "write 'authorise'",
        f"{path}:{topic_line}: [topic] q-org-001: unknown topic 'aproval'; did you mean "
        "'approval'? (see the list in content/FORMAT.md)",
    ]
    assert "2 content problem(s)" in str(caught.value)


def test_pack_with_yaml_error(fake_builtin: Path, tmp_path: Path) -> None:
    org = org_dir(tmp_path, **{"bad.yml": "items:\n  - id: [unclosed\n"})
    with pytest.raises(ContentError) as caught:
        load_library(org)
    assert caught.value.problems[0].rule == "yaml"
    assert caught.value.report.startswith(f"{org / 'bad.yml'}:")


def test_missing_pack_dir(fake_builtin: Path, tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="does not exist"):
        load_library(tmp_path / "nowhere")


def test_tags_and_lookup(fake_builtin: Path) -> None:
    library = load_library()
    assert library.tags() == [
        "accounts",
        "people",
        "trust-the-platform",
        "control-access",
        "2fa",
        "password-manager",
        "phishing",
        "shared-logins",
    ]
    assert [i.id for i in library.items_for_tag("accounts")] == ["q-base-001"]
    assert [i.id for i in library.items_for_tag("Control-Access")] == ["q-base-002"]
    assert [i.id for i in library.items_for_tag("phishing")] == ["q-base-001"]
    assert library.items_for_tag("no-such-tag") == []
    assert [t.id for t in library.tips_for_tag("2fa")] == ["tip-base-001"]


def test_version_is_stable_and_short(fake_builtin: Path) -> None:
    first, second = load_library(), load_library()
    assert first.version == second.version
    assert len(first.version) == 12 and int(first.version, 16) >= 0


def test_cli_with_pack_reports_merge(fake_builtin: Path, tmp_path: Path, capsys) -> None:
    assert main([str(org_dir(tmp_path, **{"ours.yml": OVERRIDE}))]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("3 quiz items (modules: policy 2, accounts 1, people 0;")
    assert "1 added, 1 overridden, 0 retired; 0 problems" in last


# --- the shipped content -----------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> tuple[list, ContentLibrary]:
    checked = check(builtin_files())
    return checked.problems, checked.library()


def test_shipped_content_has_no_problems(shipped: tuple[list, ContentLibrary]) -> None:
    problems, _ = shipped
    assert builtin_files(), "no built-in content files found"
    assert problems == [], "\n".join(map(str, problems))


def test_shipped_content_meets_counts(shipped: tuple[list, ContentLibrary]) -> None:
    _, library = shipped
    counts = library.counts()
    assert counts.items >= MIN_ITEMS == 120
    assert counts.tips >= MIN_TIPS == 130
    assert counts.scenarios >= MIN_SCENARIOS == 20
    for module in MODULES:
        assert counts.per_module[module] >= MIN_PER_MODULE == 15, module
    for principle in PRINCIPLES:
        assert counts.per_principle[principle] >= MIN_PER_PRINCIPLE == 15, principle
    assert count_problems(library) == []


def test_shipped_content_tags(shipped: tuple[list, ContentLibrary]) -> None:
    _, library = shipped
    tags = library.tags()
    assert set(MODULES) | set(PRINCIPLES) <= set(tags)
    assert set(tags) - set(MODULES) - set(PRINCIPLES) <= TOPICS | set(PLATFORM_LABELS)
    for tag in tags:
        assert library.items_for_tag(tag), tag


def test_cli_on_shipped_content(capsys: pytest.CaptureFixture) -> None:
    code = main([])
    out = capsys.readouterr().out.splitlines()
    assert code == 0, "\n".join(out)
    assert out[-1].endswith(f"0 problems; content version {load_library().version}")


def test_secbot_content_lint_command_passes_on_shipped_content():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "lint"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 problems" in proc.stdout
