"""One quiz item or tip as read from a file, remembering where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .models import QuizItem, Tip
from .problems import Problem
from .yamlio import line_at

Kind = Literal["quiz", "tip"]


@dataclass
class Entry:
    """Keeps the raw YAML (with line numbers) beside the model so rules can point at a
    field's own line, e.g. the third option, rather than just the item."""

    kind: Kind
    id: str
    path: str
    line: int | None
    raw: dict[str, Any]
    model: QuizItem | Tip | None = None
    builtin: bool = True

    def line_of(self, *keys: str | int) -> int | None:
        return line_at(self.raw, keys, self.line)

    def problem(
        self, rule: str, message: str, *keys: str | int, severity: str = "error"
    ) -> Problem:
        return Problem(self.path, self.line_of(*keys), rule, self.id, message, severity)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"
