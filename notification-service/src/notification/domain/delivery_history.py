"""The delivery log's history (ADR 0027, issue 10): each change of a row of `notifications` is an event of the
message's stream in this service's event store, appended in the transaction that changes the row; the row is the
fold of its stream (`fold`), which `notification.projections` rebuilds the log from.

Each event carries exactly the columns its change sets, under the columns' names, so the fold is the queued row
with each change laid over it — nothing counted again, no clock read. They are never published: civreg.notification
keeps carrying `NotificationDelivered`/`NotificationFailed` exactly as before (`app.delivery.announce_*`), and these
are the log's own bookkeeping (leases, retries, rounds), not news.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar

from btkernel.events.base import Event
from notification.domain.notification import Notification

# The message's stream: id = notification id.
STREAM_TYPE = "notification"


class DeliveryChange(Event):
    """A change of one row of the log: its fields are the columns it sets. No TOPIC: never published."""

    def columns(self) -> dict[str, Any]:
        return dict(self)


class NotificationQueued(DeliveryChange):
    """The message was queued (`pending`), or logged `skipped_no_address` with the reason: the whole row."""

    TYPE: ClassVar[str] = "bt.notification.queued.v1"
    notification_id: str
    application_id: str
    source_event_id: str
    channel: str
    recipient: str
    template: str
    subject: str
    body: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    correlation_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    send_round: int


class DeliveryRowCarriedOver(NotificationQueued):
    """A row from before the log had a history, as it stood when migration 041 gave it its stream: the opening
    of its history instead of `NotificationQueued`."""

    TYPE: ClassVar[str] = "bt.notification.row-carried-over.v1"


class DeliveryAttemptClaimed(DeliveryChange):
    """A worker claimed the message for one attempt, leased until `next_attempt_at`; on record before it sends."""

    TYPE: ClassVar[str] = "bt.notification.attempt-claimed.v1"
    attempts: int
    last_attempt_at: dt.datetime
    next_attempt_at: dt.datetime
    updated_at: dt.datetime


class DeliveryAttemptFailed(DeliveryChange):
    """The attempt failed for now; the message is due again at `next_attempt_at`."""

    TYPE: ClassVar[str] = "bt.notification.attempt-failed.v1"
    last_error: str
    next_attempt_at: dt.datetime
    updated_at: dt.datetime


class SmsHandedOver(DeliveryChange):
    """The SMS provider accepted the text (`sent`): its delivery report settles it (ADR 0038)."""

    TYPE: ClassVar[str] = "bt.notification.sms-sent.v1"
    status: str
    last_error: None
    updated_at: dt.datetime


class DeliveryRecorded(DeliveryChange):
    """Delivered: the mail server took the letter, or the SMS's delivery report said so; announced as
    `NotificationDelivered` in the same transaction."""

    TYPE: ClassVar[str] = "bt.notification.delivery-recorded.v1"
    status: str
    delivered_at: dt.datetime
    last_error: None
    updated_at: dt.datetime


class FailureRecorded(DeliveryChange):
    """Given up: announced as `NotificationFailed` in the same transaction."""

    TYPE: ClassVar[str] = "bt.notification.failure-recorded.v1"
    status: str
    last_error: str
    updated_at: dt.datetime


class SmsResendScheduled(DeliveryChange):
    """A delivery report said the SMS failed for now: pending again, in the next round (its own reference)."""

    TYPE: ClassVar[str] = "bt.notification.sms-resend-scheduled.v1"
    status: str
    send_round: int
    last_error: str
    next_attempt_at: dt.datetime
    updated_at: dt.datetime


class SmsReportAwaited(DeliveryChange):
    """An SMS still `sent`: when it is next asked about at the provider (a pass's lease, or the next check)."""

    TYPE: ClassVar[str] = "bt.notification.sms-report-awaited.v1"
    next_attempt_at: dt.datetime


def fold(events: Sequence[Event]) -> Notification:
    """The row its stream records: the queued (or carried-over) row, each later change laid over it."""
    first = events[0] if events else None
    if not isinstance(first, NotificationQueued):
        raise ValueError("a notification's stream opens with NotificationQueued or DeliveryRowCarriedOver")
    row = first.columns()
    for e in events[1:]:
        if not isinstance(e, DeliveryChange) or isinstance(e, NotificationQueued):
            raise ValueError(f"{e.TYPE} is not a change of a queued notification")
        row.update(e.columns())
    return Notification(**row)
