"""Lint for the incident playbooks: ``python -m incidents.playbook_lint [FILES...]``.

The same checks run at start-up, so a broken playbook stops the bot instead of
showing a half-right checklist in the middle of an incident. Readability and UK
spelling reuse the content lint's helpers when they are installed.

Errors (the lint fails and the bot will not start):

- a step's id, text (reading ease, sentence length, UK spelling, house terms), ``when``
  values, links and ``source`` (an https page with a title and a ``checked:`` date that
  is not in the future);
- **a platform step without a** ``link:``. A platform step is one that sends the reader
  to a platform's own pages, forms, settings or tools, where a frightened reader needs
  the official page rather than a search result (or a phishing copy). That is
  (1) every step in a platform overlay file (``x.yml``, ``facebook.yml``...): it is
  there because the platform does something its own way, so it links the platform's
  page; and (2) a step in ``common.yml`` whose text names a platform action, which the
  lint recognises by the word "platform" or a platform's name in the text ("use the
  platform's own recovery route"). Such a common step links general guidance that
  holds for every platform; an overlay replaces it (same id) with the platform's page.
  Steps that only involve people (tell the press office) may go without a link;
- **more than** ``FIRST_LIMIT`` **steps in "First 15 minutes"** for any platform and any
  combination of facts (kind, access, harmful, personal data, severity, every symptom
  and flag at once), so the first message a frightened reporter sees stays short.

Warnings (shown, but the lint passes and the bot starts): a ``checked:`` date more than
six months before today, because pages move and advice changes. ``today`` can be given
(tests do); it defaults to today in UTC.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

from content.library.problems import Problem, display_path, errors, warnings
from content.library.sources import checked_problem, today_utc
from content.library.yamlio import line_at
from incidents.playbooks import (
    FIRST_LIMIT,
    PlaybookError,
    PlaybookFile,
    Playbooks,
    Step,
    playbook_files,
    read_playbook,
)
from incidents.triage import ANSWERS, FLAGS, PLATFORM_LABELS, SYMPTOM_LABELS, Facts, Kind

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

log = logging.getLogger(__name__)

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A common step that names a platform action: "the platform's own recovery route",
# "report it to the platform", or a platform by name.
_PLATFORM_NAMES = [label for key, label in PLATFORM_LABELS.items() if key != "other"]
PLATFORM_ACTION = re.compile(
    r"\bplatforms?\b|\b(?:" + "|".join(map(re.escape, _PLATFORM_NAMES)) + r")\b"
)


def _https(url: str) -> bool:
    parsed = urlparse(url.strip())
    return parsed.scheme == "https" and bool(parsed.netloc) and not any(c.isspace() for c in url)


def is_platform_step(step: Step, platform: str) -> bool:
    """A step that must carry a link (see the module docstring for the rule)."""
    if platform != "common":
        return True
    return PLATFORM_ACTION.search(step.text.en) is not None


def check_step(
    step: Step, where: str, line: int | None, platform: str = "common", today: date | None = None
) -> list[Problem]:
    problems: list[Problem] = []

    def bad(rule: str, message: str, severity: str = "error") -> None:
        problems.append(Problem(where, line, rule, step.id, message, severity))

    if not ID_RE.match(step.id):
        bad("id-format", "id must be lowercase letters, digits and single hyphens")
    if step.link is not None and not _https(step.link):
        bad("link", f"link must be an https URL, not {step.link!r}")
    if step.link is None and is_platform_step(step, platform):
        owner = "in a platform's own file" if platform != "common" else "names a platform action"
        bad("link-missing", f"a platform step ({owner}) needs link: to the official page")
    if not step.source.title.strip():
        bad("source", "source needs a title")
    if not _https(step.source.url):
        bad("source", f"source url must be an https URL, not {step.source.url!r}")
    dated = checked_problem(step.source, today or today_utc(), required=True)
    if dated is not None:
        bad("source-checked", dated[1], dated[0])
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


def every_facts(platform: str | None) -> Iterable[Facts]:
    """Every combination of facts that can change how many steps apply. Symptoms and
    flags only ever add steps (a step matches when any listed value is present), so all
    of them at once is the worst case; the single-valued answers are tried one by one.
    Combinations triage never produces (impersonation while locked out) are included:
    the limit holds for any facts, not just today's triage rules."""
    kinds: tuple[Kind, ...] = ("hijack", "impersonation")
    for kind, access, harmful, personal, severity in itertools.product(
        kinds, ANSWERS, ANSWERS, ANSWERS, (None, 1, 2, 3, 4)
    ):
        yield Facts(
            platform=platform,
            kind=kind,
            symptoms=frozenset(SYMPTOM_LABELS),
            access=access,
            harmful=harmful,
            personal_data=personal,
            flags=frozenset(FLAGS),
            severity=severity,
        )


def _describe(facts: Facts) -> str:
    return (
        f"kind={facts.kind} access={facts.access} harmful={facts.harmful} "
        f"personal_data={facts.personal_data} severity={facts.severity}"
    )


def check_first_limit(playbooks: Playbooks, where: dict[str, str]) -> list[Problem]:
    """At most FIRST_LIMIT "First 15 minutes" steps for every platform and any facts;
    one problem per platform, naming the worst case."""
    problems: list[Problem] = []
    for platform in [None, *sorted(playbooks.overlays)]:
        worst: tuple[int, Facts, list[str]] | None = None
        for facts in every_facts(platform):
            first = [s.id for s in playbooks.steps_for(facts) if s.phase == "first"]
            if worst is None or len(first) > worst[0]:
                worst = (len(first), facts, first)
        if worst is not None and worst[0] > FIRST_LIMIT:
            count, facts, ids = worst
            problems.append(
                Problem(
                    where.get(platform or "common", "common"),
                    None,
                    "first-limit",
                    "-",
                    f"'First 15 minutes' has {count} steps (at most {FIRST_LIMIT}) for "
                    f"{_describe(facts)}: {', '.join(ids)}",
                )
            )
    return problems


_ANSWER_ERROR = "'yes', 'no' or 'unsure'"


def _explain(problem: Problem) -> Problem:
    """A bare yes or no in YAML is a boolean, which the schema refuses with a message
    that hides why; say so."""
    if problem.rule == "schema" and _ANSWER_ERROR in problem.message:
        hint = ' (write "yes" and "no" in quotes: bare, YAML reads them as true and false)'
        return dataclasses.replace(problem, message=problem.message + hint)
    return problem


def check(
    paths: Iterable[Path], today: date | None = None
) -> tuple[Playbooks | None, list[Problem]]:
    """Read and check every file: the Playbooks when there are no errors, and every
    problem, warnings included. ``today`` judges the age of ``checked:`` dates."""
    problems: list[Problem] = []
    common: PlaybookFile | None = None
    overlays: dict[str, PlaybookFile] = {}
    where_of: dict[str, str] = {}
    paths = list(paths)
    for path in paths:
        where = display_path(path)
        model, raw, found = read_playbook(path)
        problems += [_explain(p) for p in found]
        if model is None:
            continue
        raw_steps = raw.get("steps") if isinstance(raw, dict) else None
        seen: set[str] = set()
        for i, step in enumerate(model.steps):
            line = line_at(raw, ("steps", i), None) if raw_steps else None
            if step.id in seen:
                problems.append(Problem(where, line, "unique-id", step.id, "id used twice"))
            seen.add(step.id)
            problems += check_step(step, where, line, model.platform, today)
        if model.platform == "common":
            if common is not None:
                problems.append(Problem(where, 1, "platform", "-", "a second 'common' playbook"))
            common = model
            where_of["common"] = where
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
            where_of[model.platform] = where
    if common is None:
        where = display_path(paths[0].parent) if paths else "incidents/data/playbooks"
        problems.append(Problem(where, None, "platform", "-", "no common playbook found"))
    else:
        problems += check_first_limit(Playbooks(common, overlays), where_of)
    problems.sort(key=lambda p: (p.path, p.line or 0, p.rule, p.id))
    if errors(problems) or common is None:
        return None, problems
    return Playbooks(common, overlays), problems


def load_playbooks(directory: Path | None = None) -> Playbooks:
    """Load and lint; raises PlaybookError listing every error, and logs warnings (an
    old ``checked:`` date needs a person to look, not a refusal to start). It lives
    here, not in ``incidents.playbooks``, so the models never import their own lint."""
    playbooks, problems = check(playbook_files(directory))
    if errors(problems) or playbooks is None:
        raise PlaybookError(errors(problems))
    found = warnings(problems)
    if found:
        log.warning(
            "%d playbook warning(s); run `python -m incidents.playbook_lint` to see them, e.g. %s",
            len(found),
            found[0],
        )
    return playbooks


def main(argv: list[str] | None = None, today: date | None = None) -> int:
    """Print every problem; exit 1 on any error (warnings alone pass)."""
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in argv] or playbook_files()
    playbooks, problems = check(paths, today)
    for problem in problems:
        print(problem)
    failed = errors(problems)
    if playbooks is not None and not failed:
        count = len(playbooks.common.steps) + sum(len(o.steps) for o in playbooks.overlays.values())
        print(
            f"{count} playbook steps in {len(paths)} files; 0 problems"
            + (f", {len(problems)} warnings" if problems else "")
        )
    else:
        print(f"{len(failed)} problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
