"""Sends e-mail over SMTP (stdlib smtplib in a worker thread) and tells permanent failures from transient ones."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol


class DeliveryError(Exception):
    """A send that did not go through. `permanent` ones (the server refused the message or recipient for good,
    SMTP 5xx) are not retried; the rest (server away, timeouts, 4xx) are."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


def build_message(
    *, notification_id: str, sender: str, recipient: str, subject: str, body: str
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    # The same Message-ID on every attempt: if a retry follows a send whose outcome was lost, the receiving side
    # can recognise the duplicate.
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<{notification_id}@{domain}>"
    msg.set_content(body, charset="utf-8")
    # After set_content, which drops any Content-* header set before it.
    msg["Content-Language"] = "ru, kk"
    return msg


class SmtpMailer:
    def __init__(self, host: str, port: int, *, timeout_s: float) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s

    async def send(self, message: EmailMessage) -> None:
        # smtplib blocks; a thread keeps the event loop (consumers, relay, HTTP) responsive while it talks.
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"recipient refused: {exc.recipients!r}", permanent=all(500 <= c < 600 for c in codes)
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=500 <= exc.smtp_code < 600
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"SMTP {self.host}:{self.port} unavailable: {exc!r}", permanent=False
            ) from exc
