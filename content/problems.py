"""A lint problem and the error raised when content cannot be used."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: [{self.rule}] {self.id}: {self.message}"


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
