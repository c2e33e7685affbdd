"""A mail server for the e-mail paging target: aiosmtpd with a handler that keeps every
message it accepts (``envelopes``), so a test reads what was sent."""

from __future__ import annotations


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"
