"""Plain-text email through your own SMTP server (``SECBOT_SMTP_*``)."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from incidents.paging import wording
from incidents.paging.model import severity_label
from incidents.paging.providers.base import (
    HTTP_TIMEOUT,
    PageRequest,
    Provider,
    ProviderResult,
    network_detail,
)


class SmtpProvider(Provider):
    kind = "email"
    label = "email"

    def message(self, page: PageRequest, sender: str) -> EmailMessage:
        """A plain-text email (no HTML part, so nothing typed can become markup); every
        fact is inert and on its own line, and the subject is one line of at most 200."""
        info = page.incident.inert()
        msg = EmailMessage()
        msg["Subject"] = wording.one_line(wording.title(info), wording.SUBJECT_LIMIT)
        msg["From"] = sender
        msg["To"] = ", ".join(page.target.to)
        msg["Date"] = format_datetime(page.now)
        digest = hashlib.sha256(page.key.encode()).hexdigest()[:32]
        msg["Message-ID"] = f"<{digest}@secbot.paging>"
        msg["X-Secbot-Incident"] = wording.one_line(info.id, 200)
        lines = [
            wording.page_text(info, page.ack_hint, page.step, page.round),
            "",
            f"Summary: {info.summary}",
            f"Severity: {severity_label(info.severity)}",
            f"Account: {wording.account_on(info)}",
            f"Department: {info.department or 'not given'}",
            f"Reported by: {info.reporter}",
            f"Incident: {info.id}",
        ]
        msg.set_content("\n".join(lines) + "\n")
        return msg

    async def send(self, page: PageRequest) -> ProviderResult:
        settings = self.ctx.settings
        host, sender = settings.smtp_host, settings.smtp_from
        if not host or not sender:
            missing = "SECBOT_SMTP_HOST" if not host else "SECBOT_SMTP_FROM"
            return ProviderResult(False, False, f"email: {missing} is not set")
        port = settings.smtp_port
        implicit_tls = port == 465
        starttls = settings.smtp_starttls
        try:
            await aiosmtplib.send(
                self.message(page, sender),
                hostname=host,
                port=port,
                username=settings.smtp_user,
                password=settings.smtp_password,
                use_tls=implicit_tls,
                start_tls=False if implicit_tls else starttls,
                timeout=HTTP_TIMEOUT,
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            codes = [r.code for r in e.recipients]
            retryable = bool(codes) and all(400 <= c < 500 for c in codes)
            return ProviderResult(
                False, retryable, f"email: the server refused the recipients {codes}"
            )
        except aiosmtplib.SMTPResponseException as e:
            retryable = 400 <= e.code < 500
            return ProviderResult(False, retryable, f"email: the server answered {e.code}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as e:
            return ProviderResult(False, True, f"email: {network_detail(e)}")
        return ProviderResult(True, detail="the SMTP server accepted it")
