"""Builders of civreg.application events and envelopes for the notification tests, and an in-memory store."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from btkernel.envelope import Envelope
from btkernel.events.application import (
    ApplicationAcceptanceRefused,
    ApplicationResultReceived,
    ApplicationSubmitted,
)
from btkernel.events.base import Event
from notification.store import ApplicationContact, NewNotification

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
            "details": {},
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
