"""The one button codec: how an action id and a button's value are written and read.

An action id is ``namespace:verb`` (``quiz:answer``); the router sends every id in a
namespace to the handler registered for it (``registry.add_action("quiz", ...)``). A
button's value carries the few fields its handler needs, joined by ``|``
(``button_value(post_id, choice)`` → ``"12|3"``); :func:`value_parts` reads it back, and
also reads values written with ``:`` by older quiz buttons still on people's screens.
Platforms that need each action id in a message to be unique (Slack) add a ``#n``
suffix when rendering: :func:`unique` writes it and :func:`plain` takes it off.
"""

from __future__ import annotations

SEPARATOR = "|"
_OLD_SEPARATOR = ":"
_UNIQUE = "#"


def action_id(namespace: str, verb: str) -> str:
    return f"{namespace}:{verb}"


def namespace(action: str) -> str:
    """``quiz`` for ``quiz:answer``."""
    return action.split(":", 1)[0]


def verb(action: str) -> str:
    """``answer`` for ``quiz:answer`` (empty for a bare namespace)."""
    return action.partition(":")[2]


def button_value(*parts: object) -> str:
    """The fields joined for a button's value; a field may not hold the separator."""
    texts = [str(p) for p in parts]
    if any(SEPARATOR in t for t in texts):
        raise ValueError(f"a button value field may not contain {SEPARATOR!r}")
    return SEPARATOR.join(texts)


def value_parts(value: str, count: int | None = None) -> tuple[str, ...] | None:
    """The fields of a button's value; None when ``count`` is given and does not match
    (a stale or forged click)."""
    sep = SEPARATOR if SEPARATOR in value or _OLD_SEPARATOR not in value else _OLD_SEPARATOR
    parts = tuple(value.split(sep)) if value else ()
    if count is not None and len(parts) != count:
        return None
    return parts


def value_ints(value: str, count: int) -> tuple[int, ...] | None:
    """``count`` small whole numbers, or None for anything else (never raises)."""
    parts = value_parts(value, count)
    if parts is None or not all(p.isascii() and p.isdigit() and len(p) < 10 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def unique(action: str, *index: int) -> str:
    """``quiz:answer#2.1``: unique within a message, for platforms that insist."""
    return f"{action}{_UNIQUE}{'.'.join(str(i) for i in index)}"


def plain(action: str) -> str:
    """The action id without a :func:`unique` suffix."""
    return action.split(_UNIQUE, 1)[0]
