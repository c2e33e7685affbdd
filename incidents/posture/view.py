"""The posture summary as people read it: the counts first, then each owning team with
short lists (a few names each, then "and N more"), then where the full detail is.

Plain text in neutral blocks (the renderers escape it, so a hostile handle or team name
stays inert). Sized for every platform: at most :data:`TEAMS_SHOWN` team sections and
:data:`SHOWN` items a list, each item cut to :data:`ITEM` characters, so the message
stays well inside Slack's 50 blocks and 3,000 characters a section and a Teams card's
26 KB whatever the register holds.
"""

from __future__ import annotations

from bot.core.hints import typed
from bot.core.inert import one_line
from bot.core.model import Context, Divider, Heading, Message, Place, Section
from incidents.posture.figures import Flagged, Posture, TeamPosture
from incidents.times import london

SHOWN = 3  # items on each list
TEAMS_SHOWN = 8  # team sections
ITEM = 60  # characters of one account title, name or team name
NO_TEAM = "No owning team recorded"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _where(place: Place) -> str:
    if place.platform == "slack":
        return "This Slack organisation" if place.enterprise else "This Slack workspace"
    if place.platform == "teams":
        return "This Microsoft Teams organisation"
    return "This web chat"


def _item(f: Flagged) -> str:
    what = one_line(f.what, ITEM)
    return f"{what} ({f.why})" if f.why else what


def short_list(items: list[str]) -> str:
    """``a, b, c and 4 more``."""
    shown = [one_line(x, ITEM) for x in items[:SHOWN]]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _weak_detail(p: Posture) -> str:
    kinds: dict[str, int] = {}
    for t in p.teams:
        for f in t.weak_2fa:
            kinds[f.why] = kinds.get(f.why, 0) + 1
    return ", ".join(f"{n} {why}" for why, n in sorted(kinds.items(), key=lambda kv: -kv[1]))


def _drill_words(t: TeamPosture) -> str:
    return london(t.last_drill) if t.last_drill else "none recorded"


def counts(p: Posture) -> list[str]:
    accounts = p.total("accounts")
    weak = p.total("weak_2fa")
    lines = [
        f"{weak:,} of {plural(accounts, 'account')} without strong 2FA"
        + (f" ({_weak_detail(p)})" if weak else ""),
        f"{plural(p.total('personal_recovery'), 'account')} with personal recovery contacts",
        f"{plural(p.total('overdue_reviews'), 'access review')} overdue",
    ]
    if p.training_on:
        line = (
            f"{p.untrained:,} of {plural(p.people_with_access, 'person', 'people')} with access"
            " not trained in the last twelve months"
        )
        if p.unchecked:
            line += f" ({p.unchecked} can't be checked: the register has no chat id for them)"
        lines.append(line)
    else:
        lines.append("Trained access: assigned training is not part of this secbot")
    drills = p.total("open_drills")
    lines.append(
        f"{plural(p.total('open_incidents'), 'open incident')}"
        + (f" (and {plural(drills, 'drill')} running)" if drills else "")
    )
    last = p.last_drill
    if last is not None and last.last_drill is not None:
        team = one_line(last.name, ITEM) or NO_TEAM.lower()
        lines.append(f"Last drill: {london(last.last_drill)} ({team})")
    else:
        lines.append("Last drill: none recorded")
    return ["• " + x for x in lines]


def team_lines(t: TeamPosture) -> list[str]:
    name = one_line(t.name, ITEM) or NO_TEAM
    head = f"{name}: {plural(t.accounts, 'registered account')}"
    lines = [head if t.problems else head + ", nothing to fix"]
    lists = (
        ("Without strong 2FA", [_item(f) for f in t.weak_2fa]),
        ("Personal recovery contacts", [_item(f) for f in t.personal_recovery]),
        ("Access reviews overdue", [_item(f) for f in t.overdue_reviews]),
        ("Not trained", t.untrained),
    )
    for label, items in lists:
        if items:
            lines.append(f"{label} ({len(items)}): {short_list(items)}")
    if t.open_incidents:
        listed = [_item(f) for f in t.open_listed]
        more = t.open_incidents - len(listed[:SHOWN])
        shown = ", ".join(listed[:SHOWN]) + (f" and {more} more" if more > 0 else "")
        lines.append(f"Open incidents ({t.open_incidents}): {shown}")
    lines.append(f"Last drill: {_drill_words(t)}")
    return lines


def pointers(place: Place) -> str:
    def cmd(words: str) -> str:
        return typed(place, words, slack_command="secbot")

    return (
        f"The full detail: {cmd('register export')} (every account, as a CSV file), "
        f"{cmd('access')} (reviews waiting), {cmd('access check')} (everyone untrained, by "
        f"name), {typed(place, 'compromised status')} (open incidents)."
    )


def summary(p: Posture, place: Place) -> Message:
    accounts = p.total("accounts")
    named = [t for t in p.teams if t.name and t.accounts]
    intro = (
        f"{_where(place)}, {london(p.at)}: {plural(accounts, 'registered account')} in "
        f"{plural(len(named), 'owning team')}."
    )
    if not p.teams:
        text = intro + " Nothing is registered and no incident is open."
        return Message(
            text,
            (Heading("Security posture"), Section(text), Context((pointers(place),))),
            private=True,
        )
    totals = "\n".join(counts(p))
    blocks: list = [Heading("Security posture"), Section(intro), Section(totals), Divider()]
    texts = [intro, totals]
    for t in p.teams[:TEAMS_SHOWN]:
        body = "\n".join(team_lines(t))
        blocks.append(Section(body))
        texts.append(body)
    notes = []
    hidden = len(p.teams) - TEAMS_SHOWN
    if hidden > 0:
        notes.append(f"…and {plural(hidden, 'more team')} with less to fix.")
    notes.append(pointers(place))
    blocks.append(Context(tuple(notes)))
    texts += notes
    return Message("Security posture\n" + "\n\n".join(texts), tuple(blocks), private=True)
