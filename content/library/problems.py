"""A lint problem and the error raised when content cannot be used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from content.library.yamlio import YamlResult


def display_path(path: Path | str) -> str:
    """Path relative to the working directory when possible, so reports stay short."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the content, located so an author can go straight to it."""

    path: str
    line: int | None
    rule: str
    id: str
    message: str
    # "error" stops the bot starting and fails the lint; "warning" is shown but does
    # not (an old `checked:` date needs a person to look, not a refusal to start).
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        note = "" if self.is_error else f" {self.severity}"
        return f"{where}: [{self.rule}]{note} {self.id}: {self.message}"


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def warnings(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if not p.is_error]


def format_report(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


class ContentError(Exception):
    """Raised at load time so the bot refuses to start on bad content, not mid-quiz."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        self.report = format_report(self.problems)
        super().__init__(
            f"{len(self.problems)} content problem(s):\n{self.report}"
            if self.problems
            else "content problem"
        )


def yaml_problems(where: str, result: YamlResult) -> list[Problem]:
    """A YAML file's own problems, before any schema: unreadable or not YAML (then the
    only one), or a key given twice (only the last would count)."""
    if result.error:
        return [Problem(where, result.error_line, "yaml", "-", result.error)]
    return [
        Problem(where, line, "yaml", "-", f"duplicate key {key!r}; only the last one would count")
        for line, key in result.duplicate_keys
    ]
