"""The editorial rules from content/FORMAT.md, one function per rule family.

Every rule returns Problems instead of raising, so a single lint run shows an author
everything that needs fixing at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rapidfuzz import fuzz, process, utils

from .entry import Entry
from .fairness import check_absolute_words, check_key_longest, check_option_spread
from .glossary import variants
from .models import MODULES, PRINCIPLES, TOPICS, LocalText, QuizItem, Source, Tip
from .problems import Problem
from .readability import MAX_SENTENCE_WORDS, MIN_READING_EASE, longest_sentence, reading_ease
from .sources import checked_problem, today_utc, url_problem
from .spelling import us_spellings

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ABOVE_RE = re.compile(r"\b(?:all|none)\s+of\s+the\s+above\b", re.IGNORECASE)
OPTION_COUNT = 4
DISTRACTOR_MIN_RATIO, DISTRACTOR_MAX_RATIO = 0.5, 2.0
NEAR_DUPLICATE_SCORE = 90
SIMILAR_LENGTH = 0.75
TIP_BODY_MAX = 300

MIN_ITEMS = 120
MIN_PER_MODULE = 15
MIN_PER_PRINCIPLE = 15
MIN_SCENARIOS = 20
MIN_TIPS = 130


# --- per-entry rules ---------------------------------------------------------------


def check_id(entry: Entry) -> list[Problem]:
    if ID_RE.match(entry.id):
        return []
    return [
        entry.problem("id-format", "id must be lowercase letters, digits and single hyphens", "id")
    ]


def check_quiz_item(entry: Entry, today: date | None = None) -> list[Problem]:
    item = entry.model
    assert isinstance(item, QuizItem)
    problems = check_id(entry)
    problems += _check_options(entry, item)
    if len(item.options) == OPTION_COUNT and sum(o.correct for o in item.options) == 1:
        problems += check_absolute_words(entry, item)
        if not any(p.rule == "distractor-length" for p in problems):  # say it once
            problems += check_option_spread(entry, item)
    problems += _check_plain_english(entry, "explanation", item.explanation)
    texts: list[tuple[str | tuple[str | int, ...], LocalText]] = [
        ("stem", item.stem),
        ("explanation", item.explanation),
    ]
    texts += [(_option_text(i), o.text) for i, o in enumerate(item.options)]
    problems += _check_spelling(entry, texts)
    problems += _check_glossary(entry, texts)
    problems += _check_source(entry, item.source, today)
    problems += _check_topics(entry, item.topics)
    return problems


def check_tip(entry: Entry, today: date | None = None) -> list[Problem]:
    tip = entry.model
    assert isinstance(tip, Tip)
    problems = check_id(entry)
    if len(tip.body.en) > TIP_BODY_MAX:
        problems.append(
            entry.problem(
                "tip-length",
                f"body is {len(tip.body.en)} characters; at most {TIP_BODY_MAX} allowed",
                "body",
            )
        )
    problems += _check_plain_english(entry, "body", tip.body)
    problems += _check_plain_english(entry, "action", tip.action)
    texts: list[tuple[str | tuple[str | int, ...], LocalText]] = [
        ("title", tip.title),
        ("body", tip.body),
        ("action", tip.action),
    ]
    problems += _check_spelling(entry, texts)
    problems += _check_glossary(entry, texts)
    problems += _check_source(entry, tip.source, today)
    problems += _check_topics(entry, tip.topics)
    return problems


def _option_text(index: int) -> tuple[str | int, ...]:
    """Location of an option's English text, so problems point at the wording itself."""
    return ("options", index, "text", "en")


def _norm(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".!?")


def _check_options(entry: Entry, item: QuizItem) -> list[Problem]:
    problems: list[Problem] = []
    options = item.options
    if len(options) != OPTION_COUNT:
        problems.append(
            entry.problem(
                "four-options",
                f"has {len(options)} options; exactly {OPTION_COUNT} are needed",
                "options",
            )
        )
    seen: dict[str, int] = {}
    for i, option in enumerate(options):
        key = _norm(option.text.en)
        if key in seen:
            problems.append(
                entry.problem(
                    "unique-options",
                    f"option {i + 1} repeats option {seen[key] + 1}: {option.text.en!r}",
                    *_option_text(i),
                )
            )
        seen.setdefault(key, i)
        if ABOVE_RE.search(option.text.en):
            problems.append(
                entry.problem(
                    "above-option",
                    f"option {i + 1} uses 'all/none of the above'; write a real answer",
                    *_option_text(i),
                )
            )
    correct = [i for i, option in enumerate(options) if option.correct]
    if len(correct) != 1:
        problems.append(
            entry.problem(
                "one-correct",
                f"has {len(correct)} options marked correct: true; exactly one is needed",
                "options",
            )
        )
        return problems
    right = len(options[correct[0]].text.en)
    low, high = DISTRACTOR_MIN_RATIO * right, DISTRACTOR_MAX_RATIO * right
    for i, option in enumerate(options):
        size = len(option.text.en)
        if i != correct[0] and not low <= size <= high:
            problems.append(
                entry.problem(
                    "distractor-length",
                    f"option {i + 1} is {size} characters but the correct answer is {right}; "
                    f"wrong answers must be {low:g}-{high:g} characters so length gives "
                    "nothing away",
                    *_option_text(i),
                )
            )
    return problems


def _check_plain_english(entry: Entry, field_name: str, text: LocalText) -> list[Problem]:
    problems: list[Problem] = []
    score = reading_ease(text.en)
    if score < MIN_READING_EASE:
        problems.append(
            entry.problem(
                "reading-ease",
                f"{field_name} has Flesch reading ease {score:.1f}; at least "
                f"{MIN_READING_EASE:g} needed (use shorter words and sentences)",
                field_name,
            )
        )
    words, sentence = longest_sentence(text.en)
    if words > MAX_SENTENCE_WORDS:
        start = " ".join(sentence.split()[:6])
        problems.append(
            entry.problem(
                "sentence-length",
                f"{field_name} has a {words}-word sentence (at most {MAX_SENTENCE_WORDS}): "
                f"{start!r}...",
                field_name,
            )
        )
    return problems


def _per_text(
    entry: Entry,
    texts: Sequence[tuple[str | tuple[str | int, ...], LocalText]],
    rule: str,
    find: Callable[[str], Iterable[tuple[str, str]]],
    say: Callable[[str, str, str], str],
) -> list[Problem]:
    """One problem for each pair ``find`` reports in a text, named by its field or option."""
    problems: list[Problem] = []
    for where, text in texts:
        keys = where if isinstance(where, tuple) else (where,)
        label = where if isinstance(where, str) else f"option {int(where[1]) + 1}"
        for found, instead in find(text.en):
            problems.append(entry.problem(rule, say(label, found, instead), *keys))
    return problems


def _check_spelling(
    entry: Entry, texts: Sequence[tuple[str | tuple[str | int, ...], LocalText]]
) -> list[Problem]:
    return _per_text(
        entry,
        texts,
        "uk-spelling",
        us_spellings,
        lambda label, us, uk: f"{label} uses US spelling {us!r}; write {uk!r}",
    )


def _check_glossary(
    entry: Entry, texts: Sequence[tuple[str | tuple[str | int, ...], LocalText]]
) -> list[Problem]:
    """House terms (content/library/glossary.py): one name for 2FA, platforms as they write it."""
    return _per_text(
        entry,
        texts,
        "glossary",
        variants,
        lambda label, variant, write: f"{label} says {variant!r}; write {write}",
    )


def _check_source(entry: Entry, source: Source, today: date | None = None) -> list[Problem]:
    problems: list[Problem] = []
    if not source.title.strip():
        problems.append(entry.problem("source", "source needs a title", "source", "title"))
    bad_url = url_problem(source.url)
    if bad_url:
        problems.append(entry.problem("source", bad_url, "source", "url"))
    dated = checked_problem(source, today or today_utc(), required=entry.builtin)
    if dated:
        severity, message = dated
        where = "checked" if source.checked is not None else "url"
        problems.append(
            entry.problem("source-checked", message, "source", where, severity=severity)
        )
    return problems


def _check_topics(entry: Entry, topics: list[str]) -> list[Problem]:
    problems: list[Problem] = []
    for topic in topics:
        if topic in TOPICS:
            continue
        guess = process.extractOne(topic, sorted(TOPICS), scorer=fuzz.ratio)
        hint = f"; did you mean {guess[0]!r}?" if guess and guess[1] >= 60 else ""
        problems.append(
            entry.problem(
                "topic",
                f"unknown topic {topic!r}{hint} (see the list in content/FORMAT.md)",
                "topics",
            )
        )
    return problems


# --- rules across entries ----------------------------------------------------------


def _similar_length(words_a: int, words_b: int) -> bool:
    shorter, longer = sorted((words_a, words_b))
    return longer > 0 and shorter / longer >= SIMILAR_LENGTH


def similarity(a: str, b: str) -> float:
    """How alike two texts are (0-100), for texts already put through ``utils.default_process``.

    ``token_set_ratio`` sees through reordering and small edits, but scores 100 whenever
    one text's words are a subset of the other's ("Who approves a post?" against a long
    question about approving a post). So it counts only between texts of similar length
    (the shorter has at least ``SIMILAR_LENGTH`` of the longer's words); otherwise
    ``token_sort_ratio``, which compares the whole of both texts, decides.
    """
    score = fuzz.token_sort_ratio(a, b)
    if _similar_length(len(a.split()), len(b.split())):
        score = max(score, fuzz.token_set_ratio(a, b))
    return score


def check_near_duplicates(
    entries: Sequence[Entry], what: str, get_text: Callable[[Entry], str]
) -> list[Problem]:
    """Flag the later of any two texts that are the same question or tip reworded.

    Same result as scoring every pair with :func:`similarity`, but rapidfuzz's C loop
    finds the candidates, because lint runs at every start-up.
    """
    problems: list[Problem] = []
    texts = [utils.default_process(get_text(e)) for e in entries]
    words = [len(text.split()) for text in texts]
    # token_sort_ratio(a, b) is ratio() of the texts with their words sorted.
    sorted_texts = [" ".join(sorted(text.split())) for text in texts]
    cutoff: dict[str, Any] = {
        "processor": None,
        "score_cutoff": NEAR_DUPLICATE_SCORE,
        "limit": None,
    }
    for j in range(1, len(entries)):
        found = process.extract(sorted_texts[j], sorted_texts[:j], scorer=fuzz.ratio, **cutoff)
        candidates = {i for _, _, i in found}
        alike = [i for i in range(j) if _similar_length(words[i], words[j])]
        found = process.extract(
            texts[j], [texts[i] for i in alike], scorer=fuzz.token_set_ratio, **cutoff
        )
        candidates |= {alike[k] for _, _, k in found}
        if candidates:
            other = entries[min(candidates)]
            score = similarity(texts[min(candidates)], texts[j])
            problems.append(
                entries[j].problem(
                    "near-duplicate",
                    f"{what} is too close to {other.id} ({other.where}), "
                    f"similarity {score:.0f} (limit {NEAR_DUPLICATE_SCORE})",
                    what,
                )
            )
    return problems


def check_tip_topics(quiz: Sequence[Entry], tips: Sequence[Entry]) -> list[Problem]:
    """Every topic a tip names has at least one live quiz item, so "Quiz me on this"
    under the tip always has a question on the tip's own topic."""
    if not quiz:
        return []  # a file of tips linted on its own: its items live elsewhere
    covered: set[str] = set()
    for entry in quiz:
        if isinstance(entry.model, QuizItem) and entry.model.enabled:
            covered |= set(entry.model.topics)
    problems: list[Problem] = []
    for entry in tips:
        if not isinstance(entry.model, Tip):
            continue
        for topic in entry.model.topics:
            if topic in TOPICS and topic not in covered:
                problems.append(
                    entry.problem(
                        "tip-topic",
                        f"topic {topic!r} has no enabled quiz item, so 'Quiz me on this' "
                        "would have nothing to ask; add an item or change the tip's topics",
                        "topics",
                    )
                )
    return problems


def check_content(
    quiz: Sequence[Entry], tips: Sequence[Entry], today: date | None = None
) -> list[Problem]:
    """All editorial rules over entries whose models already passed schema checks.

    ``today`` is the date the staleness of `checked:` dates is judged against (UTC today
    by default; tests pass their own)."""
    today = today or today_utc()
    problems: list[Problem] = []
    for entry in quiz:
        problems += check_quiz_item(entry, today)
    for entry in tips:
        problems += check_tip(entry, today)
    problems += check_near_duplicates(quiz, "stem", _stem)
    problems += check_near_duplicates(tips, "body", _body)
    problems += check_key_longest(quiz)
    problems += check_tip_topics(quiz, tips)
    return problems


def _stem(entry: Entry) -> str:
    assert isinstance(entry.model, QuizItem)
    return entry.model.stem.en


def _body(entry: Entry) -> str:
    assert isinstance(entry.model, Tip)
    return entry.model.body.en


# --- counts ------------------------------------------------------------------------


@dataclass
class Counts:
    items: int = 0
    per_module: Counter[str] = field(default_factory=Counter)
    per_principle: Counter[str] = field(default_factory=Counter)
    scenarios: int = 0
    tips: int = 0

    def summary(self) -> str:
        modules = ", ".join(f"{m} {self.per_module[m]}" for m in MODULES)
        principles = ", ".join(f"{p} {self.per_principle[p]}" for p in PRINCIPLES)
        return (
            f"{self.items} quiz items (modules: {modules}; principles: {principles}), "
            f"{self.scenarios} scenarios, {self.tips} tips"
        )


def count(quiz_items: Iterable[QuizItem], tips: Iterable[Tip]) -> Counts:
    counts = Counts()
    for item in quiz_items:
        counts.items += 1
        counts.per_module[item.module] += 1
        counts.per_principle[item.principle] += 1
        counts.scenarios += item.scenario
    counts.tips = sum(1 for _ in tips)
    return counts


def check_counts(counts: Counts, where: str = "content") -> list[Problem]:
    """Minimums for the built-in set only: an organisation's pack may be any size."""
    wanted: list[tuple[str, int, int, str]] = [
        ("quiz", counts.items, MIN_ITEMS, "quiz items"),
        ("scenarios", counts.scenarios, MIN_SCENARIOS, "scenario: true quiz items"),
        ("tips", counts.tips, MIN_TIPS, "tips"),
    ]
    wanted += [(m, counts.per_module[m], MIN_PER_MODULE, "quiz items") for m in MODULES]
    wanted += [(p, counts.per_principle[p], MIN_PER_PRINCIPLE, "quiz items") for p in PRINCIPLES]
    return [
        Problem(where, None, "counts", name, f"{have} {noun}; at least {need} needed")
        for name, have, need, noun in wanted
        if have < need
    ]
