"""Sends e-mail over SMTP (stdlib smtplib in a worker thread) and tells permanent failures from transient ones."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from notification.domain.delivery import DeliveryError


class SmtpMailer:
    """`app.delivery.Mailer` over SMTP."""

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
