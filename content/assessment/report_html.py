"""The self-assessment report as one self-contained HTML page, drawn as the incident
report's is (``incidents/report_html.py``): inline CSS, no scripts (a
Content-Security-Policy meta tag forbids them), no links out, A4 print styles, and every
string made inert and HTML-escaped (quotes too). Links stay inside the page: each amber
or red answer to its fix, each fix to the tips and quiz questions that teach it.
"""

from __future__ import annotations

import html
from typing import Any

from bot.core.inert import inert
from content.assessment.report import (
    ABOUT,
    PRINCIPLE_NAMES,
    RATING_WORDS,
    Report,
    answer_words,
    fix_anchor,
    fix_words,
    grouped,
    teaches,
    to_fix,
)
from content.assessment.scoring import UNANSWERED
from content.library.loader import ContentLibrary

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
    fixes = to_fix(report)
    if not fixes:
        out.append("<p>Nothing: every answer is green. Run the assessment again in a year.</p>")
    for s, item in fixes:
        q = item.question
        out += [
            f'<section class="fix" id="{esc(fix_anchor(q.id))}">',
            f"<h3>{esc(q.text.en)}</h3>",
            f"<p>{esc(PRINCIPLE_NAMES[s.principle])}. Answer: {esc(answer_words(item))}"
            f" {_rag(item.rating)}</p>",
            f"<p><strong>Fix:</strong> {esc(fix_words(item))}</p>",
        ]
        taught = [t for t in teaches(item, library) if t.anchor in report.teaching]
        if taught:
            groups = grouped(taught, lambda t: f'<a href="#{esc(t.anchor)}">{esc(t.ident)}</a>')
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
                f"<tr><td>{esc(item.question.text.en)}</td><td>{esc(answer_words(item))}</td>"
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
