"""The platform-neutral event and message model.

Handlers read an :class:`Incoming` and answer with :class:`Message` objects; the
adapters translate both ways. Keeping every platform detail out of these types is
what lets one handler serve Slack, Teams and the web chat alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.core.inert import one_line

Platform = Literal["slack", "teams", "web"]
MAX_NAME = 100


@dataclass(frozen=True)
class Actor:
    """Who did something. ``user_id`` is the platform's own stable id."""

    platform: str
    user_id: str
    name: str = ""

    def __post_init__(self) -> None:
        # A display name is text its owner typed: made inert (no bidi or control
        # characters) and bounded once, here, for every platform.
        object.__setattr__(self, "name", one_line(self.name, MAX_NAME))

    @property
    def key(self) -> str:
        """A globally unique id, safe to store and compare across platforms."""
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Place:
    """Where it happened: a workspace or tenant, and a channel or conversation.

    ``workspace`` is the Slack team id, the Teams tenant id or ``local`` (web chat).
    ``enterprise`` is the Slack Enterprise Grid org id when there is one: the tenant an
    incident belongs to (see ``bot.core.tenancy``). It is left out of comparisons, so a
    place rebuilt from storage without it is still the same place.
    """

    platform: str
    workspace: str
    channel: str
    is_direct: bool = False
    thread: str | None = None
    enterprise: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.channel}"

    # The one "where to post" codec: what a store keeps to rebuild a place later. The
    # Grid org (``enterprise``) is not kept: records keep their tenant separately.
    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "workspace": self.workspace,
            "channel": self.channel,
            "is_direct": self.is_direct,
            "thread": self.thread,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Place:
        """A place from :meth:`to_dict` (or a row's columns by those names); KeyError or
        ValueError when there is no platform or channel."""
        platform, channel = str(data["platform"] or ""), str(data["channel"] or "")
        if not platform or not channel:
            raise ValueError("a place needs a platform and a channel")
        thread = data.get("thread")
        return cls(
            platform,
            str(data.get("workspace") or ""),
            channel,
            is_direct=bool(data.get("is_direct", False)),
            thread=str(thread) if thread else None,
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Place:
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True)
class MessageRef:
    """A handle on a message already posted, so it can be updated later.

    ``id`` is the Slack ``ts``, the Teams activity id or the web chat message id.
    """

    place: Place
    id: str


@dataclass(frozen=True)
class SharedMessage:
    """A message someone chose to act on (Slack's message shortcut, a Teams message
    action, the web chat's per-message action). ``author`` is named where the platform
    named them (else the domain looks them up); ``text`` is as written, not yet inert;
    ``key`` is stable for the one message (so adding it twice is seen as the same)."""

    key: str
    author: Actor
    text: str
    at: datetime | None = None
    link: str = ""
    incident: str = ""  # which incident, where the platform's form asked (Teams)


@dataclass(frozen=True)
class FileRef:
    """A file someone shared in a conversation, as the platform described it. The
    transport that made it fetches its bytes (``Transport.download``); ``source`` is
    where, and is the adapter's business alone."""

    platform: str
    id: str
    name: str
    size: int | None = None
    source: str = ""


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: a command, a button click, free text, or files shared
    (``kind="files"``: routed to the registry's file listeners, silent when none wants
    them)."""

    actor: Actor
    place: Place
    kind: Literal["command", "action", "text", "files"]
    delivery_id: str
    command: str = ""
    args: str = ""
    action_id: str = ""
    value: str = ""
    text: str = ""
    message: MessageRef | None = None
    form: dict[str, str] = field(default_factory=dict)
    shared: SharedMessage | None = None  # the message a message action was used on
    files: tuple[FileRef, ...] = ()
    # People the text names by a platform mention (Teams sends these as entities beside
    # the text): their platform id -> the name the platform gave. In ``text`` each one
    # reads ``<@id>``, one word, as Slack's escaped mentions do.
    mentions: dict[str, str] = field(default_factory=dict)
    # The platform already has its answer (Slack's acknowledgement went out before the
    # handler ran), so nothing is waiting for the handler to finish: work that only
    # tidies up afterwards (merging a count edit) need not hold the handler open.
    acknowledged: bool = False
    # The action is a submitted dialog (a Slack modal's submit button, see
    # ``Message.dialog``): the form it came from is closed or closing, so an answer that
    # needs the form again (a field to correct) sends the form again.
    dialog: bool = False


# --- outgoing -------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """A button. ``accessibility_label`` is what a screen reader says instead of a short
    label ("A" → "A: Turn on two-step verification"); ``pressed`` marks an on/off toggle
    (True or False; None for a plain button), so the web chat can say aria-pressed."""

    label: str
    action_id: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None
    accessibility_label: str = ""
    pressed: bool | None = None


@dataclass(frozen=True)
class Choice:
    label: str
    value: str


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Section:
    """A paragraph of plain text, optionally with label/value fields.

    Text is plain: renderers escape it for the target markup, so user-supplied text
    can never inject mrkdwn, Markdown or HTML.
    """

    text: str = ""
    fields: tuple[tuple[str, str], ...] = ()


def line_sections(lines: Sequence[str], per: int) -> tuple[Section, ...]:
    """``lines`` one to a line, ``per`` lines to a section. A long list in one section
    would be cut off (Slack shows 3,000 characters of a section), so each caller picks
    ``per`` from how long its lines can be."""
    return tuple(Section("\n".join(lines[i : i + per])) for i in range(0, len(lines), per))


@dataclass(frozen=True)
class Menu:
    """A small menu of more choices, shown after a row's buttons: Slack's overflow
    menu, a Teams ``Action.ShowCard``, a drop-down in the web chat. It counts as one
    control however many choices it holds, so a row of a few buttons stays short.
    The chosen value arrives as an action with ``action_id``."""

    label: str
    action_id: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class Actions:
    buttons: tuple[Button, ...]
    menu: Menu | None = None  # after the buttons


@dataclass(frozen=True)
class Select:
    """A drop-down: the chosen value arrives as an action with ``action_id``."""

    action_id: str
    placeholder: str
    choices: tuple[Choice, ...]


# The form field a :class:`PersonPicker`'s choice arrives in (the person's platform id).
PERSON_FIELD = "person"


@dataclass(frozen=True)
class PersonPicker:
    """Pick one person: Slack's user menu, a Teams people picker, a list in the web chat.

    The choice arrives as an action with ``action_id`` and this ``value`` (what the
    handler needs to know, such as the incident), and the chosen person's platform user
    id in ``form[PERSON_FIELD]``. ``choices`` (label: the name, value: the user id) is
    the list for a platform with no picker of its own (the web chat); the others ignore
    it."""

    action_id: str
    placeholder: str
    value: str = ""
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class TextInput:
    """A short typed field in a message (a Slack input block, an Adaptive Card
    ``Input.Text``, a web chat text box). What was typed arrives with the next button
    click on the same message, in ``Incoming.form[name]``."""

    name: str
    label: str
    placeholder: str = ""
    max_length: int = 200
    multiline: bool = False  # a box for a paragraph (a holding statement), not one line
    initial: str = ""  # words the box starts with, to edit (plain; made inert)


@dataclass(frozen=True)
class Context:
    """Small print: sources, counts, hints."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Divider:
    pass


Block = Heading | Section | Actions | Select | PersonPicker | TextInput | Context | Divider


@dataclass(frozen=True)
class Message:
    """A message as the core means it; ``text`` is the plain-text fallback.

    ``private`` shows it to the acting person only (Slack ephemeral, Teams
    user-scoped card or personal chat, web chat private). ``replace_original``
    swaps the message the button was on.

    ``dialog`` (a title) asks for a form to be shown as a dialog where the platform has
    one: a Slack modal, opened for the person whose command or click this answers. Its
    primary button is the dialog's submit, and submitting arrives as that button's
    action with what was typed in ``Incoming.form`` (and ``Incoming.dialog`` set). Where
    there is no dialog (Teams, the web chat, or a Slack modal that could not open in
    time) the same message is shown as usual, so a form works either way.

    ``field_errors`` (input name, what is wrong) says which typed fields of a submitted
    form to correct: a dialog still open shows each by its field (Slack's
    ``response_action: errors``); everywhere else the message itself is shown.
    """

    text: str
    blocks: tuple[Block, ...] = ()
    private: bool = False
    replace_original: bool = False
    attachment: tuple[str, str] | None = None  # (filename, text content)
    dialog: str = ""
    field_errors: tuple[tuple[str, str], ...] = ()

    def buttons(self) -> list[Button]:
        return [b for blk in self.blocks if isinstance(blk, Actions) for b in blk.buttons]


def message(text: str, *blocks: Block, private: bool = False) -> Message:
    """Shorthand for the common case."""
    return Message(text=text, blocks=tuple(blocks), private=private)
