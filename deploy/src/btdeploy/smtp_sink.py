"""A local SMTP server that accepts every message and keeps it (in memory, optionally as .eml) instead of sending it."""

from __future__ import annotations

import argparse
import email.policy
import re
import signal
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    received_at: datetime
    path: Path | None

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def text(self) -> str:
        """The plain-text body (or the first body part there is), decoded."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self._sink._keep(envelope.mail_from or "", tuple(envelope.rcpt_tos), bytes(raw))
        return "250 Message accepted for delivery"


class SmtpSink:
    """Accepts mail on host:port in a background thread; tests read `messages_to(address)`."""

    def __init__(self, port: int, directory: Path | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.directory = directory
        self._messages: list[ReceivedMessage] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        # SMTPUTF8 because names and addresses of citizens may well not be ASCII.
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, enable_SMTPUTF8=True
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._lock:
            return list(self._messages)

    def messages_to(self, address: str) -> list[ReceivedMessage]:
        wanted = address.lower()
        return [m for m in self.messages if any(r.lower() == wanted for r in m.rcpt_tos)]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30.0) -> list[ReceivedMessage]:
        """Poll until `address` has at least `count` messages: delivery is asynchronous (events, retries)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages_to(address)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} message(s) to {address} after {timeout:.0f} s")
            time.sleep(0.05)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def _keep(self, mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes) -> None:
        message = BytesParser(policy=email.policy.default).parsebytes(raw)
        received_at = datetime.now(UTC)
        path = None
        if self.directory is not None:
            first = re.sub(r"[^A-Za-z0-9@._-]", "_", rcpt_tos[0] if rcpt_tos else "unknown")
            with self._lock:
                seq = len(self._messages) + 1
            path = self.directory / f"{received_at:%Y%m%dT%H%M%S%f}-{seq:05d}-{first}.eml"
            path.write_bytes(raw)
        with self._lock:
            self._messages.append(ReceivedMessage(mail_from, rcpt_tos, message, received_at, path))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m btdeploy.smtp_sink", description=__doc__)
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--dir", type=Path, default=None, help="write each message here as .eml")
    args = parser.parse_args(argv)
    sink = SmtpSink(args.port, args.dir, args.host)
    sink.start()
    print(
        f"SMTP sink on {args.host}:{args.port}" + (f", messages in {args.dir}" if args.dir else ""),
        flush=True,
    )
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    sink.stop()


if __name__ == "__main__":
    main()
