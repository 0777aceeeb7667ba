"""A notification: the message queued for one causing event, and its row in the delivery log."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from notification.domain import sms_texts
from notification.domain.applicant import ApplicationContact
from notification.domain.messages import Rendered
from notification.domain.phone import InvalidPhone, normalise_kz_mobile

# Deterministic ids: the same event always yields the same notification id, so applying it again cannot create a
# second message (the UNIQUE constraint would refuse it anyway).
_NOTIFICATION_NS = uuid.UUID("6f1b7c1e-5b1a-4c39-9a52-2f0f7f3d8a10")

PENDING = "pending"
# An SMS the provider accepted, waiting for its delivery report (ADR 0038); e-mail goes from pending to an outcome.
SENT = "sent"
DELIVERED = "delivered"
FAILED = "failed"
SKIPPED_NO_ADDRESS = "skipped_no_address"

EMAIL = "email"
SMS = "sms"


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


@dataclass(frozen=True)
class Address:
    """Where a notice goes: the channel and the recipient on it (an e-mail address, or a phone as +77…)."""

    channel: str
    recipient: str


def email_when_there_is_an_address_else_sms(app: ApplicationContact) -> Address | str:
    """One channel per notice, or the reason there is none (ADR 0038): the e-mail address when the application
    gives one — the letter carries everything (reasons, documents, the place); otherwise an SMS to a Kazakh mobile
    number. Not both: the regulations require neither channel in particular (only that the applicant is told,
    S002 §2.2 for the extension notice), and each extra copy spreads the notice, and the personal data in it, to one
    more outside system."""
    if app.email:
        return Address(EMAIL, app.email)
    if not app.phone:
        return "no e-mail address or phone number given"
    try:
        return Address(SMS, normalise_kz_mobile(app.phone))
    except InvalidPhone as exc:
        return f"no e-mail address given, and the phone cannot take an SMS: {exc}"


def new_notification(
    app: ApplicationContact,
    rendered: Rendered,
    to: Address | str,
    *,
    sms_values: Mapping[str, str],
    source_event_id: str,
    correlation_id: str,
) -> NewNotification:
    """The message to queue: pending on its channel — an SMS with its short text (`sms_texts`), quoting `number`
    (default: the application's receipt number) and the template's other `sms_values` — or, without an address,
    logged as skipped with the reason, so the gap is visible instead of the message silently dropped."""
    body = rendered.body
    if isinstance(to, Address) and to.channel == SMS:
        if sms_texts.has_text(rendered.template, rendered.lang):
            values = dict(sms_values)
            number = values.pop("number", None) or app.receipt_number or "—"
            body = sms_texts.render(rendered.template, rendered.lang, number=number, **values)
        else:
            to = f"no e-mail address given, and the {rendered.template} notice has no SMS text"
    if isinstance(to, str):
        channel, recipient, status, error = EMAIL, "", SKIPPED_NO_ADDRESS, to
    else:
        channel, recipient, status, error = to.channel, to.recipient, PENDING, None
    return NewNotification(
        application_id=app.application_id,
        source_event_id=source_event_id,
        channel=channel,
        recipient=recipient,
        template=rendered.template,
        subject=rendered.subject,
        body=body,
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
    # SMS only: how many times the text was handed to the provider anew after a failed delivery report; each
    # round has its own client reference, which the provider dedupes on (domain.sms_reports).
    send_round: int = 0
