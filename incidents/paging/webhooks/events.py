"""What a paging tool told us, in one shape whoever sent it: :class:`RemoteEvent`.

PagerDuty's V3 webhook (one event per call)::

    {"event": {"id": "01D…", "event_type": "incident.acknowledged",
               "resource_type": "incident", "occurred_at": "2026-12-04T19:05:00Z",
               "agent": {"id": "PLH1HKV", "summary": "Sam Jones", "type": "user_reference"},
               "data": {"id": "PGR0VU2", "type": "incident", "incident_key": "<dedup_key>",
                        "assignees": [{"summary": "…"}], …}}}

``incident.annotated`` carries an ``incident_note`` (``content`` and a reference to the
incident, without its key), so a note is matched through an earlier event of the same
PagerDuty incident. The generic callback (``/webhooks/paging``)::

    {"event": "incident.acknowledged", "id": "<unique per event>",
     "incident_id": "SEC-2026-0042", "by": {"id": "u-17", "name": "Sam Jones"},
     "tool": "On-call tool", "target": "security-webhook",
     "note": "for incident.annotated", "assignees": ["for incident.reassigned"]}

``tool`` is how people are told where it happened ("Acknowledged in On-call tool by Sam
Jones"); ``target``, when the tool is also a webhook target of the routing file, keeps
secbot from sending it back the acknowledgement it reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.inert import one_line

KINDS = {
    "incident.acknowledged": "acknowledged",
    "incident.resolved": "resolved",
    "incident.reassigned": "reassigned",
    "incident.annotated": "annotated",
    # Not acted on: it only links PagerDuty's incident id to ours, for later notes.
    "incident.triggered": "triggered",
}
ID_LIMIT = 255  # event ids, keys and people's ids: PagerDuty's own ids are far shorter
NAME_LIMIT = 100
TEXT_LIMIT = 600  # a note or a list of assignees, as the timeline shows it


@dataclass(frozen=True)
class RemoteEvent:
    """One event from a paging tool, every text made inert and cut to its limit."""

    source: str  # "pagerduty", or "callback" for the generic callback
    tool: str  # what people read: "PagerDuty", or the tool the callback names
    event_id: str
    kind: str  # acknowledged | resolved | reassigned | annotated | triggered
    dedup_key: str | None  # our incident's key, when the event carries it
    remote_incident: str | None  # the tool's own incident id, to match later notes
    by_id: str  # the person's id in the tool ("" when it was not a person)
    by_name: str  # their name ("" when not given)
    text: str = ""  # the note, or who it was reassigned to
    target: str | None = None  # the routing file's webhook target the callback came from

    @property
    def person_platform(self) -> str:
        """The platform part of the person's actor key (``pagerduty:PLH1HKV``)."""
        return self.source


def _text(value: Any, limit: int) -> str:
    return one_line(value, limit) if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """The first 20 items of a list, else none."""
    return value[:20] if isinstance(value, list) else []


def parse_pagerduty(body: Any) -> RemoteEvent | str:
    """The event, or why it is ignored (a plain reason for the log, no body text)."""
    event = _dict(_dict(body).get("event"))
    event_type = event.get("event_type")
    if event_type not in KINDS:
        return "an event type secbot does not use"
    event_id = _text(event.get("id"), ID_LIMIT)
    if not event_id:
        return "an event with no id"
    data = _dict(event.get("data"))
    agent = _dict(event.get("agent"))
    person = agent.get("type") == "user_reference"
    if event_type == "incident.annotated":
        dedup_key = None
        remote = _text(_dict(data.get("incident")).get("id"), ID_LIMIT)
        text = _text(data.get("content"), TEXT_LIMIT)
    else:
        dedup_key = _text(data.get("incident_key"), ID_LIMIT) or None
        remote = _text(data.get("id"), ID_LIMIT)
        names = [_text(_dict(a).get("summary"), NAME_LIMIT) for a in _list(data.get("assignees"))]
        text = one_line(", ".join(n for n in names if n), TEXT_LIMIT)
    return RemoteEvent(
        source="pagerduty",
        tool="PagerDuty",
        event_id=event_id,
        kind=KINDS[event_type],
        dedup_key=dedup_key,
        remote_incident=remote or None,
        by_id=_text(agent.get("id"), ID_LIMIT) if person else "",
        by_name=_text(agent.get("summary"), NAME_LIMIT) if person else "",
        text=text,
    )


def parse_callback(body: Any) -> RemoteEvent | str:
    """The generic callback's event (shape in the module docstring), or why not."""
    data = _dict(body)
    event_type = data.get("event")
    if event_type not in KINDS or event_type == "incident.triggered":
        return "an event type secbot does not use"
    event_id = _text(data.get("id"), ID_LIMIT)
    if not event_id:
        return "an event with no id"
    incident_id = _text(data.get("incident_id"), ID_LIMIT)
    if not incident_id:
        return "an event naming no incident"
    by = _dict(data.get("by"))
    if event_type == "incident.annotated":
        text = _text(data.get("note"), TEXT_LIMIT)
    else:
        names = [_text(a, NAME_LIMIT) for a in _list(data.get("assignees"))]
        text = one_line(", ".join(n for n in names if n), TEXT_LIMIT)
    return RemoteEvent(
        source="callback",
        tool=_text(data.get("tool"), 60) or "the paging tool",
        target=_text(data.get("target"), ID_LIMIT) or None,
        event_id=event_id,
        kind=KINDS[event_type],
        dedup_key=incident_id,
        remote_incident=None,
        by_id=_text(by.get("id"), ID_LIMIT),
        by_name=_text(by.get("name"), NAME_LIMIT),
        text=text,
    )
