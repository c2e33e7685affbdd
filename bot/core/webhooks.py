"""Signed calls from other services (a paging tool saying someone acknowledged), in
neutral terms.

A feature registers a receiver for a path with ``host.add_webhook(path, receiver)``;
the HTTP door (``bot/http/webhooks.py``) reads the raw body (signatures are over the
exact bytes sent), hands it over as an :class:`Inbound` and answers with the
receiver's :class:`Answer`. The door knows nothing of signatures or incidents: the
receiver checks the signature itself, because only it knows the secrets.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def _plain_json(body: bytes) -> Any:
    return json.loads(body)


@dataclass(frozen=True)
class Inbound:
    """One POST: the raw body, its headers and the path's named parts.

    ``json()`` parses the body the door's way (UTF-8 JSON only, nesting limited; a
    refusal is the door's 4xx): call it only after the signature has been checked."""

    body: bytes
    headers: Mapping[str, str]
    params: Mapping[str, str] = field(default_factory=dict)
    parser: Callable[[bytes], Any] = _plain_json

    def json(self) -> Any:
        return self.parser(self.body)


@dataclass(frozen=True)
class Answer:
    """What the door answers: an HTTP status and a small JSON body (no secrets, no
    text from the request)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


Receiver = Callable[[Inbound], Awaitable[Answer]]
