"""``deadletters``: admins see the Slack deliveries that kept failing, and retry or drop one.

What a dead letter shows is chosen so an admin can act without reading anyone's message:
when it came, by which front door, which command or button, the class of the last error
and how often it was tried. The body it keeps has no tokens (``bot.adapters.slack.scrub``).
"""

from __future__ import annotations

from bot import audit
from bot.core import Turn
from bot.core.features import FeatureHost
from bot.core.hints import typed
from bot.core.model import Context, Heading, Message, Section
from bot.storage.dead_letters import DeadLetter, DeadLetters

SHOWN = 20


def _typed(turn: Turn, rest: str = "") -> str:
    return typed(turn.place, f"deadletters {rest}".strip(), slack_command="secbot")


def _private(text: str, heading: str = "") -> Message:
    blocks = ((Heading(heading),) if heading else ()) + (Section(text),)
    return Message(text=text, blocks=blocks, private=True)


def _line(letter: DeadLetter, turn: Turn) -> str:
    tz = turn.services.settings.tz
    when = letter.received_at.astimezone(tz).strftime("%-d %b %Y %H:%M")
    door = "Slack (HTTP)" if letter.kind == "http" else "Slack (Socket Mode)"
    tries = f"{letter.attempts} attempt{'' if letter.attempts == 1 else 's'}"
    return f"#{letter.id}: {when}, {door}, {letter.what}. Last error: {letter.error}; {tries}."


async def deadletters(turn: Turn) -> None:
    store = turn.services.dead_letters
    assert store is not None
    verb, _, rest = turn.args.strip().partition(" ")
    verb = verb.lower()
    if verb in ("retry", "drop"):
        await _act(turn, store, verb, rest.strip().lstrip("#"))
        return
    if verb:
        await turn.reply(
            _private(
                f"I don't know “{verb[:20]}” here. Type {_typed(turn)} to list, "
                f"{_typed(turn, 'retry 3')} or {_typed(turn, 'drop 3')}."
            )
        )
        return
    letters, total = await store.list(SHOWN), await store.count()
    if not letters:
        await turn.reply(_private("No deliveries have failed for good. Nothing to do."))
        return
    lines = [_line(letter, turn) for letter in letters]
    more = f"…and {total - len(letters)} older ones." if total > len(letters) else ""
    hint = (
        f"Type {_typed(turn, 'retry N')} to try one again, or {_typed(turn, 'drop N')} to "
        "forget it."
    )
    summary = f"{total} deliver{'y' if total == 1 else 'ies'} kept failing:"
    await turn.reply(
        Message(
            text="\n".join([summary, *lines, *([more] if more else []), hint]),
            blocks=(
                Heading("Deliveries that kept failing"),
                Section(summary),
                *(Section(line) for line in lines),
                Context(tuple(x for x in (more, hint) if x)),
            ),
            private=True,
        )
    )


async def _act(turn: Turn, store: DeadLetters, verb: str, number: str) -> None:
    if not number.isdigit():
        await turn.reply(_private(f"Say which one, for example {_typed(turn, verb + ' 3')}."))
        return
    letter_id = int(number)
    missing = f"There's no dead letter #{letter_id}. Type {_typed(turn)} to see the list."
    if verb == "drop":
        done = await store.drop(letter_id)
        await turn.reply(_private(f"Dropped dead letter #{letter_id}." if done else missing))
        if done:
            await audit.record(turn, "dropped a dead letter", f"dead letter #{letter_id}")
        return
    intake = turn.services.slack_intake
    if intake is None:
        await turn.reply(_private("Slack is not connected here, so I can't retry it now."))
        return
    # One more try: it comes back to this list if that fails too.
    if await store.retry(letter_id) is None:
        await turn.reply(_private(missing))
        return
    intake.notify()
    await audit.record(turn, "retried a dead letter", f"dead letter #{letter_id}")
    await turn.reply(
        _private(
            f"Dead letter #{letter_id} is being tried again. If it fails again it comes "
            "back to this list."
        )
    )


def setup(host: FeatureHost) -> None:
    host.registry.add_command(
        "deadletters",
        "Admins: deliveries that kept failing (retry or drop one)",
        deadletters,
        aliases=("dead-letters",),
        usage="deadletters [retry N | drop N]",
        hidden=True,
        admin_only=True,
        refusal=(
            "Only secbot admins can see deliveries that kept failing, because they show "
            "who asked for what. If something you asked for didn't happen, please ask "
            "again, or tell one of your secbot admins."
        ),
    )
