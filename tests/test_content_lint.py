"""Each lint rule, caught on a small bad item written to tmp_path, with file and line."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from content.library.lint import lint_paths, main
from content.library.models import LocalText
from content.library.problems import Problem
from content.library.readability import reading_ease, sentences
from content.library.rules import Counts, check_counts
from content.library.spelling import us_spellings

TODAY = datetime.now(UTC).date()  # the lint's default clock; fixtures are checked "today"
SOURCE = {
    "title": "NCSC: Social media",
    "url": "https://www.ncsc.gov.uk/guidance/social-media",
    "checked": TODAY,
}


def quiz_item(item_id: str = "q-test-001", **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id,
        "stem": {
            "en": "A message says your account will be deleted unless you log in "
            "through a link. What should you do first?"
        },
        "options": [
            {
                "text": {"en": "Open the platform's own app and check your notifications"},
                "correct": True,
            },
            {"text": {"en": "Click the link quickly so the account is not deleted"}},
            {"text": {"en": "Reply to the message and ask if it is really genuine"}},
            {"text": {"en": "Forward the message to the team so they can decide"}},
        ],
        "explanation": {
            "en": "Scammers copy platform messages to steal logins. The real "
            "platform will show the same warning in its own app. If it is not "
            "there, the message is fake."
        },
        "module": "accounts",
        "principle": "trust-the-platform",
        "topics": ["phishing", "2fa"],
        "difficulty": 2,
        "scenario": True,
        "source": dict(SOURCE),
    }
    item.update(copy.deepcopy(changes))
    return item


def second_item(item_id: str = "q-test-002") -> dict[str, Any]:
    return quiz_item(
        item_id,
        stem={
            "en": "Your manager asks you to send the team password by text. Which reply is safest?"
        },
        options=[
            {"text": {"en": "Offer to share it through the password manager"}, "correct": True},
            {"text": {"en": "Send it by text but delete the message later"}},
            {"text": {"en": "Read it out over the phone in the open office"}},
            {"text": {"en": "Email it with the subject line left empty"}},
        ],
        topics=["shared-logins", "password-manager"],
        principle="control-access",
    )


def tip(tip_id: str = "tip-test-001", **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": tip_id,
        "title": {"en": "Turn on 2FA"},
        "body": {
            "en": "2FA asks for a code as well as your password. It stops most account "
            "takeovers. Turn it on for every account your team runs."
        },
        "action": {"en": "Turn on 2FA for one account today."},
        "module": "accounts",
        "principle": "control-access",
        "topics": ["2fa"],
        "source": dict(SOURCE),
    }
    entry.update(copy.deepcopy(changes))
    return entry


def write(
    tmp_path: Path,
    name: str,
    *,
    items: list | None = None,
    tips: list | None = None,
    text: str | None = None,
) -> Path:
    path = tmp_path / name
    if text is None:
        data: dict[str, Any] = {}
        if items is not None:
            data["items"] = items
        if tips is not None:
            data["tips"] = tips
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle`."""
    hits = [n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def only(problems: list[Problem], rule: str) -> Problem:
    """The single problem, which must be of `rule`: a bad fixture breaks exactly one rule."""
    assert [p.rule for p in problems] == [rule], "\n".join(map(str, problems))
    return problems[0]


def assert_located(problem: Problem, path: Path, line: int, item_id: str) -> None:
    assert problem.path.endswith(path.name)
    assert problem.line == line
    assert problem.id == item_id
    assert str(problem).startswith(f"{problem.path}:{line}: [{problem.rule}] {item_id}: ")


# --- the fixtures themselves are clean, so each bad variant tests one rule ---------


def test_good_fixtures_have_no_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pack.yml",
        items=[quiz_item(), second_item()],
        tips=[tip(), tip("tip-test-002", body={"en": "Logs show who posted what."})],
    )
    assert lint_paths([path]) == []


# --- ids ---------------------------------------------------------------------------


def test_badly_formed_id(tmp_path: Path) -> None:
    path = write(tmp_path, "ids.yml", items=[quiz_item("Q_Test 1")])
    problem = only(lint_paths([path]), "id-format")
    assert_located(problem, path, line_of(path, "id: Q_Test 1"), "Q_Test 1")
    assert "lowercase" in problem.message


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yml", items=[quiz_item("q-same")])
    second = write(tmp_path, "b.yml", items=[second_item("q-same")])
    problem = only(lint_paths([first, second]), "unique-id")
    assert_located(problem, second, line_of(second, "id: q-same"), "q-same")
    assert f"a.yml:{line_of(first, 'id: q-same')}" in problem.message


def test_duplicate_tip_id(tmp_path: Path) -> None:
    body = {"en": "Logs show who posted what."}
    path = write(tmp_path, "tips.yml", tips=[tip("tip-x"), tip("tip-x", body=body)])
    problem = only(lint_paths([path]), "unique-id")
    assert_located(problem, path, line_of(path, "id: tip-x", 2), "tip-x")


def test_quiz_and_tip_ids_are_separate_namespaces(tmp_path: Path) -> None:
    path = write(tmp_path, "both.yml", items=[quiz_item("shared-id")], tips=[tip("shared-id")])
    assert lint_paths([path]) == []


# --- options -----------------------------------------------------------------------


def test_three_options(tmp_path: Path) -> None:
    item = quiz_item()
    item["options"] = item["options"][:3]
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "four-options")
    assert_located(problem, path, line_of(path, "options:"), "q-test-001")
    assert "has 3 options" in problem.message


def test_repeated_option(tmp_path: Path) -> None:
    item = quiz_item()
    item["options"][3]["text"]["en"] = "click the link quickly so the account is not deleted."
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "unique-options")
    assert_located(problem, path, line_of(path, "click the link quickly"), "q-test-001")
    assert "option 4 repeats option 2" in problem.message


@pytest.mark.parametrize(
    "correct_flags", [(False, False, False, False), (True, True, False, False)]
)
def test_not_exactly_one_correct(tmp_path: Path, correct_flags: tuple[bool, ...]) -> None:
    item = quiz_item()
    for option, flag in zip(item["options"], correct_flags, strict=True):
        option["correct"] = flag
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "one-correct")
    assert_located(problem, path, line_of(path, "options:"), "q-test-001")
    assert f"has {sum(correct_flags)} options marked correct" in problem.message


@pytest.mark.parametrize(
    "wording", ["All of the above, in that order", "None of the above is safe"]
)
def test_all_or_none_of_the_above(tmp_path: Path, wording: str) -> None:
    item = quiz_item()
    item["options"][2]["text"]["en"] = wording + " for this account"
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "above-option")
    assert_located(problem, path, line_of(path, wording), "q-test-001")
    assert "option 3" in problem.message


@pytest.mark.parametrize("distractor", ["Click it", "Click the link " * 10])
def test_distractor_length(tmp_path: Path, distractor: str) -> None:
    item = quiz_item()
    item["options"][1]["text"]["en"] = distractor.strip()
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "distractor-length")
    assert_located(problem, path, line_of(path, distractor.strip()[:20]), "q-test-001")
    assert f"option 2 is {len(distractor.strip())} characters" in problem.message


def test_distractor_length_bounds_are_inclusive(tmp_path: Path) -> None:
    item = quiz_item()
    item["options"][0]["text"]["en"] = "x" * 40
    item["options"][1]["text"]["en"] = "a" * 20  # exactly 50%
    item["options"][2]["text"]["en"] = "b" * 80  # exactly 200%
    item["options"][3]["text"]["en"] = "c" * 19  # just under 50%
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "distractor-length")
    assert "option 4 is 19 characters" in problem.message


# --- near duplicates ---------------------------------------------------------------


def test_near_duplicate_stem(tmp_path: Path) -> None:
    reworded = quiz_item("q-test-009")
    reworded["stem"]["en"] = reworded["stem"]["en"].replace(
        "What should you do first?", "What do you do first?"
    )
    path = write(tmp_path, "q.yml", items=[quiz_item(), second_item(), reworded])
    problem = only(lint_paths([path]), "near-duplicate")
    assert_located(problem, path, line_of(path, "stem:", 3), "q-test-009")
    assert "too close to q-test-001" in problem.message


def test_near_duplicate_tip_body(tmp_path: Path) -> None:
    copy_body = {
        "en": "2FA asks for a code as well as your password. It stops most account "
        "takeovers! Turn it on for every account that your team runs."
    }
    path = write(tmp_path, "t.yml", tips=[tip(), tip("tip-test-002", body=copy_body)])
    problem = only(lint_paths([path]), "near-duplicate")
    assert_located(problem, path, line_of(path, "body:", 2), "tip-test-002")
    assert "too close to tip-test-001" in problem.message


def test_near_duplicate_with_sentences_reordered(tmp_path: Path) -> None:
    reordered = tip(
        "tip-test-002",
        body={
            "en": "Turn it on for every account your team runs. 2FA asks for a code as well "
            "as your password, and it stops most account takeovers."
        },
    )
    path = write(tmp_path, "t.yml", tips=[tip(), reordered])
    problem = only(lint_paths([path]), "near-duplicate")
    assert problem.id == "tip-test-002" and "too close to tip-test-001" in problem.message


def test_near_duplicate_same_scenario_new_question(tmp_path: Path) -> None:
    again = quiz_item("q-test-009")
    again["stem"]["en"] = again["stem"]["en"].replace(
        "What should you do first?", "What is the safest first step?"
    )
    path = write(tmp_path, "q.yml", items=[quiz_item(), second_item(), again])
    problem = only(lint_paths([path]), "near-duplicate")
    assert problem.id == "q-test-009"


def test_a_short_text_inside_a_longer_one_is_not_a_near_duplicate(tmp_path: Path) -> None:
    """token_set_ratio alone scores 100 here: every word of the short one is in the long one."""
    short = tip("tip-test-002", body={"en": "Turn on 2FA for every account your team runs."})
    path = write(tmp_path, "t.yml", tips=[tip(), short])
    assert lint_paths([path]) == []
    from rapidfuzz import fuzz, utils

    from content.library.rules import similarity

    a, b = (utils.default_process(t["body"]["en"]) for t in (tip(), short))
    assert fuzz.token_set_ratio(a, b) == 100 and similarity(a, b) < 90


def test_near_duplicate_check_matches_pairwise_similarity() -> None:
    """The fast candidate search finds exactly the pairs that similarity() flags."""
    from rapidfuzz import utils

    from content.library.entry import Entry
    from content.library.models import Tip
    from content.library.rules import NEAR_DUPLICATE_SCORE, check_near_duplicates, similarity

    bodies = [
        "Turn on 2FA for every account your team runs.",
        "Turn on 2FA for every account that your team runs!",
        "Check who can post from your accounts each month.",
        "Each month, check who can post from your accounts.",
        "Who approves a post?",
        "Who approves a post about a visit before it goes out on the main account?",
        "Keep the recovery codes for each account somewhere safe and offline.",
    ]
    models = [Tip.model_validate(tip(f"tip-{n}", body={"en": b})) for n, b in enumerate(bodies)]
    entries = [Entry("tip", m.id, "x.yml", n, {}, m) for n, m in enumerate(models)]
    texts = [utils.default_process(b) for b in bodies]
    expected = {
        f"tip-{j}"
        for j in range(len(texts))
        if any(similarity(texts[i], texts[j]) >= NEAR_DUPLICATE_SCORE for i in range(j))
    }
    flagged = {p.id for p in check_near_duplicates(entries, "body", lambda e: e.model.body.en)}
    assert flagged == expected == {"tip-1", "tip-3"}


# --- plain English -----------------------------------------------------------------


def test_hard_explanation(tmp_path: Path) -> None:
    hard = (
        "Comprehensive organisational authentication infrastructure necessitates "
        "continuous institutional evaluation."
    )
    path = write(tmp_path, "q.yml", items=[quiz_item(explanation={"en": hard})])
    problem = only(lint_paths([path]), "reading-ease")
    assert_located(problem, path, line_of(path, "explanation:"), "q-test-001")
    assert "explanation has Flesch reading ease" in problem.message


def test_hard_tip_action(tmp_path: Path) -> None:
    hard = "Systematically reinvestigate organisational authentication configurations."
    path = write(tmp_path, "t.yml", tips=[tip(action={"en": hard})])
    problem = only(lint_paths([path]), "reading-ease")
    assert_located(problem, path, line_of(path, "action:"), "tip-test-001")
    assert problem.message.startswith("action has")


def test_long_sentence(tmp_path: Path) -> None:
    long = (
        "If you get a message that says your page will be shut down, do not use the link in "
        "it, but go to the app and look at the alerts page to see if it is real. It is fake."
    )
    assert len(sentences(long)[0].split()) == 37
    path = write(tmp_path, "t.yml", tips=[tip(body={"en": long})])
    problem = only(lint_paths([path]), "sentence-length")
    assert_located(problem, path, line_of(path, "body:"), "tip-test-001")
    assert "37-word sentence (at most 30)" in problem.message


def test_sentences_do_not_split_on_abbreviations() -> None:
    assert sentences("Use a manager, e.g. the one IT gives you. Then stop.") == [
        "Use a manager, e.g. the one IT gives you.",
        "Then stop.",
    ]
    assert reading_ease("Turn on 2FA for one account today.") >= 50


def test_reading_ease_does_not_load_nltk() -> None:
    """textstat imports NLTK only for CMUdict, which we never use: it loads on first use."""
    import subprocess
    import sys

    code = (
        "import sys, content.library.readability as r\n"
        "assert r.reading_ease('Turn on 2FA for one account today.') > 50\n"
        "assert 'nltk.data' not in sys.modules, 'NLTK was loaded'\n"
        "import nltk\n"
        "assert nltk.data.find and 'nltk.data' in sys.modules\n"
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


# --- UK spelling -------------------------------------------------------------------


def test_us_spelling_in_stem(tmp_path: Path) -> None:
    item = quiz_item()
    item["stem"]["en"] = item["stem"]["en"].replace("A message", "A message to your Organization")
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "uk-spelling")
    assert_located(problem, path, line_of(path, "stem:"), "q-test-001")
    assert "'Organization'" in problem.message and "'organisation'" in problem.message


def test_us_spelling_in_option_points_at_the_option(tmp_path: Path) -> None:
    item = quiz_item()
    item["options"][3]["text"]["en"] = "Forward it to the team to prioritize a decision"
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "uk-spelling")
    assert_located(problem, path, line_of(path, "prioritize"), "q-test-001")
    assert problem.message.startswith("option 4 uses US spelling 'prioritize'")


def test_spelling_list() -> None:
    found = us_spellings(
        "Color, behavior, center, defense, analyzed, traveled and "
        "enrollment. Organisation, recognise, programme and licence are fine: "
        "https://example.com/organization"
    )
    assert [us for us, _ in found] == [
        "Color",
        "behavior",
        "center",
        "defense",
        "analyzed",
        "traveled",
        "enrollment",
    ]
    assert found[4] == ("analyzed", "analysed")


# --- sources, tips, topics ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ({"title": "NCSC", "url": "http://www.ncsc.gov.uk/guidance/x"}, "url:"),
        ({"title": "NCSC", "url": "www.ncsc.gov.uk"}, "url:"),
        ({"title": "  ", "url": "https://www.ncsc.gov.uk/guidance/x"}, "title:"),
        ({"title": "NCSC", "url": "https://www.ncsc.gov.uk/"}, "url:"),
        ({"title": "NCSC", "url": "https://www.ncsc.gov.uk"}, "url:"),
    ],
)
def test_source(tmp_path: Path, source: dict[str, Any], needle: str) -> None:
    source = {**source, "checked": TODAY}
    path = write(tmp_path, "q.yml", items=[quiz_item(source=source)])
    problem = only(lint_paths([path]), "source")
    assert_located(problem, path, line_of(path, needle), "q-test-001")


def test_tip_body_too_long(tmp_path: Path) -> None:
    body = "Turn on 2FA for every account. " * 10
    path = write(tmp_path, "t.yml", tips=[tip(body={"en": body.strip()})])
    problem = only(lint_paths([path]), "tip-length")
    assert_located(problem, path, line_of(path, "body:"), "tip-test-001")
    assert f"body is {len(body.strip())} characters" in problem.message


def test_unknown_topic(tmp_path: Path) -> None:
    path = write(tmp_path, "q.yml", items=[quiz_item(topics=["phishing", "two-fa"])])
    problem = only(lint_paths([path]), "topic")
    assert_located(problem, path, line_of(path, "topics:"), "q-test-001")
    assert "unknown topic 'two-fa'" in problem.message


# --- schema errors are problems with lines, not tracebacks -------------------------


def test_missing_field(tmp_path: Path) -> None:
    item = quiz_item()
    del item["explanation"]
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "schema")
    assert_located(problem, path, line_of(path, "id: q-test-001"), "q-test-001")
    assert problem.message == "missing field 'explanation'"


def test_wrong_type_points_at_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "q.yml", items=[quiz_item(difficulty="hard")])
    problem = only(lint_paths([path]), "schema")
    assert_located(problem, path, line_of(path, "difficulty:"), "q-test-001")
    assert "difficulty" in problem.message


def test_bad_enum_and_misspelt_key(tmp_path: Path) -> None:
    item = quiz_item(module="governance")
    item["explaination"] = item.pop("explanation")
    path = write(tmp_path, "q.yml", items=[item])
    problems = lint_paths([path])
    assert {p.rule for p in problems} == {"schema"}
    messages = {p.line: p.message for p in problems}
    assert "unknown field 'explaination'" in messages[line_of(path, "explaination:")]
    assert "module" in messages[line_of(path, "module:")]
    assert any(m == "missing field 'explanation'" for m in messages.values())


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yml", text="items:\n  - id: q-x\n    stem: {en: 'open\n")
    problem = only(lint_paths([path]), "yaml")
    assert problem.path.endswith("broken.yml") and problem.line is not None


def test_duplicate_key(tmp_path: Path) -> None:
    good = yaml.safe_dump({"tips": [tip()]}, sort_keys=False, width=1000)
    text = good.replace("  action:", "  action: {en: Do it now.}\n  action:", 1)
    path = write(tmp_path, "t.yml", text=text)
    problem = only(lint_paths([path]), "yaml")
    assert problem.line == line_of(path, "action:", 2)
    assert "duplicate key 'action'" in problem.message


def test_wrong_top_level(tmp_path: Path) -> None:
    path = write(tmp_path, "t.yml", text="questions:\n  - id: q-1\n")
    problem = only(lint_paths([path]), "schema")
    assert "'items:' or 'tips:'" in problem.message


# --- counts and the CLI ------------------------------------------------------------


def test_counts_name_every_shortfall() -> None:
    counts = Counts(items=120, scenarios=19, tips=130)
    counts.per_module.update({"policy": 40, "accounts": 40, "people": 14})
    counts.per_principle.update(
        {
            "trust-the-platform": 24,
            "control-access": 24,
            "content-approval": 24,
            "track-actions": 24,
            "recovery-plan": 24,
        }
    )
    problems = check_counts(counts)
    assert [(p.rule, p.id) for p in problems] == [("counts", "scenarios"), ("counts", "people")]
    assert problems[1].message == "14 quiz items; at least 15 needed"


def test_org_pack_alone_is_not_held_to_counts(tmp_path: Path) -> None:
    path = write(tmp_path, "q.yml", items=[quiz_item()])
    assert lint_paths([tmp_path]) == lint_paths([path]) == []


def test_cli_reports_problems_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = write(tmp_path, "org.yml", items=[quiz_item("q-org-001", topics=["nope"])])
    assert main([str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(f"org.yml:{line_of(path, 'topics:')}: [topic] q-org-001:" in line for line in out)
    assert "problems; content version" in out[-1]
    assert "1 added, 0 overridden, 0 retired" in out[-1]


def test_cli_rejects_missing_dir(tmp_path: Path) -> None:
    assert main([str(tmp_path / "nowhere")]) == 2


def test_local_text_falls_back_to_english() -> None:
    text = LocalText(en="Hello")
    assert text.text("cy") == "Hello" and text.en == "Hello"
    assert LocalText(en="Hello", cy="Helo").text("cy") == "Helo"


# --- fair questions ----------------------------------------------------------------


def with_options(texts: list[str], correct: int = 0, **changes: Any) -> dict[str, Any]:
    options = [
        {"text": {"en": t}, **({"correct": True} if i == correct else {})}
        for i, t in enumerate(texts)
    ]
    return quiz_item(options=options, **changes)


def test_absolute_word_in_a_distractor_but_not_the_key(tmp_path: Path) -> None:
    item = with_options(
        [
            "Open the platform's own app and check your notifications",
            "Click the link quickly so the account is not deleted",
            "Always reply to the message and ask if it is genuine",
            "Forward the message to the team so they can decide",
        ]
    )
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "absolute-words")
    assert_located(problem, path, line_of(path, "Always reply"), "q-test-001")
    assert "option 3 says 'always'" in problem.message


def test_absolute_words_true_in_key_and_distractors_alike_pass(tmp_path: Path) -> None:
    item = with_options(
        [
            "Sign out of all devices and apps, then turn on 2FA",
            "Sign out of the app on your phone and leave the rest",
            "Leave all sessions open so you can watch the attacker",
            "Post a message saying the account is safe again now",
        ]
    )
    assert lint_paths([write(tmp_path, "q.yml", items=[item])]) == []


def test_option_spread(tmp_path: Path) -> None:
    # Each wrong answer is within 50-200% of the key, but the longest is over 2.5 times
    # the shortest, so length still hints at something.
    item = with_options(
        [
            "Check the app's own notifications page",  # 38
            "Click the link in it",  # 20
            "Reply to the message and ask whether it is real and then wait",  # 61
            "Forward it to your team",  # 23
        ]
    )
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "option-spread")
    assert_located(problem, path, line_of(path, "Reply to the message"), "q-test-001")
    assert "option 3 is 61 characters but option 2 is 20" in problem.message


STEM_WORDS = (
    "kettle river jigsaw lantern meadow copper violin harbour pepper saddle orchard "
    "beacon walnut thistle pebble canvas falcon marble nutmeg ribbon quarry tundra"
).split()


def module_items(count: int, key_longest: int) -> list[dict[str, Any]]:
    """``count`` accounts items, the key being the longest option in ``key_longest``."""
    items = []
    for n in range(count):
        word = STEM_WORDS[n]
        stem = f"The {word} team gets an odd login alert about {word} work. What first?"
        key = (
            "Open the platform's own app and check your alerts there"
            if n < key_longest
            else "Open the platform's app and check the alerts"
        )
        items.append(
            with_options(
                [
                    key,
                    "Click the link quickly so the account stays open",
                    "Reply to the message and ask if it is genuine",
                    "Forward the message to the team to decide",
                ],
                item_id=f"q-test-{n:03d}",
                stem={"en": stem},
            )
        )
    return items


def key_longest_problems(tmp_path: Path, items: list[dict[str, Any]]) -> list[Problem]:
    path = write(tmp_path, "q.yml", items=items)
    return [p for p in lint_paths([path]) if p.rule == "key-longest"]


def test_key_longest_over_30_percent_of_a_module_fails(tmp_path: Path) -> None:
    [problem] = key_longest_problems(tmp_path, module_items(20, 7))
    assert problem.id == "accounts"
    assert "accounts 7/20 (35%)" in problem.message
    assert "q-test-000" in problem.message and "q-test-007" not in problem.message


def test_key_longest_at_30_percent_passes(tmp_path: Path) -> None:
    assert key_longest_problems(tmp_path, module_items(20, 6)) == []


def test_key_longest_not_judged_on_a_small_module(tmp_path: Path) -> None:
    assert key_longest_problems(tmp_path, module_items(19, 19)) == []


def test_key_longest_share_is_reported_by_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("correct answer is the longest"))
    assert "policy " in line and "accounts " in line and "people " in line


@pytest.mark.parametrize(
    ("wording", "variant"),
    [
        ("Turn on two-step verification for it.", "two-step"),
        ("Turn on 2-step verification for it.", "2-step"),
        ("Turn on two factor authentication.", "two factor"),
        ("Use a 2-factor check for it.", "2-factor"),
        ("Use a two-factor login for it.", "two-factor login"),
        ("Turn on MFA for it.", "MFA"),
        ("Turn on 2fa for it.", "2fa"),
        ("Set up a pass key for it.", "pass key"),
        ("Watch for phising messages.", "phising"),
        ("Check your Youtube channel.", "Youtube"),
        ("Check your Linkedin profile.", "Linkedin"),
        ("Check your Tik Tok account.", "Tik Tok"),
        ("Check your Whatsapp chats.", "Whatsapp"),
        ("Check your Twitter account.", "Twitter"),
        ("Open Account Centre in the app.", "Account Centre"),
    ],
)
def test_glossary_variant(tmp_path: Path, wording: str, variant: str) -> None:
    body = f"{wording} It stops most account takeovers. Do it for every account you run."
    path = write(tmp_path, "t.yml", tips=[tip(body={"en": body})])
    problem = only(lint_paths([path]), "glossary")
    assert_located(problem, path, line_of(path, "body:"), "tip-test-001")
    assert f"body says {variant!r}" in problem.message


@pytest.mark.parametrize(
    "wording",
    [
        "Turn on two-factor authentication (2FA) for it.",
        "Use phishing-resistant MFA, such as a passkey.",
        "Go to facebook.com/hacked or email report@phishing.gov.uk.",
        "Post on X, formerly Twitter, and on YouTube, LinkedIn and TikTok.",
        "Open Accounts Centre, then Password and security.",
    ],
)
def test_glossary_house_terms_pass(tmp_path: Path, wording: str) -> None:
    body = f"{wording} It stops most account takeovers. Do it for every account you run."
    assert lint_paths([write(tmp_path, "t.yml", tips=[tip(body={"en": body})])]) == []


def test_glossary_checks_options_too(tmp_path: Path) -> None:
    item = with_options(
        [
            "Open the platform's own app and check your notifications",
            "Click the link quickly so the Youtube channel is safe",
            "Reply to the message and ask if it is really genuine",
            "Forward the message to the team so they can decide",
        ]
    )
    path = write(tmp_path, "q.yml", items=[item])
    problem = only(lint_paths([path]), "glossary")
    assert_located(problem, path, line_of(path, "Youtube"), "q-test-001")


# --- sources: checked dates ----------------------------------------------------------


def test_source_without_checked_date_is_an_error_in_the_builtin_set(tmp_path: Path) -> None:
    source = {k: v for k, v in SOURCE.items() if k != "checked"}
    path = write(tmp_path, "q.yml", items=[quiz_item(source=source)])
    problem = only(lint_paths([path]), "source-checked")
    assert problem.is_error and "needs a checked: date" in problem.message


def test_source_without_checked_date_in_a_pack_only_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An organisation's pack written before the field existed still loads."""
    import content.library.loader as loader

    base = write(tmp_path, "base.yml", items=[quiz_item()])
    org = tmp_path / "org"
    org.mkdir()
    source = {k: v for k, v in SOURCE.items() if k != "checked"}
    write(org, "ours.yml", items=[second_item("q-org-001") | {"source": source}])
    monkeypatch.setattr(loader, "builtin_files", lambda: [base])
    library = loader.load_library(org)  # warnings don't stop start-up
    assert "q-org-001" in library.quiz_items
    [problem] = loader.check([base], [org / "ours.yml"]).problems
    assert (problem.rule, problem.severity) == ("source-checked", "warning")


def test_stale_checked_date_warns_against_an_injected_today(tmp_path: Path) -> None:
    source = {**SOURCE, "checked": date(2026, 5, 31)}
    path = write(tmp_path, "q.yml", items=[quiz_item(source=source)])
    assert lint_paths([path], today=date(2026, 11, 30)) == []  # exactly six months
    problem = only(lint_paths([path], today=date(2026, 12, 1)), "source-checked")
    assert problem.severity == "warning"
    assert "last checked 2026-05-31, more than 6 months ago" in problem.message
    assert problem.line == line_of(path, "checked:") and problem.id == "q-test-001"
    assert str(problem).startswith(f"{problem.path}:{problem.line}: [source-checked] warning ")


def test_checked_date_in_the_future_is_an_error(tmp_path: Path) -> None:
    source = {**SOURCE, "checked": date(2027, 1, 2)}
    path = write(tmp_path, "q.yml", items=[quiz_item(source=source)])
    problem = only(lint_paths([path], today=date(2027, 1, 1)), "source-checked")
    assert problem.is_error and "in the future" in problem.message


def test_cli_passes_with_only_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The built-in content checked on 2026-12-04 is stale by mid-2027: a warning, exit 0."""
    assert main([], today=date(2027, 7, 1)) == 0
    out = capsys.readouterr().out
    assert "[source-checked] warning" in out
    assert "warnings (shown above; they don't fail the lint)" in out
    assert out.splitlines()[-1].endswith(" 0 problems; content version " + out.split()[-1])


# --- tips and quiz items share topics ------------------------------------------------


def test_tip_topic_without_an_item(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "both.yml",
        items=[second_item()],
        tips=[tip(topics=["2fa", "password-manager"])],
    )
    problem = only(lint_paths([path]), "tip-topic")
    assert_located(problem, path, line_of(path, "topics:", 2), "tip-test-001")
    assert "topic '2fa' has no enabled quiz item" in problem.message
