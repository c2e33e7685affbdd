"""The repo's one YAML loader: safe, strict about keys given twice, and remembering line
numbers so every problem can say `file:line`. The content library, the incident playbooks
and the paging routing file all read their YAML through it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LINE = "__line__"
KEY_LINES = "__key_lines__"

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineLoader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader that tags each mapping with its own line and the line of each key.

    Duplicate keys are collected rather than silently overwritten: PyYAML keeps the last
    one, which would quietly throw away an author's text.
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        mapping = super().construct_mapping(node, deep=deep)
        key_lines: dict[str, int] = {}
        for key_node, _ in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in key_lines:
                self.duplicate_keys.append((line, key))
            key_lines[key] = line
        mapping[LINE] = node.start_mark.line + 1
        mapping[KEY_LINES] = key_lines
        return mapping


@dataclass
class YamlResult:
    """The parsed data, or why there is none: ``error`` for a report, with the parser's own
    ``reason`` and where it stopped; ``too_deep`` when the nesting is beyond any sane file."""

    data: Any = None
    error: str | None = None
    error_line: int | None = None
    error_column: int | None = None
    reason: str | None = None
    too_deep: bool = False
    duplicate_keys: list[tuple[int, str]] = field(default_factory=list)


def parse_yaml(text: str) -> YamlResult:
    """Parse YAML text; syntax errors come back as data, not exceptions, for the report.
    Mappings keep their lines (strip them with :func:`strip_lines`)."""
    loader = LineLoader(text)
    try:
        data = loader.get_single_data()
    except RecursionError:
        reason = "it nests too deeply"
        return YamlResult(error=f"YAML syntax error: {reason}", reason=reason, too_deep=True)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        return YamlResult(
            error=f"YAML syntax error: {reason}",
            error_line=mark.line + 1 if mark is not None else None,
            error_column=mark.column + 1 if mark is not None else None,
            reason=reason,
            # libyaml's own limit (the pure-Python parser raises RecursionError instead).
            too_deep="maximum nesting depth" in reason,
        )
    finally:
        loader.dispose()
    return YamlResult(data=data, duplicate_keys=loader.duplicate_keys)


def read_yaml(path: Path) -> YamlResult:
    """Parse one file (see :func:`parse_yaml`); an unreadable file is an error too."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return YamlResult(error=f"cannot read file: {exc}", error_line=None)
    return parse_yaml(text)


def load_config_file(path: Path, what: str, setting: str, error: type[Exception]) -> Any:
    """An operator's YAML file (the routing file, the teams file) read and parsed, with
    one plain line for each way it can be wrong: missing, not UTF-8, unreadable, too
    deep, not YAML (line and column), a key given twice. ``what`` names the file ("routing
    file"), ``setting`` the variable that points at it; problems raise ``error``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} {path} was not found: set {setting} to your {what}") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as e:
        raise error(f"{what} {path} can't be read ({e.strerror})") from None
    result = parse_yaml(text)
    if result.too_deep:
        raise error(f"{what} {path} nests too deeply to be a {what}")
    if result.error is not None:
        where = (
            f" at line {result.error_line}, column {result.error_column}"
            if result.error_line
            else ""
        )
        raise error(f"{what} {path} is not valid YAML{where}: {result.reason}")
    if result.duplicate_keys:
        line, key = result.duplicate_keys[0]
        raise error(
            f"{what} {path} is not valid YAML at line {line}: the key {key!r} is given twice"
        )
    return strip_lines(result.data)


def strip_lines(value: Any) -> Any:
    """Copy of parsed YAML without the line annotations, ready for pydantic."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in (LINE, KEY_LINES)}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def line_at(value: Any, path: tuple[str | int, ...], default: int | None) -> int | None:
    """Best line for a location like ("options", 2, "text"): as deep as the data goes."""
    line = value.get(LINE, default) if isinstance(value, dict) else default
    for step in path:
        if isinstance(value, dict) and isinstance(step, str) and step in value:
            line = value.get(KEY_LINES, {}).get(step, line)
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
            if isinstance(value, dict):
                line = value.get(LINE, line)
        else:
            break
    return line
