"""``python -m content.library.report``: the figures a content owner needs, checked against the
content itself rather than against numbers copied into the test."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from content.library import report
from content.library.loader import builtin_files, check
from content.library.models import MODULES, PRINCIPLES, TOPIC_LABELS
from content.library.readability import reading_ease

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def library():
    return check(builtin_files()).library()


@pytest.fixture(scope="module")
def printed() -> str:
    """The report exactly as a content owner runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "content.library.report"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def section(text: str, title: str) -> list[str]:
    """The indented lines under a heading line that starts with ``title``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    out = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        out.append(line.strip())
    return out


def figures(lines: list[str]) -> dict[str, tuple[int, int]]:
    """``name (label)  3 / 4`` rows as {name: (items, tips)}."""
    out = {}
    for line in lines:
        m = re.match(r"(\S+).*?\s(\d+) / (\d+)$", line)
        assert m, line
        out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return out


def test_totals_and_counts_per_principle_module_and_topic(printed, library) -> None:
    items, tips = list(library.quiz_items.values()), list(library.tips.values())
    assert f"{len(items)} quiz items ({sum(i.scenario for i in items)} scenarios)" in printed
    assert f", {len(tips)} tips" in printed
    for title, keys, attr in (
        ("Per principle", PRINCIPLES, "principle"),
        ("Per module", MODULES, "module"),
    ):
        shown = figures(section(printed, title))
        assert shown == {
            k: (
                sum(getattr(i, attr) == k for i in items),
                sum(getattr(t, attr) == k for t in tips),
            )
            for k in keys
        }
    topics = figures(section(printed, "Per topic"))
    assert set(topics) == set(TOPIC_LABELS)
    assert topics["2fa"] == (
        sum("2fa" in i.topics for i in items),
        sum("2fa" in t.topics for t in tips),
    )
    assert sum(n for n, _ in topics.values()) == sum(len(i.topics) for i in items)


def test_platform_counts(printed, library) -> None:
    platforms = figures(section(printed, "Per platform"))
    youtube = [i for i in library.quiz_items.values() if "YouTube" in report.item_text(i)]
    assert platforms["YouTube"][0] == len(youtube) > 0
    assert platforms["Facebook"][0] > 0 and platforms["X"][0] > 0


def test_readability_distribution(printed, library) -> None:
    [explanations] = [x for x in section(printed, "Reading ease") if x.startswith("explanations")]
    bands = [int(n) for n in re.findall(r": (\d+)", explanations)]
    assert sum(bands) == len(library.quiz_items)
    assert bands[0] == 0  # the lint refuses anything under 50
    scores = sorted(reading_ease(i.explanation.en) for i in library.quiz_items.values())
    assert bands[-1] == sum(s >= 80 for s in scores)


def test_oldest_checked_dates(printed, library) -> None:
    lines = section(printed, "Oldest checked: dates")
    dated = [line for line in lines if re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert len(dated) == report.OLDEST
    oldest = min(
        s.checked
        for s in [i.source for i in library.quiz_items.values()]
        + [t.source for t in library.tips.values()]
    )
    assert dated[0].startswith(oldest.isoformat())
    assert dated == sorted(dated)


def test_fairness_figures_and_lint_findings(printed, library) -> None:
    fair = report.fairness(library.quiz_items.values())
    assert (
        f"absolute words: {fair.distractors_absolute}/{fair.distractors} wrong answers" in printed
    )
    assert re.search(r"longest option: policy \d+/\d+ \(\d+%\)", printed)
    assert "Lint findings: 0" in printed


def test_a_pack_with_stale_and_undated_sources_shows_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Run in-process with an injected date: the oldest date and the warnings show."""
    item = yaml.safe_load((ROOT / "content/data/quiz/people.yml").read_text())["items"][0]
    item["source"]["checked"] = date(2025, 1, 15)
    tip = yaml.safe_load((ROOT / "content/data/tips/tips.yml").read_text())["tips"][0]
    del tip["source"]["checked"]
    (tmp_path / "ours.yml").write_text(
        yaml.safe_dump({"items": [item], "tips": [tip]}, sort_keys=False)
    )
    assert report.main([str(tmp_path)], today=date(2026, 12, 4)) == 0
    out = capsys.readouterr().out
    assert section(out, "Oldest checked: dates")[0].startswith(f"2025-01-15  {item['id']}")
    assert "(1 sources have none)" in out and f"no date: {tip['id']}" in out
    assert "source-checked (warning): 2" in out
    assert f"[source-checked] warning {item['id']}: source last checked 2025-01-15" in out


def test_secbot_content_report_is_the_same_report(capsys: pytest.CaptureFixture) -> None:
    from bot.cli import main as cli_main

    assert cli_main(["content", "report"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("secbot content report, ") and "Lint findings: 0" in out
