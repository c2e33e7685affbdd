"""The checklist message: one phase open at a time, a progress count, and at most
fifteen controls (a Done button per step with Skip, Assign and Need help in a menu).

Someone working an incident at 11 pm should see a short list they can finish, not
twenty steps and sixty buttons. So the message shows the phase being worked ("First
15 minutes" first), how far the whole checklist has got, and the other phases as one
line each. The next phase opens when the current one has no open steps, or when
someone presses "Show next phase". Like every incident message it is a pure function
of the stored state, so it can be redrawn at any time.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.core.actions import button_value
from bot.core.hints import typed
from bot.core.model import (
    Actions,
    Block,
    Button,
    Choice,
    Context,
    Heading,
    Menu,
    Message,
    PersonPicker,
    Place,
    Section,
    Select,
)
from incidents.cards import STEP_ASSIGN, drill, hhmm
from incidents.checklist_phases import in_order, phase_of, phases, rank, title
from incidents.store import Incident, StepState

# No message carries more than this many controls (buttons, menus, drop-downs).
MAX_CONTROLS = 15
# Steps of the phase listed without buttons (resolved ones, and open ones waiting for
# a free row), each kind at most this many; more are counted, so the message stays short.
MAX_WAITING = 8
# Slack shows at most 3,000 characters in a section; leave room for escaping.
MAX_SECTION_TEXT = 2800

SKIP_REASONS: tuple[tuple[str, str], ...] = (
    ("not-relevant", "Not relevant to this incident"),
    ("already-done", "Already done before the incident"),
    ("someone-else", "Someone else is handling it"),
    ("cannot", "We can't do it (no access or no permission)"),
    ("other", "Other (type the reason)"),
)
SKIP_LABELS = dict(SKIP_REASONS)
# What a step's menu offers, after its Done button: (verb, label).
STEP_MENU: tuple[tuple[str, str], ...] = (
    ("skip", "Skip…"),
    ("assign", "Assign…"),
    ("help", "Need help"),
)


def numbers(steps: list[StepState]) -> dict[str, int]:
    """Each step's number as the checklist shows it (1 is the first step to do)."""
    return {s.step_id: i for i, s in enumerate(in_order(steps), start=1)}


def current_phase(steps: list[StepState], chosen: str | None) -> str | None:
    """The phase being worked: the first with open steps, from the one someone chose
    with "Show next phase" on (or from the start). None when every step is resolved."""
    open_phases = [
        p for p in phases(steps) if any(s.is_open and phase_of(s.phase) == p for s in steps)
    ]
    if not open_phases:
        return None
    start = rank(chosen) if chosen else -1
    return next((p for p in open_phases if rank(p) >= start), open_phases[0])


def _line(s: StepState, number: int, tz: ZoneInfo) -> str:
    head = f"{number}. {s.text}"
    if s.status == "done":
        return f"✓ {head} — done by {s.by_name or s.by_key} at {hhmm(s.at, tz)}"
    if s.status == "skipped":
        return f"✗ {head} — skipped by {s.by_name or s.by_key}: {s.reason or ''}"
    line = f"☐ {head}"
    if s.link:
        line += f"\n{s.link}"
    if s.assignee:
        line += f"\nAssigned to {s.assignee_name or s.assignee}"
    if s.help_by:
        line += f"\nHelp asked for by {s.help_name or s.help_by} at {hhmm(s.help_at, tz)}"
    return line


def chunks(lines: list[str], limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Lines joined into as few texts as possible, each within ``limit`` characters,
    so no step is cut off mid-list."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        joined = f"{current}\n{line}" if current else line
        if current and len(joined) > limit:
            chunks.append(current)
            current = line
        else:
            current = joined
    if current:
        chunks.append(current)
    return chunks


def _step_row(inc: Incident, s: StepState, number: int) -> Actions:
    value = button_value(inc.id, s.step_id)
    menu = Menu(
        f"More for step {number}",  # the menu's name, read out by screen readers too
        "incident:step",
        tuple(Choice(label, button_value(inc.id, s.step_id, verb)) for verb, label in STEP_MENU),
    )
    done = Button(
        "Done", "incident:done", value, "primary", accessibility_label=f"Done: step {number}"
    )
    return Actions((done,), menu=menu)


def _overview(steps: list[StepState], current: str | None) -> str:
    """One line for the whole checklist: each phase with how far it has got."""
    parts = []
    for p in phases(steps):
        in_phase = [s for s in steps if phase_of(s.phase) == p]
        resolved = sum(not s.is_open for s in in_phase)
        if resolved == len(in_phase):
            parts.append(f"✓ {title(p)}")
        elif p == current:
            parts.append(f"▶ {title(p)} (now)")
        else:
            left = len(in_phase) - resolved
            parts.append(f"{title(p)}: {left} open")
    return " · ".join(parts)


def _navigation(inc: Incident, steps: list[StepState], current: str) -> list[Button]:
    """ "Show next phase" when a later phase has open steps, and a way back to an
    earlier phase someone left with steps still open."""
    open_phases = [
        p for p in phases(steps) if any(s.is_open and phase_of(s.phase) == p for s in steps)
    ]
    buttons = []
    later = [p for p in open_phases if rank(p) > rank(current)]
    if later:
        buttons.append(
            Button(
                f"Show next phase: {title(later[0])}",
                "incident:phase",
                button_value(inc.id, later[0]),
            )
        )
    earlier = [p for p in open_phases if rank(p) < rank(current)]
    if earlier:
        buttons.append(
            Button(
                f"Back to {title(earlier[0])}", "incident:phase", button_value(inc.id, earlier[0])
            )
        )
    return buttons


def checklist(
    inc: Incident, steps: list[StepState], tz: ZoneInfo, chosen: str | None = None
) -> Message:
    """The checklist message, redrawn in place after each click."""
    head = f"{drill(inc)}{inc.id} checklist"
    ordered = in_order(steps)
    number = numbers(steps)
    resolved = sum(not s.is_open for s in steps)
    progress = f"{resolved} of {len(steps)} done"
    current = current_phase(ordered, chosen) if inc.is_open else None
    blocks: list[Block] = [Heading(head)]
    small: list[str] = []
    if current is None:
        if inc.is_open:
            now = "Every step is done or skipped."
        else:
            now = "The incident is closed."
        blocks.append(Section(f"{progress}. {now}"))
        left = [s for s in ordered if s.is_open]
        if left:
            blocks += [
                Section(text)
                for text in chunks(
                    ["Not done when it closed:"] + [_line(s, number[s.step_id], tz) for s in left]
                )
            ]
        fallback = f"{head}: {progress}. {now}"
    else:
        in_phase = [s for s in ordered if phase_of(s.phase) == current]
        phase_done = sum(not s.is_open for s in in_phase)
        counts = f"{phase_done} of {len(in_phase)} done. Whole checklist: {progress}."
        blocks.append(Section(f"{title(current)}: {counts}"))
        nav = _navigation(inc, ordered, current)
        rows = (MAX_CONTROLS - len(nav)) // 2  # a Done button and a menu each
        finished = [s for s in in_phase if not s.is_open]
        done_lines = [_line(s, number[s.step_id], tz) for s in finished[-MAX_WAITING:]]
        if len(finished) > MAX_WAITING:
            earlier = len(finished) - MAX_WAITING
            done_lines.insert(0, f"{earlier} earlier steps in this phase are done or skipped.")
        blocks += [Section(text) for text in chunks(done_lines)]
        waiting: list[StepState] = []
        for s in (s for s in in_phase if s.is_open):
            if rows > 0:
                blocks += [
                    Section(_line(s, number[s.step_id], tz)),
                    _step_row(inc, s, number[s.step_id]),
                ]
                rows -= 1
            else:
                waiting.append(s)
        if waiting:
            listed = [_line(s, number[s.step_id], tz) for s in waiting[:MAX_WAITING]]
            if len(waiting) > MAX_WAITING:
                listed.append(f"…and {len(waiting) - MAX_WAITING} more steps in this phase.")
            blocks += [Section(text) for text in chunks(listed)]
            small.append("More buttons appear as steps are done.")
        if nav:
            blocks.append(Actions(tuple(nav)))
        open_here = len(in_phase) - phase_done
        fallback = (
            f"{head}: {progress}. Now: {title(current)}, {open_here} open "
            f"step{'s' if open_here != 1 else ''}."
        )
    small.insert(0, _overview(ordered, current))
    small.append(
        f"Status: {inc.status}. Every step is in the report: "
        f"{typed(inc.room or inc.origin, f'compromised report {inc.id}')}"
    )
    blocks.append(Context(tuple(small)))
    return Message(text=fallback, blocks=tuple(blocks))


def controls(msg: Message) -> int:
    """How many controls ``msg`` shows: each button, menu and drop-down counts once."""
    count = 0
    for blk in msg.blocks:
        if isinstance(blk, Actions):
            count += len(blk.buttons) + (blk.menu is not None)
        elif isinstance(blk, Select):
            count += 1
    return count


def skip_prompt(inc: Incident, step: StepState, number: int, place: Place | None = None) -> Message:
    where = place or inc.room or inc.origin
    text = (
        f"Why skip step {number}, “{step.text}”? Pick a reason, or type "
        f"{typed(where, f'compromised skip {inc.id} {number} <reason>')}."
    )
    choices = tuple(
        Choice(label, button_value(inc.id, step.step_id, code)) for code, label in SKIP_REASONS
    )
    return Message(
        text=text,
        blocks=(Section(text), Select("incident:reason", "Reason for skipping", choices)),
        private=True,
    )


def assign_prompt(
    inc: Incident, step: StepState, number: int, place: Place, people: tuple[Choice, ...] = ()
) -> Message:
    """Who should do a step: choose someone from the person picker, take it yourself,
    or name someone by typing."""
    text = (
        f"Who should do step {number}, “{step.text}”? Choose a person, take it yourself, "
        f"or type {typed(place, f'compromised assign {inc.id} {number} @person')}."
    )
    value = button_value(inc.id, step.step_id)
    picker = PersonPicker(STEP_ASSIGN, "Choose a person", value, people)
    take = Button("Assign to me", "incident:assign", value, "primary")
    return Message(text=text, blocks=(Section(text), picker, Actions((take,))), private=True)


def open_steps_list(steps: list[StepState]) -> list[str]:
    """Open steps by number and text, for the close confirmation."""
    number = numbers(steps)
    return [f"{number[s.step_id]}. {s.text}" for s in in_order(steps) if s.is_open]
