"""People's rights: admins export everything secbot holds about a person (a JSON file)
and erase it (after a confirmation that lists what will go).

The person is picked by name with a :class:`PersonPicker` (Slack's user menu, a Teams
people picker, the web chat's list of people), never by typing an id. Both are recorded
in the audit log with the person's pseudonym, never their name.
"""

from __future__ import annotations

import re

from bot import audit
from bot.audit.files import only_in_direct, private_note, upload
from bot.core import Turn
from bot.core.actions import verb
from bot.core.features import FeatureHost
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
from bot.privacy.data import Found, Person, PersonalData, counts, describe, names_in
from bot.privacy.pseudonyms import code, label, secret_key

_USER_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
MAX_CHOICES = 100
EXPORT, ERASE, CONFIRM, CANCEL = "rights:export", "rights:erase", "rights:confirm", "rights:cancel"
REFUSAL = (
    "Only secbot admins can export or erase what secbot holds about a person. If you want "
    "a copy of your own data, or want it erased, please ask one of your secbot admins."
)


async def _choices(turn: Turn) -> tuple[Choice, ...]:
    """Who the web chat's picker lists (Slack and Teams pickers find people themselves)."""
    transport = turn.services.transports.get(turn.place.platform)
    people = await transport.people(turn.place.workspace) if transport else []
    return tuple(Choice(p.name or p.user_id, p.user_id) for p in people[:MAX_CHOICES])


async def picker(turn: Turn, action: str, prompt: str) -> None:
    blocks = (
        Section(prompt),
        PersonPicker(action, "Choose a person", "", await _choices(turn)),
    )
    await turn.reply(Message(text=prompt, blocks=blocks, private=True))


async def export_command(turn: Turn) -> None:
    if await only_in_direct(turn, "export-person"):
        await picker(turn, EXPORT, "Whose data should I export? Choose them by name.")


async def erase_command(turn: Turn) -> None:
    await picker(
        turn,
        ERASE,
        "Whose data should I erase? Choose them by name. I'll show you what will go first.",
    )


async def _picked(turn: Turn) -> Person | None:
    """The person chosen in the picker (or on the confirm button), with their name."""
    user_id = turn.incoming.form.get(PERSON_FIELD, "").strip() or turn.incoming.value.strip()
    if not _USER_ID.match(user_id):
        await turn.reply(private_note("Choose someone from the list first."))
        return None
    place = turn.place
    transport = turn.services.transports.get(place.platform)
    name = ""
    if transport is not None:
        try:
            found = await transport.lookup(place.workspace, user_id, place)
        except Exception:  # noqa: BLE001 - the records name them anyway
            found = None
        name = found.name if found is not None else ""
    return Person(place.platform, place.workspace, user_id, name)


async def on_action(turn: Turn) -> None:
    """``rights:*``. Admins only: a forged click from anyone else is refused like the
    commands are."""
    if not turn.services.is_admin(turn.actor):
        await turn.reply(private_note(REFUSAL))
        return
    step = verb(turn.incoming.action_id.split("#", 1)[0])
    if step == "cancel":
        await turn.update_original(private_note("Nothing was erased."))
        return
    person = await _picked(turn)
    if person is None:
        return
    if step == "export":
        await export(turn, person)
    elif step == "erase":
        await confirm(turn, person)
    elif step == "confirm":
        await erase(turn, person)
    else:
        await turn.reply(private_note("That button is no longer active."))


async def _key(turn: Turn) -> bytes:
    services = turn.services
    return await secret_key(services.db, services.settings.pseudonym_secret, services.clock.now())


def _who(person: Person, found: list[Found]) -> str:
    """Their name from the platform, else as the records give it, else "that person"."""
    named = names_in(found, person)
    return person.name or (named[0] if named else "that person")


async def export(turn: Turn, person: Person) -> None:
    if not await only_in_direct(turn, "export-person"):
        return
    key = await _key(turn)
    pseudonym = label(key, person.workspace, person.key)
    now = turn.services.clock.now()
    data = PersonalData(turn.services.db)
    found = await data.find(person)
    about = await audit.AuditLog(turn.services.db).about(person.key, [pseudonym])
    document = await data.export(person, now, audit_entries=about)
    filename = f"secbot-person-{code(key, person.workspace, person.key)}-{now:%Y-%m-%d}.json"
    await upload(turn, filename, document)
    rows = sum(n for _, n in counts(found))
    await turn.reply(
        private_note(
            f"Here is everything secbot holds about {_who(person, found)}: {rows} records. "
            "It is personal data: keep it only as long as the request needs it."
        )
    )
    await audit.record(
        turn, "exported a person's data", f"{rows} records, as JSON", about=pseudonym
    )


async def confirm(turn: Turn, person: Person) -> None:
    found = await PersonalData(turn.services.db).find(person)
    going = [(held, n) for held, n in counts(found) if held.erase != "keep"]
    if not going:
        await turn.reply(
            private_note(f"secbot holds nothing about {_who(person, found)} to erase.")
        )
        return
    lines = describe(going)
    intro = (
        f"This erases what secbot holds about {_who(person, found)}. Incident records keep their "
        "shape, with a pseudonym such as “Person 3f2a9c” in place of the person. "
        "It cannot be undone:"
    )
    blocks = (
        Heading("Erase a person's data?"),
        Section(intro),
        Section("\n".join(f"• {x}" for x in lines)),
        Actions(
            (
                Button("Erase for good", CONFIRM, person.user_id, style="danger"),
                Button("Cancel", CANCEL),
            )
        ),
        Context(("The audit log keeps a record that this was done, without the name.",)),
    )
    text = "\n".join([intro, *lines])
    await turn.reply(Message(text=text, blocks=blocks, private=True))


async def erase(turn: Turn, person: Person) -> None:
    key = await _key(turn)
    pseudonym = label(key, person.workspace, person.key)
    done = await PersonalData(turn.services.db).erase(person, key)
    done = [(held, n) for held, n in done if held.erase != "keep"]
    if not done:
        await turn.update_original(private_note("There was nothing left to erase."))
        return
    deleted = sum(n for held, n in done if held.erase == "delete")
    kept = sum(n for held, n in done if held.erase == "pseudonymise")
    text = (
        f"Erased. {deleted} records were deleted, and {kept} incident and channel records "
        f"now name {pseudonym} instead."
    )
    await turn.update_original(private_note(text))
    await audit.record(
        turn,
        "erased a person's data",
        f"{deleted} records deleted, {kept} kept with a pseudonym",
        about=pseudonym,
    )


def setup(host: FeatureHost) -> None:
    host.registry.add_command(
        "export-person",
        "Admins: everything secbot holds about a person, as a JSON file",
        export_command,
        aliases=("person-export",),
        usage="export-person",
        hidden=True,
        admin_only=True,
        refusal=REFUSAL,
    )
    host.registry.add_command(
        "erase-person",
        "Admins: erase what secbot holds about a person (you confirm first)",
        erase_command,
        aliases=("forget-person",),
        usage="erase-person",
        hidden=True,
        admin_only=True,
        refusal=REFUSAL,
    )
    host.registry.add_action("rights", on_action)
