"""The register as a CSV file in chat: ``register export`` (admins) sends the whole
register as a file; a CSV shared with secbot whose first line names the register's
columns is an import, checked row by row and shown as a dry run (nothing changes) with
an "Import" button that applies the good rows once (``imports.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.audit.files import only_in_direct
from bot.core.model import Message, Section
from bot.core.tenancy import tenant_of, tenants_of
from incidents.register import audit_trail, csv_io, fields, views
from incidents.register.imports import Imports

if TYPE_CHECKING:
    from bot.core import Services, Turn
    from incidents.register.store import RegisterStore

ADMINS_ONLY = "Only secbot admins can {what}. Please ask one of your secbot admins."


def note(text: str) -> Message:
    return Message(text, (Section(text),), private=True)


_note = note


class CsvFlow:
    def __init__(self, services: Services, store: RegisterStore):
        self.services = services
        self.store = store
        self.imports = Imports(services.db, store)

    def is_admin(self, turn: Turn) -> bool:
        return self.services.is_admin(turn.actor)

    async def export(self, turn: Turn) -> None:
        if not self.is_admin(turn):
            await turn.reply(_note(ADMINS_ONLY.format(what="export the whole register")))
            return
        # Recovery contacts and who has access: a file in a channel (Slack shares an
        # upload with everyone there, however private the message) would show them all.
        if not await only_in_direct(turn, "register export"):
            return
        accounts = await self.store.accounts(tenants_of(turn.place))
        await audit_trail.changed(turn, "exported the register", f"{len(accounts)} accounts")
        text = f"The register: {len(accounts)} accounts, as CSV."
        await turn.reply(
            Message(text, (Section(text),), private=True,
                    attachment=("accounts-register.csv", csv_io.export(accounts)))
        )  # fmt: skip

    async def explain_import(self, turn: Turn) -> None:
        if not self.is_admin(turn):
            await turn.reply(_note(ADMINS_ONLY.format(what="import the register")))
            return
        await turn.reply(
            _note(
                "Share the CSV file with me here, as a file. I'll check every row and show "
                "you what would change before anything is imported. The first line names "
                "the columns: " + ", ".join(csv_io.HEADER) + "."
            )
        )

    async def on_files(self, turn: Turn) -> bool:
        """A CSV shared with secbot whose first line names the register's columns is a
        register import: checked row by row and shown as a dry run."""
        transport = self.services.transports.get(turn.place.platform)
        for file in turn.incoming.files:
            if not file.name.lower().endswith(".csv") or transport is None:
                continue
            data = await transport.download(file, csv_io.MAX_BYTES + 1)
            if data is None:
                await turn.reply(_note(f"{file.name} is over 2 MB: split it and share each part."))
                return True
            if not csv_io.looks_like_register(data):
                continue
            if not self.is_admin(turn):
                await turn.reply(_note(ADMINS_ONLY.format(what="import the register")))
                return True
            parsed = csv_io.parse(data, fields.latest_review(self.services.clock.now()))
            if parsed.refused:
                await turn.reply(_note(f"{file.name}: {parsed.refused} Nothing was imported."))
                return True
            staged = None
            if parsed.rows:
                staged = await self.imports.stage(
                    tenant_of(turn.place), turn.actor, file.name,
                    [d for _, d in parsed.rows], self.services.clock.now(),
                )  # fmt: skip
            await turn.reply(views.preview(parsed, staged, file.name))
            return True
        return False

    async def finish_import(self, turn: Turn, kind: str, staged: str) -> None:
        gone = _note("That import is not waiting any more (applied, cancelled or not yours).")
        if not staged.isdigit() or not self.is_admin(turn):
            await turn.reply(gone)
            return
        now, tenants = self.services.clock.now(), tenants_of(turn.place)
        if kind == "discard":
            done = await self.imports.discard(int(staged), tenants, turn.actor, now)
            await (turn.update_original(_note("Cancelled: nothing was imported.")) if done
                   else turn.reply(gone))  # fmt: skip
            return
        applied = await self.imports.apply(int(staged), tenants, turn.actor, now)
        if applied is None:
            await turn.reply(gone)
            return
        await audit_trail.changed(
            turn, "imported accounts into the register",
            f"{applied.added} added, {applied.updated} updated",
        )  # fmt: skip
        await turn.update_original(
            _note(f"Imported: {applied.added} accounts added, {applied.updated} updated.")
        )
