"""Builders of civreg.application events and envelopes for the notification tests, and the fakes the use cases run
on: an in-memory projection store, delivery log (with transactions), mailer and clock."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

from btkernel.envelope import Envelope
from btkernel.events.base import Event
from civreg.events.application import (
    ApplicationAcceptanceRefused,
    ApplicationResultReceived,
    ApplicationSubmitted,
)
from civreg.events.details import EXAMPLES
from notification.domain.applicant import ApplicationContact
from notification.domain.notification import DELIVERED, FAILED, PENDING, SENT, NewNotification, Notification
from notification.domain.sms_reports import Sms

SUBMITTED_AT = dt.datetime(2025, 11, 3, 5, 30, tzinfo=dt.UTC)  # 10:30 in Almaty
PICKUP = "ЦОН Алмалинского района г. Алматы, Almaty, Almaly district, Zheltoksan 120"


def person(
    surname: str = "Ахметова",
    first: str = "Айгерим",
    patronymic: str | None = "Нурлановна",
    iin: str = "900101400123",
) -> dict[str, Any]:
    return {"iin": iin, "name": {"surname": surname, "first_name": first, "patronymic": patronymic}}


def submitted(
    application_id: str | None = None,
    *,
    email: str | None = "aigerim@example.kz",
    phone: str | None = "+77011234567",
    centre_id: str = "almaty-con-1",
    representative: dict[str, Any] | None = None,
    receipt_number: str = "R-2025-000123",
) -> ApplicationSubmitted:
    application_id = application_id or str(uuid.uuid4())
    docs = [
        {"code": "identity_document", "name": "Документ, удостоверяющий личность заявителя"},
        {"code": "medical_birth_certificate", "name": "Медицинское свидетельство о рождении"},
    ]
    return ApplicationSubmitted.model_validate(
        {
            "application_id": application_id,
            "service_id": "birth_registration",
            "channel": "state_corporation",
            "centre_id": centre_id,
            "registry_office_id": "almaty-almaly",
            "submitted_at": SUBMITTED_AT,
            "applicant": person(),
            "representative": representative,
            "contact": {"email": email, "phone": phone},
            "details": EXAMPLES["birth_registration"],
            "documents": docs,
            "receipt": {
                "number": receipt_number,
                "accepted_at": SUBMITTED_AT,
                "service_id": "birth_registration",
                "service_name": "Регистрация рождения ребенка",
                "documents": docs,
                "documents_count": 2,
                "result_issue_date": "2025-11-05",
                "result_issue_place": PICKUP,
                "operator_name": "Сериков Ерлан",
                "applicant_name": "Ахметова Айгерим Нурлановна",
                "phones": [phone] if phone else [],
            },
        }
    )


def result_received(application_id: str, *, pickup_place: str = PICKUP) -> ApplicationResultReceived:
    return ApplicationResultReceived(
        application_id=application_id,
        case_id=str(uuid.uuid4()),
        outcome="registered",
        record_number="AR-2025-0042",
        received_at=SUBMITTED_AT + dt.timedelta(days=2),
        pickup_place=pickup_place,
    )


def refused(
    application_id: str | None = None,
    *,
    email: str | None = "aigerim@example.kz",
    phone: str | None = "+77011234567",
    centre_id: str = "almaty-con-2",
) -> ApplicationAcceptanceRefused:
    application_id = application_id or str(uuid.uuid4())
    presented = [{"code": "identity_document", "name": "Документ, удостоверяющий личность заявителя"}]
    missing = [
        {"code": "medical_birth_certificate", "name": "Медицинское свидетельство о рождении"},
        {"code": "unknown_paper", "name": "Справка, которой нет в каталоге"},
    ]
    return ApplicationAcceptanceRefused.model_validate(
        {
            "application_id": application_id,
            "service_id": "birth_registration",
            "channel": "state_corporation",
            "centre_id": centre_id,
            # 20:30 UTC is already the next day in Almaty: the message must show the local date.
            "refused_at": dt.datetime(2025, 11, 3, 20, 30, tzinfo=dt.UTC),
            "applicant": person(),
            "contact": {"email": email, "phone": phone},
            "refusal_receipt": {
                "number": "RR-2025-000007",
                "refused_at": dt.datetime(2025, 11, 3, 20, 30, tzinfo=dt.UTC),
                "service_id": "birth_registration",
                "service_name": "Регистрация рождения ребенка",
                "documents": presented,
                "missing_documents": missing,
                "reason": "неполный пакет документов",
                "operator_name": "Сериков Ерлан",
                "applicant_name": "Ахметова Айгерим Нурлановна",
                "phones": [],
            },
        }
    )


def envelope(event: Event, *, event_id: str | None = None, correlation_id: str | None = "corr-1") -> Envelope:
    env = Envelope.new(
        type=event.TYPE,
        source="/intake",
        subject=getattr(event, "application_id", "x"),
        data=event.to_data(),
        correlation_id=correlation_id,
        causation_id=None,
    )
    if event_id is None:
        return env
    return Envelope(
        id=event_id,
        type=env.type,
        source=env.source,
        subject=env.subject,
        time=env.time,
        data=env.data,
        correlation_id=env.correlation_id,
        causation_id=env.causation_id,
    )


class MemoryStore:
    """The projection's store in memory, with the same uniqueness the tables enforce."""

    def __init__(self) -> None:
        self.applications: dict[str, ApplicationContact] = {}
        self.notifications: dict[str, NewNotification] = {}

    async def save_application(self, app: ApplicationContact) -> None:
        self.applications[app.application_id] = app

    async def get_application(self, application_id: str) -> ApplicationContact | None:
        return self.applications.get(application_id)

    async def add_notification(self, n: NewNotification) -> bool:
        if n.notification_id in self.notifications:
            return False
        self.notifications[n.notification_id] = n
        return True


class FakeClock:
    """A clock that moves only when told: `now` for the use case, `advance` for the test."""

    def __init__(self, start: dt.datetime) -> None:
        self.moment = start

    def now(self) -> dt.datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += dt.timedelta(seconds=seconds)


class MemoryDeliveryLog:
    """The delivery log in memory with the same rules as the table's SQL (due-ness by the given clock, claims
    counted before sending, outcomes only for the current attempt), and transactions that roll back on error."""

    def __init__(self) -> None:
        self.rows: dict[str, Notification] = {}
        self.outbox: list[tuple[str, Envelope]] = []
        self.commits = 0
        self.rollbacks = 0

    def add(self, n: NewNotification, *, at: dt.datetime) -> Notification:
        row = Notification(
            notification_id=n.notification_id,
            application_id=n.application_id,
            source_event_id=n.source_event_id,
            channel=n.channel,
            recipient=n.recipient,
            template=n.template,
            subject=n.subject,
            body=n.body,
            status=n.status,
            attempts=0,
            last_error=n.last_error,
            next_attempt_at=at,
            last_attempt_at=None,
            delivered_at=None,
            correlation_id=n.correlation_id,
            created_at=at,
            updated_at=at,
        )
        self.rows[row.notification_id] = row
        return row

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[MemoryDeliveryLog]:
        rows, outbox = dict(self.rows), list(self.outbox)
        try:
            yield self
        except BaseException:
            self.rows, self.outbox = rows, outbox
            self.rollbacks += 1
            raise
        self.commits += 1

    def _due(self, now: dt.datetime) -> list[Notification]:
        due = [r for r in self.rows.values() if r.status == PENDING and r.next_attempt_at <= now]
        return sorted(due, key=lambda r: r.next_attempt_at)

    async def claim_due(
        self, *, now: dt.datetime, limit: int, max_attempts: int, lease_s: float
    ) -> list[Notification]:
        claimed = []
        for r in [r for r in self._due(now) if r.attempts < max_attempts][:limit]:
            row = replace(
                r,
                attempts=r.attempts + 1,
                last_attempt_at=now,
                next_attempt_at=now + dt.timedelta(seconds=lease_s),
                updated_at=now,
            )
            self.rows[row.notification_id] = row
            claimed.append(row)
        return claimed

    async def claim_abandoned(self, *, now: dt.datetime, limit: int, max_attempts: int) -> list[Notification]:
        return [r for r in self._due(now) if r.attempts >= max_attempts][:limit]

    def _current(self, n: Notification) -> Notification | None:
        row = self.rows.get(n.notification_id)
        return row if row and row.status in (PENDING, SENT) and row.attempts == n.attempts else None

    async def record_sent(self, n: Notification, at: dt.datetime) -> bool:
        row = self.rows.get(n.notification_id)
        if row is None or row.status != PENDING or row.attempts != n.attempts:
            return False
        self.rows[n.notification_id] = replace(row, status=SENT, last_error=None, updated_at=at)
        return True

    async def get_for_report(self, notification_id: str) -> Notification | None:
        return self.rows.get(notification_id)

    async def record_resend(
        self, n: Notification, error: str, retry_at: dt.datetime, at: dt.datetime
    ) -> bool:
        if (row := self._current(n)) is None:
            return False
        self.rows[n.notification_id] = replace(
            row,
            status=PENDING,
            send_round=row.send_round + 1,
            last_error=error,
            next_attempt_at=retry_at,
            updated_at=at,
        )
        return True

    async def record_delivered(self, n: Notification, at: dt.datetime) -> bool:
        if (row := self._current(n)) is None:
            return False
        self.rows[n.notification_id] = replace(
            row, status=DELIVERED, delivered_at=at, last_error=None, updated_at=at
        )
        return True

    async def record_retry(self, n: Notification, error: str, retry_at: dt.datetime, at: dt.datetime) -> bool:
        if (row := self._current(n)) is None:
            return False
        self.rows[n.notification_id] = replace(row, last_error=error, next_attempt_at=retry_at, updated_at=at)
        return True

    async def record_failed(self, n: Notification, error: str, at: dt.datetime) -> bool:
        if (row := self._current(n)) is None:
            return False
        self.rows[n.notification_id] = replace(row, status=FAILED, last_error=error, updated_at=at)
        return True

    async def enqueue(self, topic: str, envelope: Envelope) -> None:
        self.outbox.append((topic, envelope))


class RecordingSms:
    """The SMS provider as the use case sees it: keeps each SMS (once per reference, as the provider dedupes),
    or raises the failures it was given, one per send, in order."""

    def __init__(self, *failures: Exception) -> None:
        self.sent: dict[str, Sms] = {}
        self.calls = 0
        self.failures = list(failures)

    async def send(self, sms: Sms) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.setdefault(sms.reference, sms)


class RecordingMailer:
    """Sends nothing: keeps each message, or raises the failures it was given, one per send, in order."""

    def __init__(self, *failures: Exception) -> None:
        self.sent: list[EmailMessage] = []
        self.failures = list(failures)

    async def send(self, message: EmailMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
