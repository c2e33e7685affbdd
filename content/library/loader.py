"""Load built-in content plus an organisation's packs, refusing to start on bad content.

Problems are collected, never raised one at a time, so the ContentError an operator sees
at start-up lists everything to fix, in the same form as `secbot content lint`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .entry import Entry, Kind
from .models import MODULES, PLATFORM_LABELS, PRINCIPLES, QuizItem, Tip
from .problems import ContentError, Problem, display_path, errors, warnings, yaml_problems
from .rules import Counts, check_content, check_id, count
from .yamlio import KEY_LINES, LINE, line_at, read_yaml, strip_lines

__all__ = [
    "BUILTIN_DIR",
    "Checked",
    "ContentError",
    "ContentLibrary",
    "builtin_files",
    "check",
    "load_library",
    "pack_files",
]

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parents[1] / "data"
_SECTIONS: dict[str, Kind] = {"items": "quiz", "tips": "tip"}
_MODELS: dict[Kind, type[QuizItem] | type[Tip]] = {"quiz": QuizItem, "tip": Tip}


def builtin_files() -> list[Path]:
    """The shipped YAML, found beside this module so it works from an installed wheel."""
    return sorted((BUILTIN_DIR / "quiz").glob("*.yml")) + sorted(
        (BUILTIN_DIR / "tips").glob("*.yml")
    )


def pack_files(directory: Path) -> list[Path]:
    """Every YAML file under an organisation's content directory, in a stable order."""
    found = {*directory.rglob("*.yml"), *directory.rglob("*.yaml")}
    return sorted(p for p in found if p.is_file())


# --- reading -----------------------------------------------------------------------


def read_file(path: Path, builtin: bool) -> tuple[list[Entry], list[Problem]]:
    """Entries that passed the schema (retired ones have no model) and the problems."""
    where = display_path(path)
    result = read_yaml(path)
    problems = yaml_problems(where, result)
    if result.error:
        return [], problems
    data = result.data
    if not isinstance(data, dict) or not ({"items", "tips"} & data.keys()):
        problems.append(
            Problem(where, 1, "schema", "-", "expected a top-level 'items:' or 'tips:' list")
        )
        return [], problems
    for key in data.keys() - {"items", "tips", LINE, KEY_LINES}:
        problems.append(
            Problem(
                where, line_at(data, (key,), 1), "schema", "-", f"unknown top-level key {key!r}"
            )
        )
    entries: list[Entry] = []
    for section, kind in _SECTIONS.items():
        items = data.get(section)
        if section not in data or items is None:
            continue
        if not isinstance(items, list):
            line = line_at(data, (section,), 1)
            problems.append(Problem(where, line, "schema", "-", f"'{section}' must be a list"))
            continue
        for raw in items:
            entry, found = _parse_entry(raw, kind, where, builtin, line_at(data, (section,), 1))
            problems += found
            if entry is not None:
                entries.append(entry)
    return entries, problems


def _parse_entry(
    raw: Any, kind: Kind, where: str, builtin: bool, section_line: int | None
) -> tuple[Entry | None, list[Problem]]:
    if not isinstance(raw, dict):
        return None, [Problem(where, section_line, "schema", "-", "each entry must be a mapping")]
    line = raw.get(LINE)
    raw_id = raw.get("id")
    ident = (
        raw_id.strip() if isinstance(raw_id, str) and raw_id.strip() else f"<{kind} at line {line}>"
    )
    entry = Entry(kind=kind, id=ident, path=where, line=line, raw=raw, builtin=builtin)
    if raw.get("enabled") is False:
        # Retired: only the id matters. A pack can retire an item with just id + enabled.
        if ident != raw_id:
            return None, [entry.problem("schema", "missing field 'id'", "id")]
        return entry, check_id(entry)
    try:
        entry.model = _MODELS[kind].model_validate(strip_lines(raw))
    except ValidationError as exc:
        return None, [_schema_problem(entry, err) for err in exc.errors()]
    return entry, []


def _schema_problem(entry: Entry, err: Any) -> Problem:
    loc = tuple(err["loc"])
    dotted = ".".join(str(part) for part in loc) or "item"
    if err["type"] == "missing":
        message = f"missing field {dotted!r}"
    elif err["type"] == "extra_forbidden":
        message = f"unknown field {dotted!r}"
    else:
        message = f"{dotted}: {err['msg']} (got {err.get('input')!r})"
    return entry.problem("schema", message, *loc)


# --- merging -----------------------------------------------------------------------


@dataclass
class Checked:
    """Result of reading, merging and linting: live entries plus every problem found."""

    quiz: dict[str, Entry] = field(default_factory=dict)
    tips: dict[str, Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    added: int = 0
    overridden: int = 0
    retired: int = 0

    def library(self) -> ContentLibrary:
        return ContentLibrary(
            {k: e.model for k, e in self.quiz.items() if isinstance(e.model, QuizItem)},
            {k: e.model for k, e in self.tips.items() if isinstance(e.model, Tip)},
        )


def _merge(kind: Kind, base: list[Entry], packs: list[Entry], out: Checked) -> dict[str, Entry]:
    live: dict[str, Entry] = {}
    known: dict[str, Entry] = {}
    for entry in base:
        if entry.id in known:
            out.problems.append(_duplicate(entry, known[entry.id]))
            continue
        known[entry.id] = entry
        if entry.model is not None:
            live[entry.id] = entry
    in_packs: dict[str, Entry] = {}
    for entry in packs:
        if entry.id in in_packs:
            out.problems.append(_duplicate(entry, in_packs[entry.id]))
            continue
        in_packs[entry.id] = entry
        if entry.model is None:
            if entry.id not in known:
                out.problems.append(
                    entry.problem(
                        "unknown-id",
                        "enabled: false retires nothing: no built-in item has this id",
                        "id",
                    )
                )
            elif live.pop(entry.id, None) is not None:
                out.retired += 1
            continue
        if entry.id in known:
            out.overridden += 1
        else:
            out.added += 1
        live[entry.id] = entry
    return live


def _duplicate(entry: Entry, first: Entry) -> Problem:
    return entry.problem("unique-id", f"id already used at {first.where}", "id")


def check(base: Iterable[Path], packs: Iterable[Path] = (), today: date | None = None) -> Checked:
    """Read `base` files, apply `packs` on top (same id overrides, enabled: false retires),
    then run every rule over the merged result. Counts are not checked here. ``today``
    judges how old `checked:` dates are (UTC today unless a test gives one)."""
    out = Checked()
    read: dict[bool, list[Entry]] = {True: [], False: []}
    for builtin, paths in ((True, base), (False, packs)):
        for path in paths:
            entries, problems = read_file(path, builtin)
            read[builtin] += entries
            out.problems += problems
    for kind in ("quiz", "tip"):
        live = _merge(
            kind,
            [e for e in read[True] if e.kind == kind],
            [e for e in read[False] if e.kind == kind],
            out,
        )
        if kind == "quiz":
            out.quiz = live
        else:
            out.tips = live
    out.problems += check_content(list(out.quiz.values()), list(out.tips.values()), today)
    out.problems.sort(key=lambda p: (p.path, p.line or 0, p.rule, p.id))
    return out


# --- the library the bot uses ------------------------------------------------------


class ContentLibrary:
    """Merged, lint-clean content. Read-only by convention: the bot never edits content."""

    def __init__(self, quiz_items: dict[str, QuizItem], tips: dict[str, Tip]):
        self.quiz_items = quiz_items
        self.tips = tips
        self.version = _version(quiz_items, tips)

    def __repr__(self) -> str:
        return (
            f"ContentLibrary({len(self.quiz_items)} quiz items, {len(self.tips)} tips, "
            f"version {self.version})"
        )

    def item(self, item_id: str) -> QuizItem | None:
        """None for unknown ids: stored progress may name an item since retired."""
        return self.quiz_items.get(item_id)

    def tip(self, tip_id: str) -> Tip | None:
        return self.tips.get(tip_id)

    def tags(self) -> list[str]:
        """Tags that have at least one quiz item: modules, then principles, then topics,
        then platforms."""
        used: set[str] = set()
        for item in self.quiz_items.values():
            used |= item.tags()
        modules = [m for m in MODULES if m in used]
        principles = [p for p in PRINCIPLES if p in used]
        platforms = [p for p in PLATFORM_LABELS if p in used]
        topics = sorted(used - set(MODULES) - set(PRINCIPLES) - set(platforms))
        return modules + principles + topics + platforms

    def items_for_tag(self, tag: str) -> list[QuizItem]:
        """Quiz items whose module, principle or topics match `tag` (case-insensitive)."""
        tag = tag.strip().lower()
        return [item for item in self.quiz_items.values() if tag in item.tags()]

    def tips_for_tag(self, tag: str) -> list[Tip]:
        tag = tag.strip().lower()
        return [tip for tip in self.tips.values() if tag in tip.tags()]

    def counts(self) -> Counts:
        return count(self.quiz_items.values(), self.tips.values())


def _version(quiz_items: dict[str, QuizItem], tips: dict[str, Tip]) -> str:
    """Short hash of the merged content, so a completion can record what was asked."""
    canonical = {
        "quiz": [quiz_items[k].model_dump(mode="json") for k in sorted(quiz_items)],
        "tips": [tips[k].model_dump(mode="json") for k in sorted(tips)],
    }
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def load_library(extra_dir: Path | None = None) -> ContentLibrary:
    """Built-in content merged with `extra_dir` (e.g. SECBOT_CONTENT_DIR).

    Raises ContentError, whose `.report` is the full lint text, if anything is wrong.
    """
    packs: list[Path] = []
    if extra_dir is not None:
        extra_dir = Path(extra_dir)
        if not extra_dir.is_dir():
            raise ContentError(
                [Problem(str(extra_dir), None, "path", "-", "content directory does not exist")]
            )
        packs = pack_files(extra_dir)
    checked = check(builtin_files(), packs)
    if errors(checked.problems):
        raise ContentError(errors(checked.problems))
    found = warnings(checked.problems)
    if found:
        # Old `checked:` dates and the like: someone should look, but the bot still runs.
        log.warning(
            "%d content warning(s); run `secbot content lint` to see them, e.g. %s",
            len(found),
            found[0],
        )
    return checked.library()
