"""What people read: the register as a list, one account's card, and a CSV import's
preview (the dry run). Plain text in neutral blocks: the renderers escape it. Flags come
first because they are what needs doing: weak 2FA, a personal recovery address, no
owner, a review more than a year old."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core.actions import button_value
from bot.core.model import (
    Actions,
    Button,
    Context,
    Heading,
    Message,
    PersonPicker,
    Section,
    line_sections,
)
from incidents.register.csv_io import Parsed
from incidents.register.fields import write_person
from incidents.register.forms import NS
from incidents.register.model import TWO_FACTOR_NAMES, VERIFICATION_NAMES, Account, Details

EDIT, SHOW, OWNER, GRANT = f"{NS}:edit", f"{NS}:show", f"{NS}:owner", f"{NS}:grant"
APPLY, DISCARD, ADD = f"{NS}:apply", f"{NS}:discard", f"{NS}:add"
MAX_LISTED = 20
MAX_PROBLEMS = 25
PROBLEMS_A_SECTION = 10
STALE = timedelta(days=365)


def flags(d: Details, today: date) -> list[str]:
    found = []
    if d.two_factor == "sms":
        found.append("weak 2FA (SMS)")
    elif d.weak_2fa:
        found.append("no strong 2FA recorded")
    if d.personal_recovery:
        found.append("personal recovery address")
    if d.owner is None:
        found.append("no business owner")
    if d.last_reviewed is None or today - d.last_reviewed > STALE:
        found.append("not reviewed in the last year")
    return found


def _who(d: Details) -> str:
    return d.owner.label if d.owner else "no owner"


def line(a: Account, today: date) -> str:
    warn = flags(a.details, today)
    team = a.team or "no team"
    return f"#{a.id} {a.title} · {team} · {_who(a.details)}" + (
        f" · ⚠ {', '.join(warn)}" if warn else ""
    )


def listing(accounts: list[Account], mine: set[int], today: date, hint: str) -> Message:
    """The register, the caller's own accounts first."""
    ordered = sorted(accounts, key=lambda a: a.id not in mine)
    if not ordered:
        text = "No accounts are registered here yet."
        return Message(
            text,
            (Section(text), Actions((Button("Add an account", ADD, "", "primary"),)),
             Context((hint,))),
            private=True,
        )  # fmt: skip
    blocks: list = [Heading(f"Accounts register: {len(ordered)} accounts")]
    for a in ordered[:MAX_LISTED]:
        blocks.append(Section(line(a, today)))
    blocks.append(
        Actions(
            tuple(Button(f"#{a.id}", SHOW, button_value(a.id),
                         accessibility_label=f"Show {a.title}") for a in ordered[:5])
            + (Button("Add an account", ADD, "", "primary"),)
        )
    )  # fmt: skip
    more = len(ordered) - MAX_LISTED
    notes = [hint] + (
        [f"{more} more not shown: export the register to see them all."] if more > 0 else []
    )
    blocks.append(Context(tuple(notes)))
    text = "\n".join(line(a, today) for a in ordered[:MAX_LISTED])
    return Message(f"Accounts register:\n{text}", tuple(blocks), private=True)


def card(a: Account, today: date, *, may_change: bool, full: bool) -> Message:
    """One account. ``full`` shows the recovery contacts and the people with access
    (admins, the owner and the people with access see them); ``may_change`` adds the
    edit button and the pickers."""
    d = a.details
    rows: list[tuple[str, str]] = [
        ("Platform", d.platform_name),
        ("Handle", d.handle),
        ("Owning team", d.team or "none recorded"),
        ("Business owner", write_person(d.owner) if d.owner and not d.owner.user_id
         else _who(d)),
        ("Two-factor", TWO_FACTOR_NAMES.get(d.two_factor, d.two_factor)),
        ("Verification", VERIFICATION_NAMES.get(d.verification, d.verification)),
        ("Last reviewed", d.last_reviewed.strftime("%-d %b %Y") if d.last_reviewed else "never"),
    ]  # fmt: skip
    if d.url:
        rows.insert(2, ("Link", d.url))
    recovery: list[tuple[str, str]] = []
    if full:
        personal = " (personal address)" if d.personal_recovery else ""
        holder = d.recovery_holder or "not recorded"
        shared = " (shared team mailbox)" if d.recovery_shared else ""
        recovery = [
            ("Recovery email", (d.recovery_email or "not recorded") + personal),
            ("Recovery phone", d.recovery_phone or "not recorded"),
            ("Recovery controlled by", holder + shared),
            ("Connected tools", "; ".join(d.tools) or "none recorded"),
        ]
    # Two sections: Slack shows at most 10 fields in one, and these are up to 12.
    blocks: list = [Heading(f"#{a.id} {a.title}"), Section("", tuple(rows))]
    if recovery:
        blocks.append(Section("", tuple(recovery)))
    rows += recovery
    if full:
        people = [f"{x.person.label}" + (f" ({x.role})" if x.role else "") for x in d.access]
        blocks.append(Section("People with access: " + ("; ".join(people) or "none recorded")))
    warn = flags(d, today)
    if warn:
        said = "; ".join(warn)
        blocks.append(Section("⚠ " + said[:1].upper() + said[1:]))
    if may_change:
        blocks += [
            Actions((Button("Edit", EDIT, button_value(a.id), "primary"),)),
            PersonPicker(OWNER, "Make someone the business owner", button_value(a.id)),
            PersonPicker(GRANT, "Add someone with access", button_value(a.id)),
        ]
    blocks.append(Context((f"Last changed by {a.updated_by or 'an import'}.",)))
    text = f"#{a.id} {a.title}: " + "; ".join(f"{k}: {v}" for k, v in rows)
    return Message(text, tuple(blocks), private=True)


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def preview(parsed: Parsed, staged: int | None, filename: str) -> Message:
    """A CSV's dry run: the good rows that would be imported and each bad row with its
    line and reason. Nothing has changed yet; the button applies the good rows."""
    good, bad = len(parsed.rows), len(parsed.problems)
    head = f"{filename}: {_rows(good)} good, {bad} with problems. Nothing has been imported yet."
    blocks: list = [Heading("Register import: dry run"), Section(head)]
    lines = [f"Line {p.line}: {p.reason}" for p in parsed.problems[:MAX_PROBLEMS]]
    if bad > MAX_PROBLEMS:
        lines.append(f"…and {bad - MAX_PROBLEMS} more rows with problems.")
    # A reason can run to 170 characters (an unknown platform lists the known ones), and
    # Slack cuts a section at 3,000: ten lines a section keeps every line whole.
    blocks += line_sections(lines, PROBLEMS_A_SECTION)
    if parsed.ignored_columns:
        blocks.append(Context(("Columns ignored: " + ", ".join(parsed.ignored_columns),)))
    if staged is not None and good:
        blocks.append(
            Actions(
                (
                    Button(f"Import {_rows(good)}", APPLY, button_value(staged), "primary"),
                    Button("Cancel", DISCARD, button_value(staged)),
                )
            )
        )
    text = head + ("\n" + "\n".join(lines) if lines else "")
    return Message(text, tuple(blocks), private=True)
