"""Lint for the incident playbooks: ``python -m incidents.playbook_lint [FILES...]``.

The same checks run at start-up, so a broken playbook stops the bot instead of
showing a half-right checklist in the middle of an incident. Readability and UK
spelling reuse the content lint's helpers when they are installed.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

from content.library.problems import Problem, display_path
from content.library.yamlio import line_at
from incidents.playbooks import (
    PlaybookError,
    PlaybookFile,
    Playbooks,
    Step,
    playbook_files,
    read_playbook,
)
from incidents.triage import FLAGS, PLATFORM_LABELS, SYMPTOM_LABELS

try:  # reuse the content rules rather than copying them
    from content.library.readability import (
        MAX_SENTENCE_WORDS,
        MIN_READING_EASE,
        longest_sentence,
        reading_ease,
    )
except ImportError:  # pragma: no cover - content tools not installed
    reading_ease = None  # type: ignore[assignment]
try:
    from content.library.spelling import us_spellings
except ImportError:  # pragma: no cover
    us_spellings = None  # type: ignore[assignment]
try:  # one name for 2FA, platform names as the platforms write them
    from content.library.glossary import variants
except ImportError:  # pragma: no cover
    variants = None  # type: ignore[assignment]

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _https(url: str) -> bool:
    parsed = urlparse(url.strip())
    return parsed.scheme == "https" and bool(parsed.netloc) and not any(c.isspace() for c in url)


def check_step(step: Step, where: str, line: int | None) -> list[Problem]:
    problems: list[Problem] = []

    def bad(rule: str, message: str) -> None:
        problems.append(Problem(where, line, rule, step.id, message))

    if not ID_RE.match(step.id):
        bad("id-format", "id must be lowercase letters, digits and single hyphens")
    if step.link is not None and not _https(step.link):
        bad("link", f"link must be an https URL, not {step.link!r}")
    if not step.source.title.strip():
        bad("source", "source needs a title")
    if not _https(step.source.url):
        bad("source", f"source url must be an https URL, not {step.source.url!r}")
    when = step.when
    if when is not None:
        for s in when.symptoms:
            if s not in SYMPTOM_LABELS:
                bad("when", f"unknown symptom {s!r} (known: {', '.join(SYMPTOM_LABELS)})")
        for n in when.severity:
            if n not in (1, 2, 3, 4):
                bad("when", f"severity must be 1 to 4, not {n}")
        for f in when.flags:
            if f not in FLAGS:
                bad("when", f"unknown flag {f!r} (known: {', '.join(FLAGS)})")
    text = step.text.en
    if reading_ease is not None:
        score = reading_ease(text)
        if score < MIN_READING_EASE:
            bad(
                "reading-ease",
                f"text has Flesch reading ease {score:.1f}; at least {MIN_READING_EASE:g} "
                "needed (use shorter words and sentences)",
            )
        words, _ = longest_sentence(text)
        if words > MAX_SENTENCE_WORDS:
            bad("sentence-length", f"text has a {words}-word sentence (at most 30)")
    if us_spellings is not None:
        for us, uk in us_spellings(text):
            bad("uk-spelling", f"text uses US spelling {us!r}; write {uk!r}")
    if variants is not None:
        for variant, write in variants(text):
            bad("glossary", f"text says {variant!r}; write {write}")
    return problems


def check(paths: Iterable[Path]) -> tuple[Playbooks | None, list[Problem]]:
    """Read and check every file; the Playbooks only when there are no problems."""
    problems: list[Problem] = []
    common: PlaybookFile | None = None
    overlays: dict[str, PlaybookFile] = {}
    paths = list(paths)
    for path in paths:
        where = display_path(path)
        model, raw, found = read_playbook(path)
        problems += found
        if model is None:
            continue
        raw_steps = raw.get("steps") if isinstance(raw, dict) else None
        seen: set[str] = set()
        for i, step in enumerate(model.steps):
            line = line_at(raw, ("steps", i), None) if raw_steps else None
            if step.id in seen:
                problems.append(Problem(where, line, "unique-id", step.id, "id used twice"))
            seen.add(step.id)
            problems += check_step(step, where, line)
        if model.platform == "common":
            if common is not None:
                problems.append(Problem(where, 1, "platform", "-", "a second 'common' playbook"))
            common = model
        elif model.platform not in PLATFORM_LABELS:
            problems.append(
                Problem(
                    where,
                    1,
                    "platform",
                    "-",
                    f"unknown platform {model.platform!r} "
                    f"(use common or one of {', '.join(PLATFORM_LABELS)})",
                )
            )
        elif model.platform in overlays:
            problems.append(Problem(where, 1, "platform", "-", "a second overlay for platform"))
        else:
            overlays[model.platform] = model
    if common is None:
        where = display_path(paths[0].parent) if paths else "incidents/data/playbooks"
        problems.append(Problem(where, None, "platform", "-", "no common playbook found"))
    problems.sort(key=lambda p: (p.path, p.line or 0, p.rule, p.id))
    if problems or common is None:
        return None, problems
    return Playbooks(common, overlays), []


def load_playbooks(directory: Path | None = None) -> Playbooks:
    """Load and lint; raises PlaybookError listing every problem. It lives here, not
    in ``incidents.playbooks``, so the models never import their own lint."""
    playbooks, problems = check(playbook_files(directory))
    if problems or playbooks is None:
        raise PlaybookError(problems)
    return playbooks


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in argv] or playbook_files()
    playbooks, problems = check(paths)
    for problem in problems:
        print(problem)
    if playbooks is not None:
        count = len(playbooks.common.steps) + sum(len(o.steps) for o in playbooks.overlays.values())
        print(f"{count} playbook steps in {len(paths)} files; 0 problems")
    else:
        print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
