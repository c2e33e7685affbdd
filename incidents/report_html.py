"""The report as one self-contained HTML file: inline CSS, no scripts, no links out,
and it prints well (A4, black on white, tables that do not split a row across pages).

Every string is made inert and HTML-escaped (quotes too), so text someone typed in an
incident (an account name, a reason, a holding line) can never become a tag, an
attribute or a script. The page also forbids scripts itself (a Content-Security-Policy
meta tag), so even a mistake here could not run one.
"""

from __future__ import annotations

import html
from typing import Any

from bot.core.inert import inert
from incidents.report import DRILL_BANNER
from incidents.report_data import Bullets, Checklist, Pairs, Report, Table

CSS = """
body{font:11pt/1.45 Arial,Helvetica,sans-serif;color:#0b0c0c;max-width:52em;margin:2em auto;
padding:0 1em}
h1{font-size:1.6em;margin:0 0 .5em}h2{font-size:1.25em;margin:1.6em 0 .4em;
border-bottom:2px solid #0b0c0c}h3{font-size:1.05em;margin:1.1em 0 .3em}
table{border-collapse:collapse;width:100%;margin:.3em 0 1em}
th,td{border:1px solid #b1b4b6;padding:.25em .45em;text-align:left;vertical-align:top}
th{background:#f3f2f1}tr{page-break-inside:avoid;break-inside:avoid}
.drill{border:3px solid #0b0c0c;padding:.5em .8em;font-weight:bold}
.summary{border-left:6px solid #1d70b8;background:#f3f2f1;padding:.4em 1em}
dt{font-weight:bold}dd{margin:0 0 .4em 1.2em}.note{color:#505a5f}
ul.steps{list-style:none;padding-left:.2em}
@page{size:A4;margin:18mm}
@media print{body{margin:0;max-width:none}.summary{background:none}h2{break-after:avoid}}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def esc(text: Any) -> str:
    """Inert, one line, and escaped for HTML text and attribute values alike."""
    return html.escape(inert("" if text is None else str(text), multiline=False), quote=True)


def _table(headers: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> list[str]:
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows]
    return ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>", *body, "</tbody></table>"]


def _section(section: Any) -> list[str]:
    level = getattr(section, "level", 2)
    out = [f"<h{level}>{esc(section.title)}</h{level}>"]
    if isinstance(section, Pairs):
        out.append("<dl>")
        out += [f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in section.rows]
        out.append("</dl>")
    elif isinstance(section, Bullets):
        if section.items:
            out += ["<ul>", *(f"<li>{esc(i)}</li>" for i in section.items), "</ul>"]
        else:
            out.append(f"<p>{esc(section.empty)}</p>")
    elif isinstance(section, Table):
        if section.note:
            out.append(f'<p class="note">{esc(section.note)}</p>')
        out += _table(section.headers, section.rows) if section.rows else [
            f"<p>{esc(section.empty)}</p>"
        ]
    elif isinstance(section, Checklist):
        if not section.phases:
            out.append("<p>No steps.</p>")
        for label, items in section.phases:
            out += [f"<h3>{esc(label)}</h3>", '<ul class="steps">']
            out += [
                f"<li>{'☑' if done else '☐'} {esc(text)} — {esc(note)}</li>"
                for done, text, note in items
            ]
            out.append("</ul>")
    return out


def html_report(report: Report) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(report.title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{esc(report.title)}</h1>",
    ]
    if report.drill:
        out.append(f'<p class="drill">{esc(DRILL_BANNER)}</p>')
    out += ['<section class="summary"><h2>Summary for the SIRO</h2><ul>']
    out += [f"<li>{esc(line)}</li>" for line in report.summary]
    out += ["</ul></section>", "<h2>The incident</h2>", "<table><tbody>"]
    out += [f'<tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in report.facts]
    out.append("</tbody></table>")
    for section in report.sections:
        out += _section(section)
    out.append("</body></html>")
    return "\n".join(out) + "\n"
