"""Events of an application at a service centre or desk (topic civreg.application, subject = application id)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from btkernel.events.base import Event
from civreg import topics
from civreg.events.details import CarriesDetails, ServiceDetails
from civreg.events.values import (
    Contact,
    EdsSignature,
    Person,
    PresentedDocument,
    Receipt,
    RefusalReceipt,
    Representative,
)


class _ApplicationEvent(Event):
    TOPIC: ClassVar[str] = topics.APPLICATION
    application_id: str


class ApplicationSubmitted(_ApplicationEvent, CarriesDetails):
    """The package was complete and a receipt was issued (S002 p.9: receipt within 15 minutes)."""

    TYPE: ClassVar[str] = "kz.civreg.application.submitted.v1"
    service_id: str
    channel: str
    centre_id: str
    registry_office_id: str
    submitted_at: dt.datetime
    applicant: Person
    representative: Representative | None = None
    contact: Contact
    # Typed by `service_id` (ADR 0018): the same JSON as before, now with a schema per service.
    details: ServiceDetails
    documents: list[PresentedDocument]
    receipt: Receipt
    signature: EdsSignature | None = None


class ApplicationAcceptanceRefused(_ApplicationEvent):
    """The package was incomplete: a refusal receipt was issued instead (S002 p.9, S004 p.10)."""

    TYPE: ClassVar[str] = "kz.civreg.application.acceptance-refused.v1"
    service_id: str
    channel: str
    centre_id: str
    refused_at: dt.datetime
    applicant: Person
    representative: Representative | None = None
    contact: Contact
    refusal_receipt: RefusalReceipt


class ApplicationForwarded(_ApplicationEvent, CarriesDetails):
    """The accepted package went to the competent registry office (S002 p.9: within 1 working day). Carries
    what the office needs to open a case, so the registry does not depend on earlier events."""

    TYPE: ClassVar[str] = "kz.civreg.application.forwarded.v1"
    service_id: str
    channel: str
    centre_id: str
    registry_office_id: str
    submitted_at: dt.datetime
    forwarded_at: dt.datetime
    receipt_number: str
    applicant: Person
    representative: Representative | None = None
    details: ServiceDetails
    documents: list[PresentedDocument]


class ApplicationResultReceived(_ApplicationEvent):
    """The registry office's result arrived at the centre and waits for the applicant."""

    TYPE: ClassVar[str] = "kz.civreg.application.result-received.v1"
    case_id: str
    outcome: str
    record_number: str | None = None
    received_at: dt.datetime
    pickup_place: str
    refusal_reason: str | None = None
    result_documents: list[str] | None = None


class ApplicationResultIssued(_ApplicationEvent):
    """The result was handed over against the receipt and an identity document (S002 p.9)."""

    TYPE: ClassVar[str] = "kz.civreg.application.result-issued.v1"
    issued_at: dt.datetime
    issued_to: str
    recipient_iin: str | None = None
    operator_id: str
    operator_name: str


class ApplicationCabinetNotified(_ApplicationEvent):
    """A personal-cabinet notification for a portal application, signed by the provider (S002 portal process 9;
    services.md §2.7): `kind` is date_assigned, refused or result_ready."""

    TYPE: ClassVar[str] = "kz.civreg.application.cabinet-notified.v1"
    kind: str
    notified_at: dt.datetime
    text: str
    registration_on: dt.date | None = None
    refusal_reason: str | None = None


class ApplicationResultReturnedToRegistry(_ApplicationEvent):
    """An uncollected result kept one month at the centre went to the registry office for storage (S004 p.9)."""

    TYPE: ClassVar[str] = "kz.civreg.application.result-returned-to-registry.v1"
    returned_at: dt.datetime
    returned_by: str


class ApplicationResultRecallRequested(_ApplicationEvent):
    """The applicant came after one month: the centre asked the office to send the result back, which it must do
    within one working day (S004 p.9)."""

    TYPE: ClassVar[str] = "kz.civreg.application.result-recall-requested.v1"
    requested_at: dt.datetime
    requested_by: str
    due_at: dt.datetime


class ApplicationResultRecalled(_ApplicationEvent):
    """The recalled result is back at the centre and can be handed over again (S004 p.9)."""

    TYPE: ClassVar[str] = "kz.civreg.application.result-recalled.v1"
    recalled_at: dt.datetime
    recalled_by: str
