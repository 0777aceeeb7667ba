"""A notification: the message queued for one causing event, and its row in the delivery log."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from notification.domain.applicant import ApplicationContact
from notification.domain.messages import Rendered

# Deterministic ids: the same event always yields the same notification id, so applying it again cannot create a
# second message (the UNIQUE constraint would refuse it anyway).
_NOTIFICATION_NS = uuid.UUID("6f1b7c1e-5b1a-4c39-9a52-2f0f7f3d8a10")

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SKIPPED_NO_ADDRESS = "skipped_no_address"

EMAIL = "email"


@dataclass(frozen=True)
class NewNotification:
    application_id: str
    source_event_id: str
    channel: str
    recipient: str
    template: str
    subject: str
    body: str
    status: str
    last_error: str | None
    correlation_id: str | None

    @property
    def notification_id(self) -> str:
        return str(uuid.uuid5(_NOTIFICATION_NS, f"{self.source_event_id}:{self.channel}:{self.template}"))


def only_email_is_sent_and_a_missing_address_is_logged(
    app: ApplicationContact, rendered: Rendered, *, source_event_id: str, correlation_id: str
) -> NewNotification:
    """The message to queue: pending to the application's e-mail address, or, without one, logged as skipped with
    the reason, so the gap is visible instead of the message silently dropped (no SMS channel yet)."""
    if app.email:
        status, recipient, error = PENDING, app.email, None
    else:
        status, recipient = SKIPPED_NO_ADDRESS, ""
        error = (
            "no e-mail address given; phone only (SMS channel not available yet)"
            if app.phone
            else "no e-mail address given"
        )
    return NewNotification(
        application_id=app.application_id,
        source_event_id=source_event_id,
        channel=EMAIL,
        recipient=recipient,
        template=rendered.template,
        subject=rendered.subject,
        body=rendered.body,
        status=status,
        last_error=error,
        correlation_id=correlation_id,
    )


@dataclass(frozen=True)
class Notification:
    """One row of the delivery log."""

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
