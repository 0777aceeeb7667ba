"""Events of a registry office's case (topic civreg.case, subject = case id)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from btkernel.events.base import Event
from civreg import topics
from civreg.events.details import CarriesDetails, ServiceDetails
from civreg.events.values import Person, PresentedDocument, Representative, Term


class _CaseEvent(Event):
    TOPIC: ClassVar[str] = topics.CASE
    case_id: str


class CaseOpened(_CaseEvent, CarriesDetails):
    """A forwarded application became a case of the registry office, with its review deadline."""

    TYPE: ClassVar[str] = "kz.civreg.case.opened.v1"
    application_id: str
    service_id: str
    channel: str
    centre_id: str
    registry_office_id: str
    opened_at: dt.datetime
    submitted_at: dt.datetime
    receipt_number: str
    review_term: Term
    review_due_at: dt.datetime
    applicant: Person
    representative: Representative | None = None
    # Typed by `service_id` (ADR 0018): the same JSON as before, now with a schema per service.
    details: ServiceDetails
    documents: list[PresentedDocument]


class CaseRegisteredInChancellery(_CaseEvent):
    """Step 1: the chancellery registered the application and passed it to the head (S002/App.1 p.5(1))."""

    TYPE: ClassVar[str] = "kz.civreg.case.registered-in-chancellery.v1"
    registered_at: dt.datetime
    registered_by: str


class ResolutionImposed(_CaseEvent):
    """Step 2: the head imposed a resolution — instruction, executive, execution deadline (p.5(2))."""

    TYPE: ClassVar[str] = "kz.civreg.case.resolution-imposed.v1"
    imposed_at: dt.datetime
    imposed_by: str
    executive_id: str
    instruction: str
    execution_due_at: dt.datetime


class ActRegistered(_CaseEvent):
    """Steps 3–4: the executive reviewed the package, formed the act record and registered the act (p.5(3)-(4))."""

    TYPE: ClassVar[str] = "kz.civreg.case.act-registered.v1"
    registered_at: dt.datetime
    registered_by: str
    record_id: str
    record_number: str
    # What the applicant receives, e.g. [paternity_certificate, birth_certificate] (services.md §2B side results).
    result_documents: list[str] | None = None


class ResultSigned(_CaseEvent):
    """Step 5: the head signed the result (birth: and affixed the state-emblem seal, p.5(5))."""

    TYPE: ClassVar[str] = "kz.civreg.case.result-signed.v1"
    signed_at: dt.datetime
    signed_by: str
    seal_affixed: bool


class ResultSentToCentre(_CaseEvent):
    """Step 6: the chancellery sent the result to the service centre (p.5(6), p.9)."""

    TYPE: ClassVar[str] = "kz.civreg.case.result-sent-to-centre.v1"
    application_id: str
    centre_id: str
    outcome: str
    record_number: str | None = None
    sent_at: dt.datetime
    sent_by: str
    refusal_reason: str | None = None
    result_documents: list[str] | None = None


class ReviewExtended(_CaseEvent):
    """The review term was extended once, by at most 30 calendar days, for an additional check or a request to
    other bodies; the applicant must be told within 3 calendar days (S002 §2.2, every regulation's p.5(3))."""

    TYPE: ClassVar[str] = "kz.civreg.case.review-extended.v1"
    extended_at: dt.datetime
    extended_by: str
    reason: str
    days: int
    previous_due_at: dt.datetime
    review_due_at: dt.datetime
    applicant_notice_due_at: dt.datetime
    # So the notification service can tell the applicant without knowing cases.
    application_id: str | None = None


class RegistrationDateAssigned(_CaseEvent):
    """The executive assigned the date of registration agreed with the applicants (marriage, S002/App.2 p.5(4);
    the portal dates of services.md §2.7)."""

    TYPE: ClassVar[str] = "kz.civreg.case.registration-date-assigned.v1"
    assigned_at: dt.datetime
    assigned_by: str
    registration_on: dt.date
    earliest_allowed: dt.date | None = None
    application_id: str | None = None
    channel: str | None = None
    # What the date is, as the personal cabinet names it (catalogue `portal_notice`): date_of_registration,
    # date_of_issue, date_of_restoration, date_of_annulment, time_of_issue.
    date_kind: str | None = None


class ThirdPartyNotified(_CaseEvent):
    """The office told the imprisoned spouse, or the guardian of the incapacitated or missing spouse, of the
    divorce application within one week of receiving it (S002/App.9 p.5(4))."""

    TYPE: ClassVar[str] = "kz.civreg.case.third-party-notified.v1"
    notified_at: dt.datetime
    notified_by: str
    party: str
    notice_due_at: dt.datetime


class RefusalPrepared(_CaseEvent):
    """The executive prepared a reasoned refusal (мотивированный ответ об отказе) on the grounds of point 10 of
    the Standard; the head signs it and it reaches the applicant like any result (S002 p.5(3))."""

    TYPE: ClassVar[str] = "kz.civreg.case.refusal-prepared.v1"
    prepared_at: dt.datetime
    prepared_by: str
    reason: str
    application_id: str | None = None
    channel: str | None = None
