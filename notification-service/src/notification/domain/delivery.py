"""The delivery policy: how often a message is tried, how long to wait between tries, which failures are final,
and how long a claimed message belongs to the worker that claimed it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from notification.domain.notification import Notification

# What the delivery log keeps of an error: the start says what went wrong; a whole traceback is not for the log.
MAX_ERROR_CHARS = 2000


class DeliveryError(Exception):
    """A send that did not go through. `permanent` ones (the server refused the message or recipient for good,
    SMTP 5xx) are not retried; the rest (server away, timeouts, 4xx) are."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_s: float = 5.0
    backoff_max_s: float = 600.0
    # How long a claimed message stays with the worker that claimed it: after that, a worker that died mid-send
    # has its message tried again. Must exceed the longest send.
    lease_s: float = 120.0

    def delay_after(self, attempt: int) -> float:
        """Backoff: base × 2^(attempt-1), capped."""
        return float(min(self.backoff_s * 2 ** (attempt - 1), self.backoff_max_s))

    def gives_up(self, attempts: int, *, permanent: bool) -> bool:
        """A permanent refusal ends delivery at once; a transient failure ends it on the last allowed attempt."""
        return permanent or attempts >= self.max_attempts

    def retry_at(self, attempts: int, now: dt.datetime) -> dt.datetime:
        """When a message that failed its `attempts`-th try is due again."""
        return now + dt.timedelta(seconds=self.delay_after(attempts))


def error_text(error: str) -> str:
    return error[:MAX_ERROR_CHARS]


def an_interrupted_last_attempt_fails_the_message(n: Notification) -> str:
    """The error recorded for a message whose last allowed attempt was claimed but never recorded (its worker
    stopped mid-send): it is not tried again — that would exceed the attempts — and fails with this reason."""
    return (
        f"attempt {n.attempts} was interrupted before its outcome was recorded"
        f" (last error: {n.last_error or 'none'})"
    )
