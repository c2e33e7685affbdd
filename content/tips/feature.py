"""Daily security tips: the ``/tip`` command and the ``tip:`` buttons.

Commands (in Teams and the web chat type them without the slash):

- ``/tip`` — a tip now, shown only to you.
- ``/tip subscribe [HH:MM] [days] [nation]`` — a tip in this channel on working days
  (default 09:30 Monday to Friday in ``SECBOT_TIMEZONE``, England and Wales bank holidays
  skipped), e.g. ``/tip subscribe 08:45 mon-fri scotland``. Days: ``mon-fri``,
  ``mon,wed,fri``, ``weekdays``, ``daily``. Nations: ``england`` (England and Wales),
  ``scotland``, ``northern-ireland``. Subscribing again changes the time.
- ``/tip unsubscribe`` — stop. ``/tip status`` — the next tip's time and tips left.
- Admins (``SECBOT_ADMINS``): ``/tip list``, ``/tip feedback``, ``/tip send-now``.

Anyone in a channel may subscribe or unsubscribe it: a channel's members already decide
what is posted there, and the confirmation is posted publicly so everyone sees the change.

Buttons on every tip: ``tip:vote`` (Useful / Not useful, one vote per person per tip per
channel, changeable), ``tip:quiz`` (a question on the tip's own topic, privately) and
``tip:quizanswer`` (its answer). Scheduling and delivery live in ``content/tips/delivery.py``
(and the modules it names), the arithmetic in ``content/tips/schedule.py`` and all SQL in
``content/tips/store/``.
"""

from __future__ import annotations

import logging
import random
from typing import TYPE_CHECKING

from bot import audit
from bot.core import Turn
from bot.core.actions import button_value, value_parts, verb
from bot.core.features import FeatureHost
from bot.core.hints import typed
from bot.core.model import Actions, Button, Context, Heading, Message, Section, line_sections
from bot.core.team_platforms import TeamPlatforms
from content.tips.delivery import TipDelivery
from content.tips.message import tip_message
from content.tips.schedule import EXAMPLE, ScheduleError, local_text, parse_subscribe_args
from content.tips.store import Subscription

if TYPE_CHECKING:
    from content.library.models import QuizItem, Tip
    from content.quiz.feature import Quiz

log = logging.getLogger(__name__)

LETTERS = "ABCDEFGH"
MAX_LISTED = 50
LIST_SECTION = 15  # lines per section in /tip list (about 1,700 characters)


def _tips(turn: Turn) -> TipDelivery:
    return turn.services.feature(TipDelivery)


def _cmd(turn: Turn, rest: str) -> str:
    """``tip <rest>`` as it is typed where the person typed this command."""
    return typed(turn.place, f"tip {rest}".strip())


def _text(text: str, *, private: bool = True, heading: str = "") -> Message:
    blocks = (Heading(heading), Section(text)) if heading else (Section(text),)
    return Message(text=text, blocks=blocks, private=private)


def usage(turn: Turn, unknown: str = "") -> Message:
    lines = [
        (_cmd(turn, ""), "A security tip now, just for you"),
        (_cmd(turn, "subscribe [HH:MM] [days] [nation]"), "A tip in this channel on working days"),
        (_cmd(turn, "unsubscribe"), "Stop this channel's tips"),
        (_cmd(turn, "status"), "When the next tip comes"),
    ]
    if turn.services.is_admin(turn.actor):
        lines += [
            (_cmd(turn, "list"), "Every subscription (admins)"),
            (_cmd(turn, "feedback"), "Useful and not useful votes per tip (admins)"),
            (_cmd(turn, "send-now"), "Send this channel's next tip now (admins)"),
        ]
    text = "Daily tips:\n" + "\n".join(f"{u} — {h}" for u, h in lines)
    example = typed(turn.place, EXAMPLE)
    blocks: tuple = (
        Heading("Daily security tips"),
        Section("", fields=tuple(lines)),
        Context((f"Example: {example}",)),
    )
    if unknown:
        intro = f"“{_cmd(turn, unknown)}” isn't a tip command. These are:"
        text = f"{intro}\n{text}"
        blocks = (Section(intro), *blocks)
    return Message(text=text, blocks=blocks, private=True)


# --- commands ---------------------------------------------------------------------------


async def tip_command(turn: Turn) -> None:
    sub, _, rest = turn.args.strip().partition(" ")
    handler = SUBCOMMANDS.get(sub.lower())
    if handler is None:
        await turn.reply(usage(turn, unknown=sub))
        return
    why = ADMIN_ONLY.get(sub.lower())
    if why is not None and not turn.services.is_admin(turn.actor):
        reason, instead = why
        await turn.reply(
            _text(
                f"Only secbot admins can use “{_cmd(turn, sub.lower())}”, because {reason}. "
                f"{instead.format(status=_cmd(turn, 'status'))}"
            )
        )
        return
    await handler(turn, rest.strip())


async def tip_now(turn: Turn, _rest: str) -> None:
    delivery = _tips(turn)
    ids = delivery.tip_ids()
    if not ids:
        await turn.reply(_text("There are no tips to show yet. Please try again later."))
        return
    ids = await _for_my_platforms(turn, delivery, ids)
    tip = delivery.tip(random.choice(ids))
    assert tip is not None
    await turn.reply(tip_message(tip, private=True))


async def _for_my_platforms(turn: Turn, delivery: TipDelivery, ids: list[str]) -> list[str]:
    """The tips aimed at the platforms the person's team uses (``platforms:`` in the
    content; the team's platforms from the accounts register), when there are any;
    otherwise every tip."""
    source = turn.services.find_feature(TeamPlatforms)  # type: ignore[type-abstract]
    mine = await source.platforms_for(turn.place, turn.actor.user_id) if source else frozenset()
    if not mine:
        return ids
    aimed = [i for i in ids if (tip := delivery.tip(i)) is not None and mine & set(tip.platforms)]
    return aimed or ids


async def subscribe(turn: Turn, rest: str) -> None:
    try:
        schedule = parse_subscribe_args(rest)
    except ScheduleError as e:
        await turn.reply(_text(e.said_at(turn.place)))
        return
    delivery = _tips(turn)
    store, now = delivery.store, turn.services.clock.now()
    key = turn.incoming.delivery_id or None
    # One transaction: the replay check, the upsert and the next due time, so two
    # subscribes at once (or one racing the scheduler) leave one schedule, whole.
    async with store.batch():
        if key is not None and await store.subscriptions.set_by(turn.place, key):
            return  # a replay after a crash: this request's subscription is already in place
        existed = await store.subscriptions.find(turn.place)
        sub_id = await store.subscriptions.subscribe(turn.place, schedule, turn.actor.key, now, key)
        sub = await store.subscriptions.get(sub_id)
        assert sub is not None
        await delivery.scheduler.reschedule(sub, now, fresh=True)
        sub = await store.subscriptions.get(sub_id)
    delivery.poke()
    assert sub is not None and sub.next_due is not None
    log.info("tips: subscription %d set by %s", sub_id, turn.actor.key)
    changed = existed is not None and existed.active
    when = f"{schedule.describe()} ({turn.services.settings.timezone} time)"
    lead = (
        f"Changed: this channel now gets its daily security tip at {when}."
        if changed
        else f"This channel will now get a security tip at {when}."
    )
    text = f"{lead} Next tip: {local_text(sub.next_due, delivery.tz)}."
    hint = (
        f"Anyone in this channel can change this with “{_cmd(turn, 'subscribe')}” or stop it"
        f" with “{_cmd(turn, 'unsubscribe')}”."
    )
    await turn.reply(
        Message(
            text=f"{text} {hint}",
            blocks=(Heading("Daily security tips are on"), Section(text), Context((hint,))),
        )
    )


async def unsubscribe(turn: Turn, _rest: str) -> None:
    delivery = _tips(turn)
    sub = await delivery.store.subscriptions.find(turn.place)
    now = turn.services.clock.now()
    if (
        sub is None
        or not sub.active
        or not await delivery.store.subscriptions.deactivate(sub.id, "unsubscribed", now)
    ):
        await turn.reply(
            _text(f"This channel isn't getting daily tips. To start: “{_cmd(turn, 'subscribe')}”.")
        )
        return
    delivery.poke()
    log.info("tips: subscription %d stopped by %s", sub.id, turn.actor.key)
    text = (
        "This channel will no longer get daily security tips. "
        f"To start again: “{_cmd(turn, 'subscribe')}”."
    )
    await turn.reply(_text(text, private=False, heading="Daily security tips are off"))


async def _left(delivery: TipDelivery, sub: Subscription) -> tuple[int, int]:
    ids = set(delivery.tip_ids())
    served = await delivery.store.ledger.served(sub.id, sub.cycle) & ids
    left = len(ids - served)
    return (left if left else len(ids)), len(ids)


async def status(turn: Turn, _rest: str) -> None:
    delivery = _tips(turn)
    sub = await delivery.store.subscriptions.find(turn.place)
    if sub is None or not sub.active:
        why = ""
        if sub is not None and (sub.inactive_reason or "").startswith("gone"):
            why = " Tips stopped because I could no longer post here."
        await turn.reply(
            _text(
                f"This channel isn't getting daily tips.{why} To start, type"
                f" “{_cmd(turn, 'subscribe')}” or, for example,"
                f" “{_cmd(turn, 'subscribe 09:30 mon-fri')}”."
            )
        )
        return
    left, total = await _left(delivery, sub)
    next_text = local_text(sub.next_due, delivery.tz) if sub.next_due else "not scheduled"
    fields = (
        ("Schedule", sub.schedule.describe()),
        ("Time zone", turn.services.settings.timezone),
        ("Next tip", next_text),
        ("Tips left in this cycle", f"{left} of {total}"),
    )
    text = (
        f"This channel gets a security tip at {sub.schedule.describe()}. Next tip: {next_text}. "
        f"Tips left in this cycle: {left} of {total}."
    )
    await turn.reply(
        Message(
            text=text,
            blocks=(Heading("Daily tips for this channel"), Section("", fields=fields)),
            private=True,
        )
    )


async def list_all(turn: Turn, _rest: str) -> None:
    delivery = _tips(turn)
    active, total = await delivery.store.subscriptions.counts()
    if not total:
        await turn.reply(_text("No channel has subscribed to daily tips yet."))
        return
    subs = await delivery.store.subscriptions.all(
        limit=MAX_LISTED
    )  # thousands of channels: read only a page
    lines = []
    for sub in subs:
        where = f"{sub.place.platform} {sub.place.workspace}/{sub.place.channel}"
        if sub.active:
            when = local_text(sub.next_due, delivery.tz) if sub.next_due else "not scheduled"
            lines.append(f"{where}: {sub.schedule.describe()}; next {when}")
        else:
            lines.append(f"{where}: stopped ({sub.inactive_reason or 'inactive'})")
    summary = f"{active} active of {total} subscription{'' if total == 1 else 's'}:"
    more = f"…and {total - len(subs)} more." if total > len(subs) else ""
    # Several short sections: Slack cuts a section's text at 3,000 characters.
    sections = line_sections(lines, LIST_SECTION)
    await turn.reply(
        Message(
            text="\n".join([summary, *lines, *([more] if more else [])]),
            blocks=(
                Heading("Daily tip subscriptions"),
                Section(summary),
                *sections,
                *((Context((more,)),) if more else ()),
            ),
            private=True,
        )
    )


async def feedback(turn: Turn, _rest: str) -> None:
    delivery = _tips(turn)
    counts = await delivery.store.votes.feedback()
    if not counts:
        await turn.reply(_text("Nobody has voted on a tip yet."))
        return
    lines = []
    for tip_id in sorted(counts):
        useful, not_useful = counts[tip_id]
        tip = delivery.tip(tip_id)
        title = tip.title.text() if tip else "(retired)"
        lines.append(f"{tip_id} {title}: {useful} useful, {not_useful} not useful")
    # Several short sections, as in /tip list: one tip a line, and a year's tips in one
    # section would be cut off at Slack's 3,000 characters.
    sections = line_sections(lines, LIST_SECTION)
    await turn.reply(
        Message(text="\n".join(lines), blocks=(Heading("Tip feedback"), *sections), private=True)
    )


async def send_now(turn: Turn, _rest: str) -> None:
    delivery = _tips(turn)
    sub = await delivery.store.subscriptions.find(turn.place)
    if sub is None or not sub.active:
        await turn.reply(
            _text(f"This channel isn't subscribed. First type “{_cmd(turn, 'subscribe')}”.")
        )
        return
    result, counted = await delivery.send_now(sub, turn.incoming.delivery_id or None)
    await audit.record(
        turn, "sent a channel's tip now", f"tip subscription #{sub.id} ({result.status})"
    )
    if result.status == "sent":
        text = (
            "Sent. It counts as today's tip, so no second one will follow today."
            if counted
            else "Sent as an extra tip; the schedule is unchanged."
        )
    elif result.status == "skipped":  # the scheduler picked it up at the same moment
        text = "The tip is on its way."
    elif result.status == "retry":
        text = "The platform asked me to slow down; the tip will follow shortly."
    elif result.status == "in doubt":  # cut off mid-post: looked for, never posted twice
        text = (
            "The platform didn't answer in time, so I can't tell yet whether the tip arrived. "
            "I'll check the channel shortly and send it only if it isn't there."
        )
    elif result.status == "deferred":
        text = "secbot is restarting; the tip will be sent as soon as it is back."
    elif result.detail.startswith("workspace paused"):
        text = (
            "Tips to this workspace are paused: the platform refused secbot's access here "
            f"({result.detail.removeprefix('workspace paused').strip(' ()')}). A secbot admin "
            "can fix the app's installation and then resume delivery."
        )
    else:
        text = f"I couldn't send the tip ({result.status}). Check “{_cmd(turn, 'status')}”."
    await turn.reply(_text(text))


SUBCOMMANDS = {
    "": tip_now,
    "now": tip_now,
    "subscribe": subscribe,
    "unsubscribe": unsubscribe,
    "stop": unsubscribe,
    "status": status,
    "list": list_all,
    "feedback": feedback,
    "send-now": send_now,
    "sendnow": send_now,
}
# Admin-only subcommands: (why, what to do instead), both said to anyone else who tries.
_SEND_NOW_WHY = (
    "it posts an extra tip to everyone in the channel outside its schedule",
    "To see when this channel's next tip comes, type “{status}”.",
)
ADMIN_ONLY: dict[str, tuple[str, str]] = {
    "list": (
        "it shows every channel's subscription",
        "For this channel's schedule, type “{status}”.",
    ),
    "feedback": (
        "it shows the votes from every channel",
        "To give your own view, press Useful or Not useful on a tip.",
    ),
    "send-now": _SEND_NOW_WHY,
    "sendnow": _SEND_NOW_WHY,
}


# --- buttons ----------------------------------------------------------------------------


async def tip_action(turn: Turn) -> None:
    handler = {"vote": vote, "quiz": quiz_me, "quizanswer": quiz_answer}.get(
        verb(turn.incoming.action_id)
    )
    if handler is None:
        await turn.reply("That button is no longer active.", private=True)
        return
    await handler(turn)


async def vote(turn: Turn) -> None:
    tip_id, choice = value_parts(turn.incoming.value, 2) or ("", "")
    delivery = _tips(turn)
    if choice not in ("useful", "not-useful") or delivery.tip(tip_id) is None:
        await turn.reply("That tip is no longer available.", private=True)
        return
    previous = await delivery.store.votes.vote(
        tip_id, turn.place.key, turn.actor.key, choice, turn.services.clock.now()
    )
    label = "useful" if choice == "useful" else "not useful"
    if previous == choice:
        text = f"You've already marked this tip as {label}."
    elif previous:
        text = f"Changed: you now find this tip {label}. Thanks for telling us."
    else:
        text = f"Thanks: you marked this tip as {label}. You can change your mind at any time."
    await turn.reply(text, private=True)


def related_items(tip: Tip, items: list[QuizItem]) -> list[QuizItem]:
    """Live quiz items on the tip's own topic, the closest first-rate matches only.

    Tips and items share one topic vocabulary, and the content lint (``tip-topic``)
    makes sure every topic a tip names has an item. Items sharing the tip's main (first)
    topic are the candidates (else any of its topics); among them, those whose own main
    topic is the tip's, then those sharing most of the tip's topics, win. So a tip about
    doxxing and approval asks a question about exactly that, not one about photos that
    merely mentions doxxing."""
    live = [i for i in items if i.enabled]
    topics = set(tip.topics)
    main = tip.topics[0]
    pool = [i for i in live if main in i.topics] or [i for i in live if set(i.topics) & topics]
    if not pool:
        return []

    def closeness(item: QuizItem) -> tuple[bool, int]:
        return (item.topics[0] == main, len(set(item.topics) & topics))

    best = max(closeness(i) for i in pool)
    return [i for i in pool if closeness(i) == best]


def question_message(item: QuizItem, actor_key: str) -> Message:
    order = list(range(len(item.options)))
    random.Random(f"{item.id}|{actor_key}").shuffle(order)
    lines = [f"{LETTERS[n]}. {item.options[i].text.text()}" for n, i in enumerate(order)]
    stem = item.stem.text()
    return Message(
        text=f"Quick question: {stem} " + " ".join(lines),
        blocks=(
            Heading("Quick question on this tip"),
            Section(stem),
            Section("\n".join(lines)),
            Actions(
                tuple(
                    Button(
                        LETTERS[n],
                        "tip:quizanswer",
                        button_value(item.id, i),
                        accessibility_label=f"{LETTERS[n]}: {item.options[i].text.text()}",
                    )
                    for n, i in enumerate(order)
                )
            ),
            Context(("Only you can see this question and your answer.",)),
        ),
        private=True,
    )


async def quiz_me(turn: Turn) -> None:
    delivery = _tips(turn)
    tip = delivery.tip(turn.incoming.value)
    content = turn.services.content
    items = list(content.quiz_items.values()) if content else []
    found = related_items(tip, items) if tip else []
    if not found:
        await turn.reply("I don't have a question on this tip yet.", private=True)
        return
    item = random.choice(found)
    quiz = _quiz(turn)
    if quiz is not None and tip is not None:
        await quiz.tip_question_shown(turn, item, tip.id)
    await turn.reply(question_message(item, turn.actor.key))


def _quiz(turn: Turn) -> Quiz | None:
    """The quiz feature, when it is on: it records answers to a tip's question with every
    other quiz answer (for /quiz stats and spaced repetition)."""
    from content.quiz.feature import Quiz

    return turn.services.find_feature(Quiz)


async def quiz_answer(turn: Turn) -> None:
    item_id, index_text = value_parts(turn.incoming.value, 2) or ("", "")
    content = turn.services.content
    item = content.item(item_id) if content else None
    if item is None or not index_text.isdecimal() or int(index_text) >= len(item.options):
        await turn.reply("That question is no longer available.", private=True)
        return
    choice = int(index_text)
    quiz = _quiz(turn)
    # Recorded once per question shown: a double click or a second try is not counted.
    result = await quiz.record_tip_answer(turn, item, choice) if quiz is not None else None
    right = choice == item.correct_index
    answer = item.options[item.correct_index].text.text()
    verdict = "Right!" if right else "Not quite."
    # A full stop, as the option text has none and the explanation follows in the fallback.
    text = f"{verdict} The answer is: {answer}."
    explanation = item.explanation.text()
    source = f"Source: {item.source.title} ({item.source.url})"
    small = [source]
    if result is not None and result.status == "duplicate":
        small.append("You'd already answered this question, so only your first answer counts.")
    await turn.reply(
        Message(
            text=" ".join([text, explanation, *small]),
            blocks=(
                Heading(verdict),
                Section(f"The answer is: {answer}."),
                Section(explanation),
                Context(tuple(small)),
            ),
            private=True,
        )
    )


# --- wiring -----------------------------------------------------------------------------


def setup(host: FeatureHost) -> None:
    delivery = TipDelivery(host.services)
    host.services.provide(delivery)
    host.registry.add_command(
        "tip",
        "A security tip now, or a daily tip in this channel",
        tip_command,
        aliases=("tips",),
        usage="tip [subscribe|unsubscribe|status]",
    )
    host.registry.add_action("tip", tip_action)
    host.add_background(delivery.background)
