"""What a page says, in plain English, for every provider alike.

Providers pass ``info.inert()`` (see :class:`IncidentInfo`), so the facts here are
already free of control and bidi characters and of a sane length; each sentence is
bounded again where it is used (the SMS and PagerDuty limits).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core import inert
from bot.core.model import Actions, Button, Context, Heading, Message, Section
from incidents.paging.model import IncidentInfo, severity_label

# GOV.UK Notify refuses a text message over 918 characters, counting the template's own
# words too: ((message)) is kept to 800, so a template may add up to 118 characters.
SMS_LIMIT = 918
SMS_MESSAGE_LIMIT = 800
PAGERDUTY_SUMMARY_LIMIT = 1024
SUBJECT_LIMIT = 200
# Notify escapes Markdown and removes URLs in these fields of an email (people's text).
NOTIFY_SANITISE = ["message", "title", "summary", "account", "department"]

ACK_ACTION = "incident:ack"

# Each way of paging in plain words ("by text message"), for people who never saw the
# routing file: no provider or target names.
HOW = {
    "pagerduty": "PagerDuty",
    "notify_sms": "text message",
    "notify_email": "email",
    "email": "email",
    "chat": "a chat message",
    "webhook": "their alerting system",
}


def how(kind: str) -> str:
    return HOW.get(kind, "another way")


def hows(kinds: list[str]) -> str:
    """"PagerDuty and text message": each way once, in order."""
    words = list(dict.fromkeys(how(k) for k in kinds))
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

ACTION_WORDS = {
    "trigger": "needs someone now",
    "acknowledge": "has been acknowledged",
    "resolve": "has been resolved",
}


def one_line(text: str, limit: int = 300) -> str:
    """Inert, whitespace collapsed (no header or SMS surprises), cut to ``limit`` with "…"."""
    return inert.one_line(text, limit)


def summary(info: IncidentInfo, limit: int = 300) -> str:
    """The summary on one line, without a "DRILL:" the title already says."""
    text = one_line(info.summary, limit)
    if info.drill and text.upper().startswith("DRILL:"):
        text = text[len("DRILL:") :].strip()
    return text


def platform_name(info: IncidentInfo) -> str:
    """The platform as it writes its name ("X", "LinkedIn"), for people to read."""
    return info.platform_name or info.platform


def account_on(info: IncidentInfo) -> str:
    """"@dhsc on X", or "an account on X" when no handle was given (never a gap)."""
    return f"{info.account or 'an account'} on {platform_name(info)}"


def title(info: IncidentInfo) -> str:
    drill = "DRILL: " if info.drill else ""
    sev = severity_label(info.severity)
    return f"{drill}Severity {sev} incident: {account_on(info)}"


def page_text(info: IncidentInfo, ack_hint: str, step: int = 1, round_: int = 1) -> str:
    """The whole page as one short paragraph (SMS, email body, webhook ``text``)."""
    dept = f" ({info.department})" if info.department else ""
    escalated = f" This is escalation step {step}" + (f", round {round_}." if round_ > 1 else ".")
    drill = " This is a drill: no real account is affected." if info.drill else ""
    return (
        f"{title(info)}{dept}. {summary(info)} Incident {info.id}."
        f"{escalated}{drill} {ack_hint.format(id=info.id)}"
    ).strip()


def personalisation(
    info: IncidentInfo, ack_hint: str, step: int, round_: int, *, sms: bool = False
) -> dict[str, str]:
    """Fields a GOV.UK Notify template may use as ((name)); extra ones are ignored.

    For a text message ``message`` is kept within :data:`SMS_MESSAGE_LIMIT`; every field
    is one line, so nothing typed can start a Markdown heading or list in an email."""
    text = page_text(info, ack_hint, step, round_)
    return {
        "message": one_line(text, SMS_MESSAGE_LIMIT) if sms else one_line(text, 4000),
        "title": one_line(title(info), SUBJECT_LIMIT),
        "summary": summary(info),
        "incident_id": info.id,
        "severity": severity_label(info.severity),
        "platform": platform_name(info),
        "account": info.account or "not given",
        "department": info.department or "not given",
        "drill": "yes" if info.drill else "no",
        "step": str(step),
        "acknowledge": ack_hint.format(id=info.id),
    }


def chat_page(info: IncidentInfo, ack_hint: str, step: int, round_: int) -> Message:
    fields = [("Severity", severity_label(info.severity))]
    fields.append(("Account", info.account or "not given"))
    fields.append(("Platform", platform_name(info)))
    if info.department:
        fields.append(("Department", info.department))
    fields.append(("Incident", info.id))
    fields.append(("Escalation", f"step {step}" + (f", round {round_}" if round_ > 1 else "")))
    return Message(
        text=page_text(info, ack_hint, step, round_),
        blocks=(
            Heading(title(info)),
            Section(summary(info, 1000), fields=tuple(fields)),
            Actions((Button("Acknowledge", ACK_ACTION, info.id, style="primary"),)),
            Context(("Acknowledging stops further paging for this incident.",)),
        ),
    )


def chat_closed(
    info: IncidentInfo, action: str, when: datetime, tz: ZoneInfo, by: str | None
) -> Message:
    """The page after acknowledge or resolve: same facts, no button."""
    at = when.astimezone(tz).strftime("%H:%M %Z on %d %B %Y")
    if action == "acknowledge":
        note = f"Acknowledged by {by} at {at}." if by else f"Acknowledged at {at}."
    else:
        note = f"Resolved at {at}."
    return Message(
        text=f"{title(info)}. {note}",
        blocks=(
            Heading(title(info)),
            Section(summary(info, 1000), fields=(("Incident", info.id),)),
            Context((note + " Paging has stopped.",)),
        ),
    )
