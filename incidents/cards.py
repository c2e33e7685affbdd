"""The messages the incident flow shows: the triage card (which becomes the incident
card) and small replies; the checklist is ``incidents.checklist_view``. Pure functions
of the stored state, so any message can be redrawn at any time (after a restart, a
click, a severity change).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.actions import button_value
from bot.core.hints import typed
from bot.core.model import (
    Actions,
    Block,
    Button,
    Context,
    Heading,
    Message,
    Section,
)
from incidents.store import Incident
from incidents.triage import (
    ANSWER_LABELS,
    NOT_SURE,
    PLATFORM_LABELS,
    PLATFORMS,
    QUESTIONS,
    SEVERITY_LABELS,
    STEPS,
    SYMPTOM_LABELS,
    SYMPTOMS,
    platform_in_words,
)

# Open incidents listed one to a section; more are counted, not shown.
MAX_LISTED = 40

# Person pickers (incidents/desk/handover.py): hand over as commander (value: incident
# id) and give a checklist step to someone (value: incident id | step id). Sent without a
# person, each shows the picker.
HANDOVER = "incident.handover"
STEP_ASSIGN = "incident.step.assign"

def drill(inc: Incident) -> str:
    return "DRILL — " if inc.drill else ""


def hhmm(when: datetime | None, tz: ZoneInfo) -> str:
    """ "10:00 BST": with the zone, so a card read across the clocks changing (or by
    someone abroad) is never an hour out."""
    return when.astimezone(tz).strftime("%H:%M %Z") if when else ""


def platform_label(inc: Incident) -> str:
    return PLATFORM_LABELS.get(inc.platform or "", "Not chosen yet")


def account_label(inc: Incident) -> str:
    return inc.account or "not given yet"


def yes_no(value: bool | None) -> str:
    return {True: "Yes", False: "No", None: "—"}[value]


def answered(word: str | None, old: bool | None) -> str:
    """A triage answer as shown: Yes, No or Not sure (the old yes/no column for an
    incident triaged before "Not sure" existed)."""
    return ANSWER_LABELS.get(word or "", yes_no(old))


# Yes, No and Not sure, for the questions that have nothing else.
def _answers(inc: Incident, step: str) -> Actions:
    return Actions(
        tuple(
            Button(label, "incident:triage", button_value(inc.id, step, answer))
            for answer, label in ANSWER_LABELS.items()
        )
    )


def _not_sure(inc: Incident, step: str) -> Button:
    return Button("Not sure", "incident:triage", button_value(inc.id, step, NOT_SURE))


_QUESTIONS = {
    "access": "Can someone on our team still log in to the account and manage it?",
    "harmful": "Is anything harmful showing on the account right now, such as posts "
    "we didn't send or links to fake pages?",
    "personal": "Could someone else have read the account's direct messages, or any "
    "personal information about people?",
}
_FAKE_ONLY_ACCESS = (
    "Can someone on our team still log in to our own account (not the fake one) and manage it?"
)


def triage_card(inc: Incident) -> Message:
    """The one card a triage happens on; each answer redraws it in place. Every
    question can be answered "Not sure"; ``incidents.triage`` reads that cautiously."""
    title = f"{drill(inc)}Compromised account: {inc.id}"
    facts = [("Platform", platform_label(inc)), ("Account", account_label(inc))]
    if inc.symptoms:
        facts.append(("What is happening", ", ".join(SYMPTOM_LABELS[s] for s in inc.symptoms)))
    blocks: list[Block] = [Heading(title), Section("", fields=tuple(facts))]
    step = inc.triage_step
    number = STEPS.index(step) + 1 if step in STEPS else 0
    of = f"Question {number} of {QUESTIONS}."
    if not inc.is_open:
        question = "This report was closed before triage finished."
        blocks.append(Section(question))
    elif step == "platform":
        question = "Which platform is the account on?"
        buttons = tuple(
            Button(label, "incident:triage", button_value(inc.id, "platform", pid))
            for pid, label in PLATFORMS
        )
        blocks += [Section(f"{of} {question}"), Actions((*buttons, _not_sure(inc, step)))]
    elif step == "symptoms":
        question = "What is happening? Pick all that apply, then press Next."
        toggles = []
        for sid, label in SYMPTOMS:
            chosen = sid in inc.symptoms
            toggles.append(
                Button(
                    ("✓ " if chosen else "") + label,
                    "incident:triage",
                    button_value(inc.id, "symptoms", f"{sid}:{'off' if chosen else 'on'}"),
                    style="primary" if chosen else None,
                )
            )
        nxt = Button("Next", "incident:triage", button_value(inc.id, "symptoms", "next"), "primary")
        blocks += [
            Section(f"{of} {question} If you're not sure, press Not sure."),
            Actions(tuple(toggles)),
            Actions((nxt, _not_sure(inc, step))),
        ]
    elif step in _QUESTIONS:
        question = _QUESTIONS[step]
        if step == "access" and set(inc.symptoms) == {"impersonation"}:
            question = _FAKE_ONLY_ACCESS
        blocks += [Section(f"{of} {question}"), _answers(inc, step)]
    else:
        question = ""
    hints = []
    if not inc.account and inc.is_open:
        hints.append(account_hint(inc))
    hints.append("Your answers are saved as you go. If you don't know an answer, press Not sure.")
    blocks.append(Context(tuple(hints)))
    text = f"{title}. {question}".strip()
    return Message(text=text, blocks=tuple(blocks))


def account_hint(inc: Incident) -> str:
    example = "@ouraccount" if inc.triage_step != "done" else f"{inc.id} @ouraccount"
    return "Which account is it? Type its name after the command, for example: " + typed(
        inc.origin, f"compromised handle {example}"
    )


def room_note(inc: Incident) -> str:
    """Where the incident is being worked, when that is not right here."""
    room = inc.room
    if room is None:
        return ""
    if room.channel != inc.origin.channel:
        return f"The incident is being worked in the private channel #{channel_name(inc)}."
    if room.thread:
        return "The checklist is in the thread."
    return ""


def channel_name(inc: Incident) -> str:
    return ("drill-" if inc.drill else "") + inc.id.lower()


def incident_card(inc: Incident, tz: ZoneInfo, extra: tuple[Block, ...] = ()) -> Message:
    """The record at a glance; the triage card turns into this when triage is done.
    ``extra`` are blocks other jobs add under the facts (the ICO clock's deadline)."""
    if inc.triage_step != "done":
        return triage_card(inc)
    platform = platform_in_words(inc.platform)  # "X", or "social media" when not known
    platform = platform[0].upper() + platform[1:]
    title = f"{drill(inc)}{inc.id}: {platform} account {account_label(inc)}"
    if inc.acked_at:
        acked = f"By {inc.acked_by_name or inc.acked_by} at {hhmm(inc.acked_at, tz)}"
    else:
        acked = "Not yet"
    facts = (
        ("Severity", SEVERITY_LABELS.get(inc.severity or 0, "—")),
        ("Status", inc.status.capitalize()),
        ("Commander", inc.commander_name or inc.commander),
        ("Reporter", inc.reporter_name or inc.reporter),
        ("What is happening", ", ".join(SYMPTOM_LABELS[s] for s in inc.symptoms) or "—"),
        ("We can still log in", answered(inc.access, inc.has_access)),
        ("Harmful content live", answered(inc.harmful, inc.harmful_live)),
        ("Department", inc.department or "—"),
        ("Paged", inc.team or "—"),
        ("Acknowledged", acked),
    )
    lead = (
        "DRILL: this is an exercise, not a real incident. "
        if inc.drill
        else "Compromised account incident. "
    )
    if inc.kind == "impersonation":
        lead += "A fake account is pretending to be ours; our own account is not taken over. "
    if inc.personal_data in ("yes", "unsure"):
        maybe = "were" if inc.personal_data == "yes" else "may have been"
        lead += (
            f"Direct messages or personal data {maybe} exposed: the data protection "
            "steps are in the checklist. "
        )
    if inc.status == "closed":
        lead += f"Closed at {hhmm(inc.closed_at, tz)}: {inc.summary or ''}".strip()
    else:
        lead += "Work through the checklist; the timeline records who did what."
    blocks: list[Block] = [Heading(title), Section(lead, fields=facts), *extra]
    if inc.is_open:
        controls = [
            Button("Hand over", HANDOVER, inc.id),
            Button("Holding statement", "incident:holding", inc.id),
        ]
        if inc.kind == "impersonation":
            controls.append(Button("Fake accounts", "incident.takedown:show", inc.id))
        if not inc.acked_at:
            controls.insert(0, Button("Acknowledge", "incident:ack", inc.id, "primary"))
        blocks.append(Actions(tuple(controls)))
    small = []
    if room_note(inc):
        small.append(room_note(inc))
    if inc.is_open and not inc.account:
        small.append(account_hint(inc))
    if inc.is_open:
        small.append(
            " · ".join(
                typed(inc.origin, f"compromised {sub} {inc.id}{more}")
                for sub, more in (
                    ("evidence", " <link or note>"),
                    ("severity", " <1-4>"),
                    ("close", " <summary>"),
                    ("report", ""),
                )
            )
        )
    if small:
        blocks.append(Context(tuple(small)))
    text = f"{title}. Severity {inc.severity}, status {inc.status}."
    return Message(text=text, blocks=tuple(blocks))


def status_list(incidents: list[Incident]) -> Message:
    if not incidents:
        text = "There are no open incidents that you are part of."
        return Message(text=text, blocks=(Section(text),), private=True)
    lines = []
    for inc in incidents:
        sev = f"severity {inc.severity}" if inc.severity else "severity not set"
        lines.append(
            f"{drill(inc)}{inc.id}: {platform_label(inc)} {account_label(inc)}, {sev}, "
            f"{inc.status}, commander {inc.commander_name or inc.commander}"
        )
    shown = lines[:MAX_LISTED]
    more = len(lines) - len(shown)
    small = (Context((f"{more} more open incidents are not listed here.",)),) if more else ()
    text = "Open incidents:\n" + "\n".join(shown)
    return Message(
        text=text,
        blocks=(Heading("Open incidents"), *(Section(line) for line in shown), *small),
        private=True,
    )


def note(text: str, *, private: bool = False) -> Message:
    return Message(text=text, blocks=(Section(text),), private=private)
