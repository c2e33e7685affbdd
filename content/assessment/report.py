"""A team's self-assessment report: data first (:class:`Report`), then two renderings of
it, Markdown and one self-contained HTML page, as the incident report does
(``incidents/report_html.py``): inline CSS, no scripts (a Content-Security-Policy meta
tag forbids them), no links out, A4 print styles, and every string made inert and
escaped, so a team name or a person's name can never become markup.

Both are headed and footed with the protective marking (``SECBOT_PROTECTIVE_MARKING``).
Every amber or red answer links to its fix, and each fix to the tips and quiz questions
that teach it (by their ids in ``content/data``), listed at the end.
"""

from __future__ import annotations

import html
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
    """The tips and quiz questions a question names that this secbot has."""
    out: list[Teaching] = []
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


def _answer(item: Scored) -> str:
    return item.answer.label.en if item.answer is not None else "Not answered"


def _fix(item: Scored) -> str:
    if item.answer is None:
        return "Answer this question at the next assessment."
    return item.answer.fix.en if item.answer.fix is not None else ""


def _grouped(taught: list[Teaching], show: Callable[[Teaching], str]) -> list[str]:
    """``tips tip-001, tip-006; quiz questions q-acc-013``: each kind once, then its ids."""
    out = []
    for kind, plural in (("Tip", "tips"), ("Quiz question", "quiz questions")):
        ids = [show(t) for t in taught if t.kind == kind]
        if ids:
            out.append(f"{plural if len(ids) > 1 else kind.lower()} {', '.join(ids)}")
    return out


def _to_fix(report: Report) -> list[tuple[PrincipleScore, Scored]]:
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
    fixes = _to_fix(report)
    if not fixes:
        out += ["Nothing: every answer is green. Run the assessment again in a year.", ""]
    for s, item in fixes:
        q = item.question
        out += [
            f"### {md(q.text.en)}",
            "",
            f"- Principle: {md(PRINCIPLE_NAMES[s.principle])}",
            f"- Answer: {md(_answer(item))} (**{RATING_WORDS[item.rating].upper()}**)",
            f"- Fix: {md(_fix(item))}",
        ]
        taught = [t for t in teaches(item, library) if t.anchor in report.teaching]
        if taught:
            groups = _grouped(taught, lambda t: md(t.ident))
            out.append(f"- Learn more (listed below): {'; '.join(groups)}")
        out.append("")
    out += ["## Every answer", "", "| Question | Answer | Rating |", "| --- | --- | --- |"]
    for s in report.scores:
        for item in s.items:
            out.append(
                f"| {md(item.question.text.en)} | {md(_answer(item))} |"
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


# --- HTML --------------------------------------------------------------------------

CSS = """
body{font:11pt/1.45 Arial,Helvetica,sans-serif;color:#0b0c0c;max-width:52em;margin:2em auto;
padding:0 1em}
h1{font-size:1.6em;margin:.4em 0 .5em}h2{font-size:1.25em;margin:1.6em 0 .4em;
border-bottom:2px solid #0b0c0c}h3{font-size:1.05em;margin:1.1em 0 .3em}
table{border-collapse:collapse;width:100%;margin:.3em 0 1em}
th,td{border:1px solid #b1b4b6;padding:.25em .45em;text-align:left;vertical-align:top}
th{background:#f3f2f1}tr{page-break-inside:avoid;break-inside:avoid}
.marking{text-align:center;font-weight:bold;letter-spacing:.05em;margin:0 0 1em}
.foot{margin:2em 0 0}.note{color:#505a5f}
.rag{display:inline-block;padding:0 .4em;font-weight:bold;border:2px solid #0b0c0c}
.green{background:#cce2d8;color:#005a30}.amber{background:#fff7bf;color:#594d00}
.red{background:#f6d7d2;color:#942514}
.fix{border-left:6px solid #b1b4b6;padding:.2em 1em;margin:.8em 0;break-inside:avoid}
@page{size:A4;margin:18mm}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def esc(text: Any) -> str:
    """Inert, one line, and escaped for HTML text and attribute values alike."""
    return html.escape(inert("" if text is None else str(text), multiline=False), quote=True)


def _rag(rating: str) -> str:
    return f'<span class="rag {esc(rating)}">{esc(RATING_WORDS[rating].upper())}</span>'


def html_report(report: Report, library: ContentLibrary) -> str:
    mark = esc(report.marking)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{mark}: {esc(report.title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f'<p class="marking">{mark}</p>',
        f"<h1>{esc(report.title)}</h1>",
        f'<p class="note">{esc(ABOUT)}</p>',
        "<table><tbody>",
    ]
    out += [f'<tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in report.facts]
    out.append(f'<tr><th scope="row">Overall rating</th><td>{_rag(report.overall)}</td></tr>')
    out += ["</tbody></table>", "<h2>Summary by principle</h2>", "<table>"]
    out.append(
        '<thead><tr><th scope="col">Principle</th><th scope="col">Rating</th>'
        '<th scope="col">Green</th><th scope="col">Amber</th><th scope="col">Red</th>'
        "</tr></thead><tbody>"
    )
    for s in report.scores:
        c = s.counts
        out.append(
            f"<tr><td>{esc(PRINCIPLE_NAMES[s.principle])}</td><td>{_rag(s.rating)}</td>"
            f"<td>{c['green']}</td><td>{c['amber']}</td><td>{c['red'] + c[UNANSWERED]}</td></tr>"
        )
    out += ["</tbody></table>", "<h2>What to fix</h2>"]
    fixes = _to_fix(report)
    if not fixes:
        out.append("<p>Nothing: every answer is green. Run the assessment again in a year.</p>")
    for s, item in fixes:
        q = item.question
        out += [
            f'<section class="fix" id="{esc(fix_anchor(q.id))}">',
            f"<h3>{esc(q.text.en)}</h3>",
            f"<p>{esc(PRINCIPLE_NAMES[s.principle])}. Answer: {esc(_answer(item))}"
            f" {_rag(item.rating)}</p>",
            f"<p><strong>Fix:</strong> {esc(_fix(item))}</p>",
        ]
        taught = [t for t in teaches(item, library) if t.anchor in report.teaching]
        if taught:
            groups = _grouped(taught, lambda t: f'<a href="#{esc(t.anchor)}">{esc(t.ident)}</a>')
            out.append(f"<p>Learn more: {'; '.join(groups)}.</p>")
        out.append("</section>")
    out += ["<h2>Every answer</h2>", "<table>"]
    out.append(
        '<thead><tr><th scope="col">Question</th><th scope="col">Answer</th>'
        '<th scope="col">Rating</th></tr></thead><tbody>'
    )
    for s in report.scores:
        for item in s.items:
            rating = _rag(item.rating)
            if item.to_fix:
                rating += f' <a href="#{esc(fix_anchor(item.question.id))}">the fix</a>'
            out.append(
                f"<tr><td>{esc(item.question.text.en)}</td><td>{esc(_answer(item))}</td>"
                f"<td>{rating}</td></tr>"
            )
    out.append("</tbody></table>")
    if report.teaching:
        out.append("<h2>Tips and quiz questions that teach the fixes</h2>")
        for t in report.teaching.values():
            out.append(f'<section id="{esc(t.anchor)}">')
            out.append(f"<h3>{esc(t.kind)} {esc(t.ident)}: {esc(t.title)}</h3>")
            out += [f"<p>{esc(line)}</p>" for line in t.lines]
            out.append("</section>")
    out += ["<h2>Sources</h2>", "<ul>"]
    out += [f"<li>{esc(t)}: {esc(u)}</li>" for t, u in report.sources]
    out += ["</ul>", f'<p class="marking foot">{mark}</p>', "</body></html>"]
    return "\n".join(out) + "\n"
