"""The report's HTML page with hostile text in every field a person can type: the only
tags are the report's own, no attribute carries typed text, and nothing hidden
survives. (The end-to-end tests fetch the same page over HTTP in Slack, Teams and the
web chat; this one tries every field at once.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from incidents.paging.counting import count_pages
from incidents.paging.model import PageRecord
from incidents.report_contents import contents
from incidents.report_data import Extras
from incidents.report_html import html_report
from incidents.store import Event, StepState
from tests.test_incident_rules import _incident

HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> "q" \u202eKCAH &amp;'
TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "section",
        "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd"}  # fmt: skip
ATTRIBUTES = {"charset", "http-equiv", "content", "name", "lang", "class", "scope"}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def test_hostile_text_everywhere_stays_text():
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    inc = _incident(account=HOSTILE, summary=HOSTILE, department=HOSTILE,
                    reporter_name=HOSTILE, commander_name=HOSTILE)  # fmt: skip
    steps = [
        StepState(inc.id, "a", 0, "contain", HOSTILE, None, "skipped", "web:a", HOSTILE,
                  t0 + timedelta(minutes=5), HOSTILE, None, None),
    ]  # fmt: skip
    events = [Event(t0, "web:a", HOSTILE, "evidence", HOSTILE)]
    pages = [
        PageRecord(HOSTILE, "chat", 1, 1, "trigger", "sent", 1, t0, team=HOSTILE),
        PageRecord("duty-pd", "pagerduty", 1, 1, "trigger", "skipped", 0, None),
        PageRecord("duty-pd", "pagerduty", 0, 0, "acknowledge", "sent", 1, t0),
    ]
    extras = Extras(
        ico=((HOSTILE, HOSTILE),),
        takedowns=((HOSTILE, HOSTILE, HOSTILE, HOSTILE),),
        holding=((HOSTILE, "posted", HOSTILE, HOSTILE, HOSTILE),),
    )
    page = html_report(contents(inc, steps, events, pages, t0, extras))
    parsed = Tags()
    parsed.feed(page)
    assert {tag for tag, _ in parsed.tags} <= TAGS
    for _, attrs in parsed.tags:
        assert {name for name, _ in attrs} <= ATTRIBUTES
        assert all("alert" not in (value or "") for _, value in attrs)
    shown = "".join(parsed.text)
    assert "<script>alert(1)</script>" in shown  # shown as typed, as text
    assert "\u202e" not in page and "KCAH" in shown
    assert "script-src" not in page and "default-src 'none'" in page  # scripts forbidden


def test_pages_are_counted_once_and_apart():
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    pages = [
        PageRecord("room", "chat", 1, 1, "trigger", "sent", 1, t0),
        PageRecord("duty-pd", "pagerduty", 1, 1, "trigger", "failed", 4, None),
        PageRecord("backup", "pagerduty", 2, 1, "trigger", "skipped", 0, None),
        PageRecord("duty-pd", "pagerduty", 0, 0, "acknowledge", "sent", 1, t0),
        PageRecord("duty-pd", "pagerduty", 0, 0, "resolve", "sent", 1, t0),
    ]
    counts = count_pages(pages)
    assert [len(x) for x in (counts.sent, counts.failed, counts.drill_skipped,
                             counts.updates)] == [1, 1, 1, 2]  # fmt: skip
    assert counts.summary() == (
        "1 page sent, 1 failed, 1 skipped (drill), 2 acknowledge/resolve updates"
    )
