"""Events of a registry office's case (topic civreg.case, subject = case id)."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from btkernel import topics
from btkernel.events.base import Event
from btkernel.events.values import Person, PresentedDocument, Representative, Term


class _CaseEvent(Event):
    TOPIC: ClassVar[str] = topics.CASE
    case_id: str


class CaseOpened(_CaseEvent):
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
    details: dict[str, Any]
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
