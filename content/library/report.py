"""`python -m content.library.report [DIR]`: the figures a content owner needs to keep it alive.

Counts per principle, module, topic and platform (so gaps show), the reading-ease spread,
the sources checked longest ago (so the next review starts there), the fairness figures
behind the lint's question rules, and the lint findings themselves. Read-only: it never
changes content. With DIR it reports on the built-in content merged with that pack.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .fairness import absolute_words, key_longest_shares
from .lint import check_dir
from .loader import ContentLibrary
from .models import (
    MODULE_LABELS,
    MODULES,
    PRINCIPLE_LABELS,
    PRINCIPLES,
    TOPIC_LABELS,
    QuizItem,
    Source,
    Tip,
)
from .problems import Problem
from .readability import MIN_READING_EASE, reading_ease
from .sources import today_utc

# Platform names as the content writes them (content/library/glossary.py); X only as a word.
PLATFORMS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern)
    for name, pattern in (
        ("Facebook", r"\bFacebook\b|facebook\.com"),
        ("Instagram", r"\bInstagram\b"),
        ("X", r"\bX\b|help\.x\.com"),
        ("LinkedIn", r"\bLinkedIn\b"),
        ("YouTube", r"\bYouTube\b"),
        ("TikTok", r"\bTikTok\b"),
        ("Threads", r"\bThreads\b"),
        ("WhatsApp", r"\bWhatsApp\b"),
        ("Meta (business tools)", r"\bMeta\b"),
        ("Hootsuite", r"\bHootsuite\b"),
    )
}
EASE_BANDS: tuple[tuple[float, float, str], ...] = (
    (float("-inf"), MIN_READING_EASE, f"under {MIN_READING_EASE:g} (fails)"),
    (MIN_READING_EASE, 60, f"{MIN_READING_EASE:g}-59"),
    (60, 70, "60-69"),
    (70, 80, "70-79"),
    (80, float("inf"), "80 and over"),
)
OLDEST = 10


def item_text(item: QuizItem) -> str:
    return " ".join([item.stem.en, item.explanation.en, *(o.text.en for o in item.options)])


def tip_text(tip: Tip) -> str:
    return " ".join([tip.title.en, tip.body.en, tip.action.en])


def platforms_named(text: str) -> set[str]:
    return {name for name, pattern in PLATFORMS.items() if pattern.search(text)}


@dataclass(frozen=True)
class Fairness:
    """The figures behind the lint's question rules, for before/after comparisons."""

    distractors: int
    distractors_absolute: int
    keys: int
    keys_absolute: int

    @property
    def distractor_share(self) -> float:
        return self.distractors_absolute / self.distractors if self.distractors else 0.0

    @property
    def key_share(self) -> float:
        return self.keys_absolute / self.keys if self.keys else 0.0


def fairness(items: Iterable[QuizItem]) -> Fairness:
    distractors = distractors_absolute = keys = keys_absolute = 0
    for item in items:
        for i, option in enumerate(item.options):
            absolute = bool(absolute_words(option.text.en))
            if i == item.correct_index:
                keys += 1
                keys_absolute += absolute
            else:
                distractors += 1
                distractors_absolute += absolute
    return Fairness(distractors, distractors_absolute, keys, keys_absolute)


def ease_bands(scores: Iterable[float]) -> list[tuple[str, int]]:
    scores = list(scores)
    return [(label, sum(low <= s < high for s in scores)) for low, high, label in EASE_BANDS]


def sources(library: ContentLibrary) -> list[tuple[str, Source]]:
    return [(i.id, i.source) for i in library.quiz_items.values()] + [
        (t.id, t.source) for t in library.tips.values()
    ]


def _table(title: str, rows: Iterable[tuple[str, object]]) -> list[str]:
    rows = list(rows)
    width = max((len(name) for name, _ in rows), default=0)
    return [title, *(f"  {name.ljust(width)}  {value}" for name, value in rows), ""]


def build(library: ContentLibrary, problems: list[Problem], today: date) -> list[str]:
    """The report's lines (kept apart from printing so a test can read real figures)."""
    items = list(library.quiz_items.values())
    tips = list(library.tips.values())
    out = [
        f"secbot content report, {today.isoformat()} (content version {library.version})",
        f"{len(items)} quiz items ({sum(i.scenario for i in items)} scenarios), {len(tips)} tips",
        "",
    ]
    for title, keys, labels, attr in (
        ("Per principle (quiz items / tips)", PRINCIPLES, PRINCIPLE_LABELS, "principle"),
        ("Per module (quiz items / tips)", MODULES, MODULE_LABELS, "module"),
    ):
        item_counts = Counter(getattr(i, attr) for i in items)
        tip_counts = Counter(getattr(t, attr) for t in tips)
        out += _table(
            title, ((f"{k} ({labels[k]})", f"{item_counts[k]} / {tip_counts[k]}") for k in keys)
        )
    item_topics = Counter(t for i in items for t in i.topics)
    tip_topics = Counter(t for tip in tips for t in tip.topics)
    out += _table(
        "Per topic (quiz items / tips)",
        ((topic, f"{item_topics[topic]} / {tip_topics[topic]}") for topic in TOPIC_LABELS),
    )
    item_platforms = Counter(p for i in items for p in platforms_named(item_text(i)))
    tip_platforms = Counter(p for t in tips for p in platforms_named(tip_text(t)))
    out += _table(
        "Per platform named (quiz items / tips)",
        ((name, f"{item_platforms[name]} / {tip_platforms[name]}") for name in PLATFORMS),
    )
    scores = {
        "explanations": [reading_ease(i.explanation.en) for i in items],
        "tip bodies": [reading_ease(t.body.en) for t in tips],
        "tip actions": [reading_ease(t.action.en) for t in tips],
    }
    out.append("Reading ease (Flesch; higher is easier)")
    for name, values in scores.items():
        bands = ", ".join(f"{label}: {n}" for label, n in ease_bands(values))
        median = f"median {statistics.median(values):.0f}" if values else "none"
        out.append(f"  {name}: {median}; {bands}")
    out.append("")
    dated = sorted(
        ((s.checked, ident, s) for ident, s in sources(library) if s.checked),
        key=lambda row: (row[0], row[1]),
    )
    missing = [ident for ident, s in sources(library) if s.checked is None]
    out.append(f"Oldest checked: dates ({len(missing)} sources have none)")
    out += [f"  {d.isoformat()}  {ident}  {s.title}" for d, ident, s in dated[:OLDEST]]
    if missing:
        more = " ..." if len(missing) > OLDEST else ""
        out.append(f"  no date: {', '.join(missing[:OLDEST])}{more}")
    out.append("")
    fair = fairness(items)
    out.append("Fair questions")
    out.append(
        f"  absolute words: {fair.distractors_absolute}/{fair.distractors} wrong answers "
        f"({fair.distractor_share:.0%}), {fair.keys_absolute}/{fair.keys} correct answers "
        f"({fair.key_share:.0%})"
    )
    shares = ", ".join(str(s) for s in key_longest_shares(items))
    out.append(f"  correct answer is the longest option: {shares}")
    out.append("")
    by_rule = Counter((p.rule, p.severity) for p in problems)
    out.append(f"Lint findings: {len(problems)}")
    out += [f"  {rule} ({severity}): {n}" for (rule, severity), n in sorted(by_rule.items())]
    out += [f"  {p}" for p in problems]
    return out


def main(argv: list[str] | None = None, today: date | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m content.library.report",
        description="Counts, readability, source dates and lint findings for the content.",
    )
    parser.add_argument("dir", nargs="?", type=Path, help="an organisation's content directory")
    args = parser.parse_args(argv)
    today = today or today_utc()
    run = check_dir(args.dir, today, "content report")
    if run is None:
        return 2
    library, problems = run.library, run.problems
    print("\n".join(build(library, problems, today)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
