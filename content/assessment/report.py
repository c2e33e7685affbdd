"""A team's self-assessment report: data first (:class:`Report`), then two renderings of
it, as the incident report has: Markdown here, one self-contained HTML page in
``report_html``. Every string is made inert and escaped, so a team name or a person's
name can never become markup.

Both are headed and footed with the protective marking (``SECBOT_PROTECTIVE_MARKING``).
Every amber or red answer links to its fix, and each fix to the tips and quiz questions
that teach it (by their ids in ``content/data``), listed at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.inert import inert
from content.assessment.scoring import UNANSWERED, PrincipleScore, Scored, overall
from content.library.loader import ContentLibrary
from content.training.nudges import LONDON

# The NCSC's own names for its five principles, in its order.
PRINCIPLE_NAMES = {
    "trust-the-platform": "1. Trust the platform",
    "control-access": "2. Control access",
    "content-approval": "3. Content approval process",
    "track-actions": "4. Track users' actions",
    "recovery-plan": "5. Develop and test an incident recovery plan",
}
RATING_WORDS = {"green": "Green", "amber": "Amber", "red": "Red"}
ABOUT = (
    "Answers from the team's own self-assessment against the NCSC's five principles for"
    " social media accounts. Each rating is the team's own view, not an audit."
)


@dataclass(frozen=True)
class Teaching:
    """A tip or quiz question a fix points at, as the report lists it."""

    anchor: str  # tip-003 / quiz-q-acc-006
    kind: str  # "Tip" / "Quiz question"
    ident: str
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    marking: str
    team: str
    facts: tuple[tuple[str, str], ...]
    overall: str
    scores: tuple[PrincipleScore, ...]
    teaching: dict[str, Teaching]  # by anchor
    sources: tuple[tuple[str, str], ...]

    @property
    def title(self) -> str:
        return f"Self-assessment: {self.team}"


def london(at: datetime) -> str:
    """As people in the UK read a time: ``Fri 4 Dec 2026, 19:05 GMT``."""
    local = at.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def tip_anchor(ident: str) -> str:
    return f"tip-{ident}" if not ident.startswith("tip-") else ident


def quiz_anchor(ident: str) -> str:
    return f"quiz-{ident}"


def fix_anchor(question_id: str) -> str:
    return f"fix-{question_id}"


def teaches(item: Scored, library: ContentLibrary) -> list[Teaching]:
    """The tips and quiz questions a question names that this secbot has (an
    organisation's pack may have retired one; the lint says so)."""
    out: list[Teaching] = []
    if not library:  # a bot started without content (some tests)
        return out
    for ident in item.question.teaches.tips:
        tip = library.tip(ident)
        if tip is not None:
            out.append(Teaching(tip_anchor(ident), "Tip", ident, tip.title.en, (tip.action.en,)))
    for ident in item.question.teaches.quiz:
        q = library.item(ident)
        if q is not None:  # the stem only: the answer would spoil the question
            out.append(Teaching(quiz_anchor(ident), "Quiz question", ident, q.stem.en, ()))
    return out


def build(
    *,
    marking: str,
    team: str,
    started: tuple[str, datetime],
    finished: tuple[str, datetime] | None,
    scores: list[PrincipleScore],
    library: ContentLibrary,
) -> Report:
    facts = [("Team", team), ("Started", f"{london(started[1])} by {started[0]}")]
    if finished is not None:
        facts.append(("Finished", f"{london(finished[1])} by {finished[0]}"))
    total = sum(len(s.items) for s in scores)
    facts.append(("Questions", str(total)))
    teaching: dict[str, Teaching] = {}
    sources: dict[str, str] = {}
    for s in scores:
        for item in s.items:
            sources.setdefault(item.question.source.title, item.question.source.url)
            if item.to_fix:
                for t in teaches(item, library):
                    teaching.setdefault(t.anchor, t)
    return Report(
        marking=marking,
        team=team,
        facts=tuple(facts),
        overall=overall(scores),
        scores=tuple(scores),
        teaching=teaching,
        sources=tuple(sources.items()),
    )


def summary_lines(report: Report) -> list[str]:
    """The chat summary: the overall rating and one line per principle."""
    lines = [f"Overall: {RATING_WORDS[report.overall]}."]
    for s in report.scores:
        lines.append(f"{PRINCIPLE_NAMES[s.principle]}: {RATING_WORDS[s.rating]} ({_counts(s)})")
    return lines


def _counts(s: PrincipleScore) -> str:
    parts = [f"{s.counts.get(r, 0)} {r}" for r in ("green", "amber", "red")]
    if s.counts.get(UNANSWERED):
        parts.append(f"{s.counts[UNANSWERED]} not answered")
    return ", ".join(parts)


def answer_words(item: Scored) -> str:
    return item.answer.label.en if item.answer is not None else "Not answered"


def fix_words(item: Scored) -> str:
    if item.answer is None:
        return "Answer this question at the next assessment."
    return item.answer.fix.en if item.answer.fix is not None else ""


def grouped(taught: list[Teaching], show: Callable[[Teaching], str]) -> list[str]:
    """``tips tip-001, tip-006; quiz questions q-acc-013``: each kind once, then its ids."""
    out = []
    for kind, plural in (("Tip", "tips"), ("Quiz question", "quiz questions")):
        ids = [show(t) for t in taught if t.kind == kind]
        if ids:
            out.append(f"{plural if len(ids) > 1 else kind.lower()} {', '.join(ids)}")
    return out


def to_fix(report: Report) -> list[tuple[PrincipleScore, Scored]]:
    return [(s, i) for s in report.scores for i in s.items if i.to_fix]


# --- Markdown ----------------------------------------------------------------------

_MD = re.compile(r"([\\`*_~\[\]<>|#])")


def md(text: Any) -> str:
    """One line of text shown as written in any Markdown viewer: inert, with the marks
    that start formatting, links, tags, headings or table cells escaped."""
    return _MD.sub(r"\\\1", inert("" if text is None else str(text), multiline=False))


def markdown(report: Report, library: ContentLibrary) -> str:
    mark = f"**{md(report.marking)}**"
    out = [mark, "", f"# {md(report.title)}", "", md(ABOUT), ""]
    out += [f"- {md(k)}: {md(v)}" for k, v in report.facts]
    out += [f"- Overall rating: **{RATING_WORDS[report.overall].upper()}**", ""]
    out += ["## Summary by principle", ""]
    out += ["| Principle | Rating | Green | Amber | Red |", "| --- | --- | --- | --- | --- |"]
    for s in report.scores:
        c = s.counts
        out.append(
            f"| {md(PRINCIPLE_NAMES[s.principle])} | **{RATING_WORDS[s.rating].upper()}** |"
            f" {c['green']} | {c['amber']} | {c['red'] + c[UNANSWERED]} |"
        )
    out += ["", "## What to fix", ""]
    fixes = to_fix(report)
    if not fixes:
        out += ["Nothing: every answer is green. Run the assessment again in a year.", ""]
    for s, item in fixes:
        q = item.question
        out += [
            f"### {md(q.text.en)}",
            "",
            f"- Principle: {md(PRINCIPLE_NAMES[s.principle])}",
            f"- Answer: {md(answer_words(item))} (**{RATING_WORDS[item.rating].upper()}**)",
            f"- Fix: {md(fix_words(item))}",
        ]
        taught = [t for t in teaches(item, library) if t.anchor in report.teaching]
        if taught:
            groups = grouped(taught, lambda t: md(t.ident))
            out.append(f"- Learn more (listed below): {'; '.join(groups)}")
        out.append("")
    out += ["## Every answer", "", "| Question | Answer | Rating |", "| --- | --- | --- |"]
    for s in report.scores:
        for item in s.items:
            out.append(
                f"| {md(item.question.text.en)} | {md(answer_words(item))} |"
                f" {RATING_WORDS[item.rating]} |"
            )
    if report.teaching:
        out += ["", "## Tips and quiz questions that teach the fixes", ""]
        for t in report.teaching.values():
            out += [f"### {md(t.kind)} {md(t.ident)}: {md(t.title)}", ""]
            out += [f"{md(line)}" for line in t.lines] + [""]
    out += ["", "## Sources", ""] + [f"- {md(t)}: {md(u)}" for t, u in report.sources]
    out += ["", mark, ""]
    return "\n".join(out)
