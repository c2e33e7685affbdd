"""The team self-assessment's questions (``content/data/assessment/*.yml``): their shape,
and the content lint's checks of them.

The questions are content, kept apart from the code that asks them
(``content/assessment``), so a content owner can reword one without a release. Each
question belongs to one of the NCSC's five principles, cites the page its fact comes
from, and names the tips and quiz questions that teach what it asks about; each answer
has a rating, and an amber or red answer says what to fix.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .glossary import variants
from .models import PRINCIPLES, LocalText, NonEmpty, Principle, Source
from .problems import ContentError, Problem, display_path, errors, yaml_problems
from .readability import MAX_SENTENCE_WORDS, MIN_READING_EASE, longest_sentence, reading_ease
from .sources import checked_problem, today_utc, url_problem
from .spelling import us_spellings
from .yamlio import line_at, read_yaml, strip_lines

__all__ = [
    "ASSESSMENT_FILE",
    "RATINGS",
    "Answer",
    "Question",
    "Questionnaire",
    "check_questionnaire",
    "load_questionnaire",
]

ASSESSMENT_FILE = (
    Path(__file__).resolve().parents[1] / "data" / "assessment" / ("ncsc-five-principles.yml")
)
Rating = Literal["green", "amber", "red"]
RATINGS: tuple[Rating, ...] = ("green", "amber", "red")  # better first
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_LABEL = 60  # an answer is a button: Slack cuts a label at 75
MIN_QUESTIONS, MAX_QUESTIONS = 15, 25  # "about 20", and at least two per principle
MIN_PER_PRINCIPLE = 2


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Answer(_Strict):
    id: NonEmpty
    label: LocalText
    rating: Rating
    fix: LocalText | None = None  # what to do about an amber or red answer


class Teaches(_Strict):
    """The tips and quiz questions (by id) that teach what a question asks about."""

    tips: list[str] = Field(default_factory=list)
    quiz: list[str] = Field(default_factory=list)


class Question(_Strict):
    id: NonEmpty
    principle: Principle
    text: LocalText
    answers: list[Answer] = Field(min_length=2, max_length=4)
    teaches: Teaches = Field(default_factory=Teaches)
    source: Source

    def answer(self, answer_id: str) -> Answer | None:
        return next((a for a in self.answers if a.id == answer_id), None)


class Questionnaire(_Strict):
    version: Literal[1]
    questions: list[Question] = Field(min_length=1)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def index(self, question_id: str) -> int | None:
        return next((i for i, q in enumerate(self.questions) if q.id == question_id), None)


def _read(path: Path) -> tuple[dict[str, Any] | None, Questionnaire | None, list[Problem]]:
    where = display_path(path)
    result = read_yaml(path)
    problems = yaml_problems(where, result)
    if result.error:
        return None, None, problems
    raw = result.data
    if not isinstance(raw, dict):
        return None, None, [*problems, Problem(where, 1, "schema", "-", "expected a mapping")]
    try:
        model = Questionnaire.model_validate(strip_lines(raw))
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            dotted = ".".join(str(p) for p in loc) or "file"
            problems.append(
                Problem(where, line_at(raw, loc, 1), "schema", "-", f"{dotted}: {err['msg']}")
            )
        return raw, None, problems
    return raw, model, problems


def load_questionnaire(path: Path = ASSESSMENT_FILE) -> Questionnaire:
    """The questions, or :class:`ContentError` naming what is wrong with the file's shape
    (the editorial rules are the lint's: :func:`check_questionnaire`)."""
    _, model, problems = _read(path)
    if model is None or errors(problems):
        raise ContentError(errors(problems) or problems)
    return model


def check_questionnaire(
    tips: set[str],
    quiz: set[str],
    path: Path = ASSESSMENT_FILE,
    today: date | None = None,
    builtin: bool = True,
) -> list[Problem]:
    """Every rule for the questions, given the ids of the live ``tips`` and ``quiz``
    questions they may point at."""
    raw, model, problems = _read(path)
    if model is None or raw is None:
        return problems
    where = display_path(path)
    raws = raw.get("questions") or []
    seen: Counter[str] = Counter(q.id for q in model.questions)
    for n, q in enumerate(model.questions):
        qraw = raws[n] if n < len(raws) and isinstance(raws[n], dict) else {}
        problem = _locator(where, qraw, line_at(raw, ("questions", n), 1), q.id)

        if not _ID.match(q.id):
            problems.append(problem("id-format", "id must be lowercase letters, digits, hyphens"))
        if seen[q.id] > 1:
            problems.append(problem("unique-id", "id used by more than one question", "id"))
        problems += _answers(q, problem)
        problems += _teaches(q, tips, quiz, problem)
        problems += _words(q, problem)
        bad_url = url_problem(q.source.url)
        if bad_url:
            problems.append(problem("source", bad_url, "source", "url"))
        dated = checked_problem(q.source, today or today_utc(), required=builtin)
        if dated:
            problems.append(problem("source-checked", dated[1], "source", severity=dated[0]))
    if builtin:
        problems += _counts(model, where)
    return problems


def _locator(where: str, qraw: dict[str, Any], line: int | None, q_id: str) -> Any:
    """Makes a question's problems, each at the line of the field it is about."""

    def problem(rule: str, message: str, *keys: str | int, severity: str = "error") -> Problem:
        return Problem(where, line_at(qraw, keys, line), rule, q_id, message, severity)

    return problem


def _answers(q: Question, problem: Any) -> list[Problem]:
    out: list[Problem] = []
    ids = [a.id for a in q.answers]
    if len(set(ids)) != len(ids):
        out.append(problem("unique-id", "two answers share an id", "answers"))
    if not any(a.rating == "green" for a in q.answers):
        out.append(problem("ratings", "no answer is rated green: say what good looks like"))
    if len({a.rating for a in q.answers}) < 2:
        out.append(problem("ratings", "every answer has the same rating", "answers"))
    for i, a in enumerate(q.answers):
        if a.rating != "green" and a.fix is None:
            out.append(problem("fix", f"answer {a.id!r} is {a.rating}: say what to fix",
                               "answers", i))  # fmt: skip
        if a.rating == "green" and a.fix is not None:
            out.append(problem("fix", f"answer {a.id!r} is green: it needs no fix", "answers", i))
        if len(a.label.en) > MAX_LABEL:
            out.append(problem("label-length", f"answer {a.id!r} is a button: at most"
                               f" {MAX_LABEL} characters", "answers", i))  # fmt: skip
    return out


def _teaches(q: Question, tips: set[str], quiz: set[str], problem: Any) -> list[Problem]:
    out: list[Problem] = []
    pairs = (("tip", q.teaches.tips, tips), ("quiz question", q.teaches.quiz, quiz))
    for kind, ids, known in pairs:
        for ident in ids:
            if ident not in known:
                out.append(problem("unknown-id", f"teaches {kind} {ident!r}, which doesn't exist"
                                   " (or is retired)", "teaches"))  # fmt: skip
    if not q.teaches.tips and not q.teaches.quiz:
        out.append(problem("teaches", "name at least one tip or quiz question that teaches this"))
    return out


def _words(q: Question, problem: Any) -> list[Problem]:
    out: list[Problem] = []
    texts: list[tuple[str, tuple[str | int, ...], str]] = [("text", ("text",), q.text.en)]
    for i, a in enumerate(q.answers):
        texts.append((f"answer {a.id}", ("answers", i), a.label.en))
        if a.fix is not None:
            texts.append((f"fix for {a.id}", ("answers", i, "fix"), a.fix.en))
            score = reading_ease(a.fix.en)
            if score < MIN_READING_EASE:
                out.append(problem("reading-ease", f"fix for {a.id} has Flesch reading ease"
                                   f" {score:.1f}; at least {MIN_READING_EASE:g} needed",
                                   "answers", i))  # fmt: skip
    for label, keys, text in texts:
        words, sentence = longest_sentence(text)
        if words > MAX_SENTENCE_WORDS:
            out.append(problem("sentence-length", f"{label} has a {words}-word sentence"
                               f" (at most {MAX_SENTENCE_WORDS})", *keys))  # fmt: skip
        for us, uk in us_spellings(text):
            out.append(problem("uk-spelling", f"{label} uses US spelling {us!r}; write {uk!r}",
                               *keys))  # fmt: skip
        for variant, write in variants(text):
            out.append(problem("glossary", f"{label} says {variant!r}; write {write}", *keys))
    return out


def _counts(model: Questionnaire, where: str) -> list[Problem]:
    out: list[Problem] = []
    total = len(model.questions)
    if not MIN_QUESTIONS <= total <= MAX_QUESTIONS:
        out.append(Problem(where, None, "counts", "-", f"{total} questions; the assessment"
                           f" should have {MIN_QUESTIONS} to {MAX_QUESTIONS}"))  # fmt: skip
    per = Counter(q.principle for q in model.questions)
    for principle in PRINCIPLES:
        if per[principle] < MIN_PER_PRINCIPLE:
            out.append(Problem(where, None, "counts", "-", f"{per[principle]} questions on"
                               f" {principle}; at least {MIN_PER_PRINCIPLE} needed"))  # fmt: skip
    return out


def questionnaire_problems(tips: set[str], quiz: set[str], today: date | None) -> list[Problem]:
    """The built-in questions checked against the content they point at (``make lint``)."""
    return check_questionnaire(tips, quiz, ASSESSMENT_FILE, today)
