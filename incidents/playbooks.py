"""Recovery playbooks as data: what to do, phase by phase, for a compromised account.

The steps live in YAML in ``incidents/data/playbooks/``: ``common.yml``
applies to every platform; ``<platform>.yml`` overlays add steps, or replace a common
step that has the same id (for example the platform's own recovery route). A step's
``when`` limits it to some symptoms, severities or flags. ``incidents.playbook_lint``
checks the files and loads them (``load_playbooks``); the bot refuses to start if they fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.settings import ConfigError
from content.library.models import LocalText, NonEmpty, Source
from content.library.problems import Problem, display_path, yaml_problems
from content.library.yamlio import read_yaml, strip_lines
from incidents.triage import Answer, Facts

PLAYBOOK_DIR = Path(__file__).resolve().parent / "data" / "playbooks"

Phase = Literal["first", "contain", "recover", "communicate", "notify", "harden"]
PHASES: tuple[Phase, ...] = ("first", "contain", "recover", "communicate", "notify", "harden")
PHASE_LABELS: dict[str, str] = {
    "first": "First 15 minutes",
    "contain": "Contain",
    "recover": "Recover",
    "communicate": "Communicate",
    "notify": "Notify",
    "harden": "Harden and review",
}
# The names stored checklist rows had before (an incidents migration renames them).
OLD_PHASES: dict[str, Phase] = {"evidence": "first", "review": "harden"}
FIRST_LIMIT = 5  # "First 15 minutes" holds at most this many steps for any facts


def phase_of(name: str) -> Phase | None:
    """A stored phase name, old or new, as today's phase (None if unknown)."""
    name = OLD_PHASES.get(name, name)
    return name if name in PHASES else None  # type: ignore[return-value]


def phase_label(name: str) -> str:
    """What a phase is called on screen; an unknown name is shown as it is."""
    phase = phase_of(name)
    return PHASE_LABELS[phase] if phase else name


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class When(_Strict):
    """All given conditions must hold; within one, any listed value matches."""

    symptoms: list[str] = []
    severity: list[int] = []
    flags: list[str] = []
    kind: list[Literal["hijack", "impersonation"]] = []
    access: list[Answer] = []
    harmful: list[Answer] = []
    personal_data: list[Answer] = []

    def matches(self, facts: Facts) -> bool:
        if self.symptoms and not set(self.symptoms) & facts.symptoms:
            return False
        if self.flags and not set(self.flags) & facts.flags:
            return False
        singles = (
            (self.severity, facts.severity),
            (self.kind, facts.kind),
            (self.access, facts.access),
            (self.harmful, facts.harmful),
            (self.personal_data, facts.personal_data),
        )
        return all(not allowed or value in allowed for allowed, value in singles)


class Step(_Strict):
    id: NonEmpty
    phase: Phase
    text: LocalText
    link: str | None = None
    when: When | None = None
    source: Source

    def applies(self, facts: Facts) -> bool:
        return self.when is None or self.when.matches(facts)


class PlaybookFile(_Strict):
    platform: NonEmpty  # "common" or a platform id from incidents.triage.PLATFORMS
    steps: list[Step]


@dataclass
class Playbooks:
    common: PlaybookFile
    overlays: dict[str, PlaybookFile] = field(default_factory=dict)

    def steps_for(
        self,
        facts: Facts | str | None,
        symptoms: Iterable[str] = (),
        severity: int | None = None,
        flags: Iterable[str] = (),
    ) -> list[Step]:
        """The checklist for one incident, in phase order, file order within a phase
        (common steps first, then the overlay's own). Pass :class:`Facts`; the older
        form ``steps_for(platform, symptoms, severity, flags)`` still works."""
        if not isinstance(facts, Facts):
            facts = Facts.of(facts, symptoms, severity, flags)
        overlay = self.overlays.get(facts.platform or "")
        replaced = {s.id: s for s in overlay.steps} if overlay else {}
        steps = [replaced.pop(s.id, s) for s in self.common.steps]
        steps += [s for s in (overlay.steps if overlay else []) if s.id in replaced]
        chosen = [s for s in steps if s.applies(facts)]
        return sorted(chosen, key=lambda s: PHASES.index(s.phase))  # stable within a phase


class PlaybookError(ConfigError):
    """The playbooks failed lint; ``report`` lists every problem, one a line. A
    ConfigError, so start-up stops with the list instead of a traceback."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        self.report = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} playbook problem(s):\n{self.report}")


def playbook_files(directory: Path | None = None) -> list[Path]:
    directory = directory or PLAYBOOK_DIR
    return sorted({*directory.glob("*.yml"), *directory.glob("*.yaml")})


def read_playbook(path: Path) -> tuple[PlaybookFile | None, dict | None, list[Problem]]:
    """The parsed file, its raw YAML (with line numbers) and any schema problems."""
    where = display_path(path)
    result = read_yaml(path)
    problems = yaml_problems(where, result)
    if result.error:
        return None, None, problems
    if not isinstance(result.data, dict):
        return None, None, [Problem(where, 1, "schema", "-", "expected 'platform:' and 'steps:'")]
    try:
        model = PlaybookFile.model_validate(strip_lines(result.data))
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "file"
            ident = "-"
            steps = result.data.get("steps")
            if len(err["loc"]) > 1 and err["loc"][0] == "steps" and isinstance(steps, list):
                index = err["loc"][1]
                if isinstance(index, int) and index < len(steps) and isinstance(steps[index], dict):
                    ident = str(steps[index].get("id", "-"))
            problems.append(Problem(where, None, "schema", ident, f"{loc}: {err['msg']}"))
        return None, result.data, problems
    return model, result.data, problems
