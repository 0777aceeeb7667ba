"""The SMTP sender against a local aiosmtpd server: headers, UTF-8, and which failures are worth retrying."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from notification.adapters.smtp import SmtpMailer
from notification.domain.delivery import DeliveryError, RetryPolicy
from notification.domain.mail import build_message


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.received: list[bytes] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.reply.startswith("5") and "rcpt" in self.reply:
            return "550 5.1.1 mailbox unavailable (rcpt)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.original_content or envelope.content)
        return self.reply


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[tuple[_Handler, int]]:
    handler = _Handler(getattr(request, "param", "250 OK"))
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _message() -> EmailMessage:
    return build_message(
        notification_id="4f1c0de0-0000-4000-8000-000000000001",
        sender="no-reply@bt.example",
        recipient="aigerim@example.kz",
        subject="Результат готов / Нәтиже дайын — № R-1",
        body="Уважаемая Айгерим!\nҚұрметті Айгерим!\n",
        date=dt.datetime(2025, 11, 3, 10, 30, tzinfo=ZoneInfo("Asia/Almaty")),
    )


def test_message_carries_a_stable_message_id_and_utf8_text() -> None:
    m = _message()
    assert m["Message-ID"] == "<4f1c0de0-0000-4000-8000-000000000001@bt.example>"
    assert m["To"] == "aigerim@example.kz"
    assert m["Content-Language"] == "ru, kk"
    assert m.get_content_charset() == "utf-8"
    # The date of the attempt, from the service's clock, in the form mail readers expect.
    assert m["Date"].datetime == dt.datetime(2025, 11, 3, 5, 30, tzinfo=dt.UTC)
    assert "Құрметті" in m.get_content()


async def test_sends_over_smtp(smtp_server: tuple[_Handler, int]) -> None:
    handler, port = smtp_server
    await SmtpMailer("127.0.0.1", port, timeout_s=5).send(_message())
    assert len(handler.received) == 1
    assert b"Message-ID: <4f1c0de0-0000-4000-8000-000000000001@bt.example>" in handler.received[0]


async def test_nobody_listening_is_a_transient_failure() -> None:
    with pytest.raises(DeliveryError) as caught:
        await SmtpMailer("127.0.0.1", _free_port(), timeout_s=2).send(_message())
    assert not caught.value.permanent


@pytest.mark.parametrize("smtp_server", ["451 4.3.0 try again later"], indirect=True)
async def test_a_4xx_reply_is_transient(smtp_server: tuple[_Handler, int]) -> None:
    with pytest.raises(DeliveryError) as caught:
        await SmtpMailer("127.0.0.1", smtp_server[1], timeout_s=5).send(_message())
    assert not caught.value.permanent
    assert "451" in str(caught.value)


@pytest.mark.parametrize("smtp_server", ["554 5.7.1 rejected"], indirect=True)
async def test_a_5xx_reply_is_permanent(smtp_server: tuple[_Handler, int]) -> None:
    with pytest.raises(DeliveryError) as caught:
        await SmtpMailer("127.0.0.1", smtp_server[1], timeout_s=5).send(_message())
    assert caught.value.permanent


@pytest.mark.parametrize("smtp_server", ["5xx rcpt"], indirect=True)
async def test_a_refused_recipient_is_permanent(smtp_server: tuple[_Handler, int]) -> None:
    with pytest.raises(DeliveryError) as caught:
        await SmtpMailer("127.0.0.1", smtp_server[1], timeout_s=5).send(_message())
    assert caught.value.permanent
    assert "recipient refused" in str(caught.value)


def test_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=6, backoff_s=2.0, backoff_max_s=10.0)
    assert [policy.delay_after(a) for a in range(1, 6)] == [2.0, 4.0, 8.0, 10.0, 10.0]
