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
from content.library.problems import Problem, display_path
from content.library.yamlio import read_yaml, strip_lines

PLAYBOOK_DIR = Path(__file__).resolve().parent / "data" / "playbooks"

Phase = Literal["contain", "evidence", "recover", "communicate", "notify", "review"]
# Display order: evidence is kept before recovery deletes the rogue posts.
PHASES: tuple[Phase, ...] = ("contain", "evidence", "recover", "communicate", "notify", "review")
PHASE_LABELS: dict[str, str] = {
    "contain": "Contain",
    "evidence": "Preserve evidence",
    "recover": "Recover",
    "communicate": "Communicate",
    "notify": "Notify",
    "review": "Harden and review",
}


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class When(_Strict):
    """All given conditions must hold; within one, any listed value matches."""

    symptoms: list[str] = []
    severity: list[int] = []
    flags: list[str] = []

    def matches(self, symptoms: Iterable[str], severity: int | None, flags: Iterable[str]) -> bool:
        if self.symptoms and not set(self.symptoms) & set(symptoms):
            return False
        if self.severity and severity not in self.severity:
            return False
        return not (self.flags and not set(self.flags) & set(flags))


class Step(_Strict):
    id: NonEmpty
    phase: Phase
    text: LocalText
    link: str | None = None
    when: When | None = None
    source: Source

    def applies(self, symptoms: Iterable[str], severity: int | None, flags: Iterable[str]) -> bool:
        return self.when is None or self.when.matches(symptoms, severity, flags)


class PlaybookFile(_Strict):
    platform: NonEmpty  # "common" or a platform id from incidents.triage.PLATFORMS
    steps: list[Step]


@dataclass
class Playbooks:
    common: PlaybookFile
    overlays: dict[str, PlaybookFile] = field(default_factory=dict)

    def steps_for(
        self,
        platform: str | None,
        symptoms: Iterable[str] = (),
        severity: int | None = None,
        flags: Iterable[str] = (),
    ) -> list[Step]:
        """The checklist for one incident, in phase order."""
        symptoms, flags = list(symptoms), list(flags)
        overlay = self.overlays.get(platform or "")
        replaced = {s.id: s for s in overlay.steps} if overlay else {}
        steps = [replaced.pop(s.id, s) for s in self.common.steps]
        steps += [s for s in (overlay.steps if overlay else []) if s.id in replaced]
        chosen = [s for s in steps if s.applies(symptoms, severity, flags)]
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
    if result.error:
        return None, None, [Problem(where, result.error_line, "yaml", "-", result.error)]
    problems = [
        Problem(where, line, "yaml", "-", f"duplicate key {key!r}; only the last one would count")
        for line, key in result.duplicate_keys
    ]
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
