"""An SMS's client reference and what the provider's delivery reports mean (ADR 0038).

The reference is what the provider dedupes on: the same reference sent twice is one message. It is the
notification id for the first round and `<id>.<round>` after a failed report sent the text anew, so a retry of a
send whose answer was lost (same round) cannot make a second SMS, while a deliberate re-send (next round) does.

Report statuses are the provider's (SMSC.kz's numbering): interim ones change nothing, `1` is delivered, the rest
failed — for good when the number itself is wrong or barred, for now when the phone was off or out of reach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# The provider's limit on a client reference.
MAX_REFERENCE_CHARS = 40

INTERIM = "interim"
DELIVERED = "delivered"
FAILED_FOR_NOW = "failed_for_now"
FAILED_FOR_GOOD = "failed_for_good"

# status → (verdict, the reason recorded in the delivery log)
STATUSES: dict[int, tuple[str, str]] = {
    -1: (INTERIM, "waiting to be sent to the operator"),
    0: (INTERIM, "handed to the operator"),
    1: (DELIVERED, "delivered"),
    3: (FAILED_FOR_NOW, "expired: the phone was off or out of reach for the message's lifetime"),
    20: (FAILED_FOR_GOOD, "cannot be delivered (refused by the operator)"),
    22: (FAILED_FOR_GOOD, "wrong number"),
    23: (FAILED_FOR_GOOD, "prohibited: the subscriber has barred such messages"),
    24: (FAILED_FOR_NOW, "the provider account is out of funds"),
    25: (FAILED_FOR_NOW, "the number is unavailable right now"),
}


@dataclass(frozen=True)
class Sms:
    """What the provider is asked to send."""

    reference: str
    phone: str
    text: str


@dataclass(frozen=True)
class DeliveryReport:
    """One report from the provider, after its signature was checked."""

    reference: str
    phone: str
    status: int
    error_code: int | None


class UnreadableReport(ValueError):
    """A report that names no message of ours, or a status the protocol does not have; `field` names the part."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def reference(notification_id: str, send_round: int) -> str:
    return notification_id if send_round == 0 else f"{notification_id}.{send_round}"


def parse_reference(ref: str) -> tuple[str, int]:
    """(notification id, round) of a reference we made; UnreadableReport for anything else."""
    head, _, tail = ref.partition(".")
    try:
        notification_id = str(uuid.UUID(head))
        send_round = int(tail) if tail else 0
    except ValueError:
        raise UnreadableReport(
            f"{ref[:60]!r} is not a reference this service gave", field="body.id"
        ) from None
    if send_round < 0 or len(ref) > MAX_REFERENCE_CHARS:
        raise UnreadableReport(f"{ref[:60]!r} is not a reference this service gave", field="body.id")
    return notification_id, send_round


def verdict(status: int) -> tuple[str, str]:
    try:
        return STATUSES[status]
    except KeyError:
        raise UnreadableReport(f"unknown delivery status {status}", field="body.status") from None
