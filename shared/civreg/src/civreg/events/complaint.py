"""Events of a complaint (жалоба) on a state service (topic civreg.complaint, subject = complaint id), S004 p.11-12.

A complaint is filed (delivered: at the provider's chancellery, at a centre, or through the portal), registered
with an incoming number (the confirmation of services.md §3.4), marked as it is executed, and ends with a reasoned
answer or a refusal to review. Disagreeing with the answer, the applicant turns to the quality-control body: a
new complaint linked to the first (`escalated_from`), with its own 15-working-day term.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from btkernel.events.base import Event
from civreg import topics
from civreg.events.values import Contact, PersonName, Term, Value


class ComplaintApplicant(Value):
    """Who complains: surname, name, patronymic and the postal address the answer is sent to (S004 p.11)."""

    name: PersonName
    postal_address: str
    contact: Contact | None = None


class ComplaintSubject(Value):
    """What is complained of: a decision, action or inaction of the office, the centre or a named official."""

    kind: str  # decision | action | inaction
    body: str  # office | centre | official
    official_name: str | None = None
    description: str


class _ComplaintEvent(Event):
    TOPIC: ClassVar[str] = topics.COMPLAINT
    complaint_id: str


class ComplaintFiled(_ComplaintEvent):
    """The complaint was delivered to the site it is addressed to (the cabinet's "delivery")."""

    TYPE: ClassVar[str] = "kz.civreg.complaint.filed.v1"
    # The site that receives, registers and answers it: a registry office or a service centre.
    site_id: str
    # The registry office whose calendar and worklists it belongs to (a centre's own office for a centre).
    registry_office_id: str
    # chancellery | centre | portal: where it was handed in (S004 p.11).
    channel: str
    # provider | centre | quality_control: whom it is addressed to, which decides its term.
    addressee: str
    filed_at: dt.datetime
    filed_by: str
    applicant: ComplaintApplicant
    subject: ComplaintSubject
    text: str
    application_id: str | None = None
    escalated_from: str | None = None


class ComplaintRegistered(_ComplaintEvent):
    """Registered with its incoming number: the confirmation of services.md §3.4 (S004 p.11)."""

    TYPE: ClassVar[str] = "kz.civreg.complaint.registered.v1"
    incoming_number: str
    registered_at: dt.datetime
    registered_by: str
    # Surname and initials of the person who accepted it, as the stamp shows them.
    receiver_name: str
    answer_term: Term
    answer_due_at: dt.datetime
    # Where the answer is obtained: the chancellery's address, besides the post.
    answer_place: str


class ComplaintExecutionMarked(_ComplaintEvent):
    """An execution mark (отметка об исполнении): passed to the executive, under review, ... (S004 p.11)."""

    TYPE: ClassVar[str] = "kz.civreg.complaint.execution-marked.v1"
    mark: str
    note: str | None = None
    marked_at: dt.datetime
    marked_by: str


class ComplaintAnswered(_ComplaintEvent):
    """The reasoned answer, sent by post or handed over in the chancellery (S004 p.11)."""

    TYPE: ClassVar[str] = "kz.civreg.complaint.answered.v1"
    answer: str
    delivery: str  # post | chancellery
    answered_at: dt.datetime
    answered_by: str


class ComplaintReviewRefused(_ComplaintEvent):
    """The refusal to review the complaint, with its reason (the cabinet shows it, S004 p.11)."""

    TYPE: ClassVar[str] = "kz.civreg.complaint.review-refused.v1"
    reason: str
    refused_at: dt.datetime
    refused_by: str


class ComplaintEscalated(_ComplaintEvent):
    """The applicant disagreed with the answer and turned to the quality-control body (S004 p.11): the new
    complaint is `to_complaint_id`."""

    TYPE: ClassVar[str] = "kz.civreg.complaint.escalated.v1"
    to_complaint_id: str
    escalated_at: dt.datetime
    escalated_by: str
