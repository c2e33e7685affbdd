"""``/secbot audit``: admins read the audit log in chat, a page at a time, and export it
as CSV. There is no command to change or delete an entry, on purpose."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from bot.audit import record
from bot.audit.files import only_in_direct, private_note, upload
from bot.audit.store import AuditLog, Entry
from bot.core import Turn
from bot.core.actions import button_value, value_ints
from bot.core.features import FeatureHost
from bot.core.hints import typed
from bot.core.model import Actions, Button, Context, Heading, Message, Section

LONDON = ZoneInfo("Europe/London")
DEFAULT_SHOWN = 10
MAX_SHOWN = 25  # a Slack message holds 50 blocks; one section per entry
DOORS = {"slack": "Slack", "teams": "Teams", "web": "the web chat", "cli": "the command line"}
CSV_HEADERS = (
    "When (UK time)",
    "When (UTC)",
    "Who",
    "Their id",
    "Front door",
    "Action",
    "Target",
    "About (pseudonym)",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def london(entry: Entry) -> str:
    local = entry.at.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def line(entry: Entry) -> str:
    about = f" (about {entry.subject})" if entry.subject else ""
    door = DOORS.get(entry.door, entry.door)
    return (
        f"{london(entry)}: {entry.actor_name} ({entry.actor}) via {door} "
        f"{entry.action}: {entry.target}{about}"
    )


def _typed(turn: Turn, rest: str = "") -> str:
    return typed(turn.place, f"audit {rest}".strip(), slack_command="secbot")


async def audit(turn: Turn) -> None:
    words = turn.args.lower().split()
    if words in (["csv"], ["export"]):
        await export(turn)
        return
    if not words:
        await show(turn, DEFAULT_SHOWN, None)
        return
    if len(words) == 1 and words[0].isascii() and words[0].isdigit() and len(words[0]) < 4:
        await show(turn, max(1, min(int(words[0]), MAX_SHOWN)), None)
        return
    await turn.reply(
        private_note(
            f"Type {_typed(turn)} for the latest {DEFAULT_SHOWN} admin actions, "
            f"{_typed(turn, '25')} for more (up to {MAX_SHOWN}), or {_typed(turn, 'csv')} "
            "for all of them as a CSV file."
        )
    )


async def show(turn: Turn, shown: int, before: int | None) -> None:
    log = AuditLog(turn.services.db)
    entries = await log.page(shown + 1, before)
    more, entries = len(entries) > shown, entries[:shown]
    if not entries:
        text = "No admin actions recorded." if before is None else "There are no older entries."
        await turn.reply(private_note(text))
        return
    lines = [line(e) for e in entries]
    heading = "Admin actions, newest first" if before is None else "Older admin actions"
    hint = f"Type {_typed(turn, 'csv')} for every entry as a CSV file."
    buttons = (
        (Actions((Button("Older", "audit:older", button_value(entries[-1].id, shown)),)),)
        if more
        else ()
    )
    await turn.reply(
        Message(
            text="\n".join([heading + ":", *lines, hint]),
            blocks=(
                Heading(heading),
                *(Section(x) for x in lines),
                *buttons,
                Context((hint,)),
            ),
            private=True,
        )
    )


async def on_action(turn: Turn) -> None:
    """``audit:older``: the next page. Admins only: a forged click from anyone else gets
    the same refusal as the command."""
    if not turn.services.is_admin(turn.actor):
        await turn.reply(private_note(REFUSAL))
        return
    parts = value_ints(turn.incoming.value, 2)
    if turn.incoming.action_id.split("#", 1)[0] != "audit:older" or parts is None:
        await turn.reply(private_note("That button is no longer active."))
        return
    before, shown = parts
    await show(turn, max(1, min(shown, MAX_SHOWN)), before)


def as_csv(entries: list[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for e in entries:
        row = (
            london(e),
            e.at.isoformat(),
            e.actor_name,
            e.actor,
            e.door,
            e.action,
            e.target,
            e.subject or "",
        )
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value: str) -> str:
    """Text a spreadsheet shows as text: a leading formula character gets a quote."""
    return "'" + value if value.startswith(_FORMULA) else value


async def export(turn: Turn) -> None:
    if not await only_in_direct(turn, "audit csv"):
        return
    entries = await AuditLog(turn.services.db).all()
    now = turn.services.clock.now()
    await upload(turn, f"secbot-audit-{now:%Y-%m-%d}.csv", as_csv(entries))
    await record(turn, "exported the audit log", f"{len(entries)} entries, as CSV")


REFUSAL = (
    "Only secbot admins can read the audit log, because it names people and what was done "
    "for them. Please ask one of your secbot admins."
)


def setup(host: FeatureHost) -> None:
    host.registry.add_command(
        "audit",
        "Admins: who did what as an admin, and when (csv to export)",
        audit,
        aliases=("audit-log",),
        usage="audit [N | csv]",
        hidden=True,
        admin_only=True,
        refusal=REFUSAL,
    )
    host.registry.add_action("audit", on_action)
