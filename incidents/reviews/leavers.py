"""``/secbot leaver @person`` (admins): every registered account the person can reach,
and a removal task per account sent to its owner, who confirms once they have taken the
person off the platform. The confirmation takes them off the register too.

The person is named by a mention or chosen in a person picker; they are shown by name.
Running it again for the same person opens no second task per account (UNIQUE) and
messages no owner twice; it lists where each task stands.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.actions import action_id, button_value, value_ints
from bot.core.hints import typed
from bot.core.inert import one_line
from bot.core.model import (
    PERSON_FIELD,
    Actions,
    Button,
    Choice,
    Context,
    Heading,
    Message,
    PersonPicker,
    Section,
)
from bot.core.tenancy import tenants_of
from incidents.register import audit_trail
from incidents.reviews.reviews import tell
from incidents.reviews.store import LeaverTask, ReviewStore
from incidents.times import london

if TYPE_CHECKING:
    from bot.core import Services, Turn
    from incidents.register.model import Account
    from incidents.register.store import RegisterStore

log = logging.getLogger(__name__)

PICK, CONFIRM = action_id("leaver", "pick"), action_id("leaver", "confirm")
_SLACK_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")
_MENTION = re.compile(r"^<@([A-Za-z0-9_.:\-]{1,100})>$")
_USER_ID = re.compile(r"^@?([A-Za-z0-9_.\-]{1,100})$")
MAX_CHOICES = 100
UNKNOWN = "this person"  # a leaver whose name can't be looked up
NOT_YOURS = "Only the account's owner and secbot admins can confirm this removal."


def _say(text: str) -> Message:
    return Message(text, (Section(text),), private=True)


def mentioned(word: str, platform: str) -> str | None:
    """The platform user id a typed mention names, or None."""
    for pattern in (_SLACK_MENTION, _MENTION, _USER_ID):
        m = pattern.match(word)
        if m and (pattern is not _SLACK_MENTION or platform == "slack"):
            ident = m.group(1)
            head, sep, rest = ident.partition(":")
            return rest if sep and head == platform else ident
    return None


def _sentence(text: str) -> str:
    """A sentence that starts with the leaver's name, which is "this person" when it
    can't be looked up: then with a capital (a real name is left as it is written)."""
    return "T" + text[1:] if text.startswith(UNKNOWN) else text


def _task_line(t: LeaverTask) -> str:
    state = (
        f"removed, confirmed by {t.confirmed_by_name} ({london(t.confirmed_at)})"
        if t.confirmed_at
        else f"waiting for {t.owner_name} to confirm"
    )
    return f"{one_line(t.account_title, 100)}: {state}"


class Leavers:
    def __init__(self, services: Services, register: RegisterStore, store: ReviewStore):
        self.services = services
        self.register = register
        self.store = store

    def now(self) -> datetime:
        return self.services.clock.now()

    async def name(self, turn: Turn, user_id: str) -> str:
        transport = self.services.transports.get(turn.place.platform)
        if transport is not None:
            try:
                found = await transport.lookup(turn.place.workspace, user_id, where=turn.place)
            except Exception:  # noqa: BLE001 - no name: say so in plain words
                found = None
            if found is not None and found.name:
                return one_line(found.name, 100)
        return UNKNOWN

    async def command(self, turn: Turn) -> None:
        words = turn.args.split()
        if not words:
            await self.picker(turn)
            return
        user_id = mentioned(words[0], turn.place.platform) if len(words) == 1 else None
        if user_id is None:
            await turn.reply(
                _say(
                    "I can't tell who that is. Type "
                    f"{typed(turn.place, 'leaver @person', slack_command='secbot')}"
                    " with one mention, or just "
                    f"{typed(turn.place, 'leaver', slack_command='secbot')} to choose them."
                )
            )
            return
        await self.leaver(turn, await self.canonical(turn, user_id))

    async def canonical(self, turn: Turn, user_id: str) -> str:
        """The id the platform keys the person by (a Teams @mention names the Teams id;
        the roster answers with the Entra object id the register keeps)."""
        transport = self.services.transports.get(turn.place.platform)
        if transport is None:
            return user_id
        try:
            found = await transport.lookup(turn.place.workspace, user_id, where=turn.place)
        except Exception:  # noqa: BLE001 - keep what was typed
            return user_id
        return found.user_id if found is not None and found.user_id else user_id

    async def picker(self, turn: Turn) -> None:
        transport = self.services.transports.get(turn.place.platform)
        people = await transport.people(turn.place.workspace) if transport else []
        choices = tuple(Choice(p.name or "someone", p.user_id) for p in people[:MAX_CHOICES])
        text = "Who is leaving? I'll list the registered accounts they can reach."
        await turn.reply(
            Message(
                text,
                (Section(text), PersonPicker(PICK, "Choose a person", "", choices)),
                private=True,
            )
        )

    async def action(self, turn: Turn) -> None:
        action = turn.incoming.action_id.split("#", 1)[0]
        if action == PICK:
            if not self.services.is_admin(turn.actor):
                await turn.reply(_say("Only secbot admins can start a leaver's removals."))
                return
            user_id = turn.incoming.form.get(PERSON_FIELD, "").strip()
            if not _USER_ID.match(user_id):
                await self.picker(turn)
                return
            await self.leaver(turn, user_id.lstrip("@"))
        elif action == CONFIRM:
            await self.confirm(turn)
        else:
            await turn.reply(_say("That button is no longer active."))

    async def leaver(self, turn: Turn, user_id: str) -> None:
        name = await self.name(turn, user_id)
        accounts = await self.register.for_person(tenants_of(turn.place), user_id)
        if not accounts:
            await turn.reply(
                _say(_sentence(f"{name} isn't named on any registered account, so there's"
                               " nothing to remove."))
            )
            return
        tasks = [await self.open_task(turn, user_id, name, a) for a in accounts]
        await audit_trail.changed(turn, "opened leaver removals", f"{len(tasks)} accounts")
        head = _sentence(
            f"{name} can reach {len(accounts)} registered account"
            f"{'s' if len(accounts) != 1 else ''}. I've asked each owner to remove them and"
            " confirm."
        )
        lines = [_task_line(t) for t in tasks]
        await turn.reply(
            Message(
                head + "\n" + "\n".join(lines),
                (
                    Heading(f"Leaver: {name}"),
                    Section(head),
                    *(Section(x) for x in lines[:40]),
                    Context(("Owners are asked in a direct message.",)),
                ),
                private=True,
            )
        )

    async def open_task(self, turn: Turn, user_id: str, name: str, account: Account) -> LeaverTask:
        owner = account.owner
        person_key = next((a.person.key for a in account.access if a.person.user_id == user_id), "")
        task, new = await self.store.open_task(
            tenant=account.tenant,
            leaver_id=user_id,
            leaver_name=name,
            person_key=person_key,
            account_id=account.id,
            account_title=account.title,
            owner_id=owner.user_id if owner else "",
            owner_name=owner.label if owner else "no owner named",
            opened_at=self.now(),
            opened_by=turn.actor.key,
            opened_by_name=turn.actor.name,
        )
        if new:
            await self.ask_owner(turn, task)
        return task

    async def ask_owner(self, turn: Turn, task: LeaverTask) -> None:
        """The owner's direct message; with no owner (or the leaver owns it), the admin
        who ran the command gets the button instead."""
        mine = not task.owner_id or task.owner_id == task.leaver_id
        text = _sentence(
            f"{task.leaver_name} is leaving. Please take them off {task.account_title}"
            " (change the password too if they knew it), then confirm here."
        )
        if task.owner_id == task.leaver_id:
            text += " They own this account: please also name a new owner in the register."
        msg = Message(
            text,
            (
                Heading(f"Leaver: {one_line(task.account_title, 100)}"),
                Section(text),
                Actions((Button("Confirm removed", CONFIRM, button_value(task.id), "primary"),)),
            ),
        )
        if mine:
            await turn.reply(Message(msg.text, msg.blocks, private=True))
            return
        await tell(
            self.services, task.tenant, task.owner_id, task.owner_name, msg, turn.place.to_json()
        )

    async def confirm(self, turn: Turn) -> None:
        ids = value_ints(turn.incoming.value, 1)
        task = await self.store.task(tenants_of(turn.place), ids[0]) if ids else None
        account = await self.register.get(task.tenant, task.account_id) if task else None
        may = task is not None and (
            self.services.is_admin(turn.actor)
            or (account is not None and account.is_owner(turn.actor.user_id))
        )
        if task is None or not may:
            await turn.reply(_say(NOT_YOURS))
            return
        now = self.now()
        if await self.store.confirm_task(
            task.id, by=turn.actor.key, by_name=turn.actor.name, now=now
        ):
            if task.person_key:
                await self.register.remove_access(task.tenant, task.account_id, task.person_key)
            await audit_trail.changed(
                turn, "confirmed a leaver's removal", f"account #{task.account_id}"
            )
        fresh = await self.store.task(task.tenant, task.id)
        assert fresh is not None
        text = _sentence(
            f"{fresh.leaver_name} removed from {fresh.account_title}: confirmed by"
            f" {fresh.confirmed_by_name} ({london(fresh.confirmed_at or now)})."
        )
        await turn.update_original(Message(text, (Section(text),)))
