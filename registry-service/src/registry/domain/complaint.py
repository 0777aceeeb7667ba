"""A complaint (жалоба) on a state service: S004 p.11-12, services.md §6.

filed → registered → answered | review_refused; an answered (or refused) complaint may be escalated once to the
quality-control body, which is a new complaint linked to this one (`escalated_from`).

At the chancellery or the centre the complaint is registered as it is handed in (the applicant leaves with the
confirmation, services.md §3.4); a complaint sent through the portal is first delivered, then registered by the
addressee's chancellery, and the applicant follows both in the personal cabinet.

Who acts (docs/adr/0035-complaints.md): a complaint to the provider is registered and marked by the office's staff
and answered by its head (the complaint is addressed to the head, S004 p.11); one to a centre is registered,
marked and answered by the centre's operator (the platform has no other centre role); one to the quality-control
body is registered as it is escalated and answered by the supervisor, the platform's stand-in for that body.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.aggregate import Aggregate
from btkernel.context import Actor
from btkernel.errors import Conflict, Forbidden, RuleViolation
from civreg.calendar import ALMATY
from civreg.events.complaint import (
    ComplaintAnswered,
    ComplaintApplicant,
    ComplaintEscalated,
    ComplaintExecutionMarked,
    ComplaintFiled,
    ComplaintRegistered,
    ComplaintReviewRefused,
    ComplaintSubject,
)
from civreg.events.values import Term
from civreg.policy import REGISTRY_ROLES, Role

FILED = "filed"
REGISTERED = "registered"
ANSWERED = "answered"
REVIEW_REFUSED = "review_refused"
STATUSES = (FILED, REGISTERED, ANSWERED, REVIEW_REFUSED)

# Whom a complaint is addressed to (S004 p.11): the provider (its head), the centre, the quality-control body.
PROVIDER = "provider"
CENTRE = "centre"
QUALITY_CONTROL = "quality_control"
# The quality-control body is no site of ours: its incoming numbers are a series of their own.
QUALITY_CONTROL_SITE = "quality-control"

CHANNELS = ("chancellery", "centre", "portal")
SUBJECT_KINDS = ("decision", "action", "inaction")
SUBJECT_BODIES = ("office", "centre", "official")
DELIVERIES = ("post", "chancellery")
# Execution marks the chancellery's log knows; any other is written out in `note` under `other`.
MARKS = ("passed_to_executive", "under_review", "information_requested", "other")

# S004 p.11: "подлежит рассмотрению в течение пяти рабочих дней со дня ее регистрации" (provider or centre), and
# "в течение пятнадцати рабочих дней со дня ее регистрации" (the quality-control body). The day of registration is
# not counted ("from the day of", services.md §9).
ANSWER_TERMS: dict[str, Term] = {
    PROVIDER: Term(value=5, unit="working_days", source="S004 p.11: 5 working days from registration"),
    CENTRE: Term(value=5, unit="working_days", source="S004 p.11: 5 working days from registration"),
    QUALITY_CONTROL: Term(
        value=15,
        unit="working_days",
        source="S004 p.11: 15 working days from registration (quality-control body)",
    ),
}


def answer_term(addressee: str) -> dict[str, Any]:
    """The answer's term as `workcal` counts it."""
    term = ANSWER_TERMS[addressee]
    return {"value": term.value, "unit": term.unit, "acceptance_day_counted": False, "source": term.source}


def surname_and_initials(full_name: str) -> str:
    """The receiver as the stamp names them (services.md §3.4): Иванова Анна Сергеевна → Иванова А. С."""
    parts = full_name.split()
    if not parts:
        return full_name
    return " ".join([parts[0], *(f"{p[0]}." for p in parts[1:])])


def incoming_number(year: int, seq: int) -> str:
    """The incoming number of the site's complaint log for the year: "Ж-2026/7"."""
    return f"Ж-{year}/{seq}"


class Complaint(Aggregate):
    STREAM_TYPE = "complaint"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.status: str | None = None
        self.filed: ComplaintFiled | None = None
        self.registered: ComplaintRegistered | None = None
        self.marks: list[str] = []
        self.escalated_to: str | None = None

    @property
    def site_id(self) -> str:
        assert self.filed is not None
        return self.filed.site_id

    @property
    def addressee(self) -> str:
        assert self.filed is not None
        return self.filed.addressee

    @property
    def calendar_site(self) -> str:
        """Whose working calendar counts the term: the receiving site's; the quality-control body, which is no
        site of ours, keeps the working days of the district's registry office."""
        assert self.filed is not None
        return self.filed.registry_office_id if self.addressee == QUALITY_CONTROL else self.filed.site_id

    def _expect_status(self, action: str, *statuses: str) -> None:
        if self.status not in statuses:
            raise RuleViolation(
                f"cannot {action}: complaint {self.id} is {self.status}, it must be {' or '.join(statuses)}",
                code="wrong_step",
            )

    def _expect_staff(self, actor: Actor, action: str, *, answering: bool = False) -> None:
        """The addressee's own people: see the module's docstring."""
        if self.addressee == QUALITY_CONTROL:
            allowed = actor.role == Role.SUPERVISOR
        elif actor.site != self.site_id:
            allowed = False
        elif self.addressee == CENTRE:
            allowed = actor.role == Role.CENTRE_OPERATOR
        elif answering:
            allowed = actor.role == Role.REGISTRY_HEAD
        else:
            allowed = actor.role in REGISTRY_ROLES
        if not allowed:
            raise Forbidden(f"{actor.role} {actor.id} may not {action} complaint {self.id}")

    # -- commands --

    def file(
        self,
        actor: Actor,
        *,
        site_id: str,
        registry_office_id: str,
        channel: str,
        addressee: str,
        applicant: ComplaintApplicant,
        subject: ComplaintSubject,
        text: str,
        application_id: str | None,
        escalated_from: str | None,
        at: dt.datetime,
    ) -> None:
        """Handed in at the chancellery or the centre, sent through the portal, or escalated (S004 p.11)."""
        if self.status is not None:
            raise Conflict(f"complaint {self.id} was already filed", code="already_filed")
        if not applicant.postal_address.strip():
            raise RuleViolation(
                "a complaint gives the applicant's postal address (S004 p.11)",
                field="body.applicant.postal_address",
                code="postal_address_required",
            )
        if subject.body == "official" and not (subject.official_name or "").strip():
            raise RuleViolation(
                "name the official complained of",
                field="body.subject.official_name",
                code="official_required",
            )
        if not text.strip():
            raise RuleViolation("the complaint has no text", field="body.text", code="text_required")
        self.record(
            ComplaintFiled(
                complaint_id=self.id,
                site_id=site_id,
                registry_office_id=registry_office_id,
                channel=channel,
                addressee=addressee,
                filed_at=at,
                filed_by=actor.id,
                applicant=applicant,
                subject=subject,
                text=text.strip(),
                application_id=application_id,
                escalated_from=escalated_from,
            )
        )

    def register(
        self,
        actor: Actor,
        *,
        number: str,
        due_at: dt.datetime,
        answer_place: str,
        at: dt.datetime,
    ) -> None:
        """Registered with its incoming number, date and the receiver's name; the term of the answer runs from
        here (S004 p.11)."""
        self._expect_status("register", FILED)
        self._expect_staff(actor, "register")
        self.record(
            ComplaintRegistered(
                complaint_id=self.id,
                incoming_number=number,
                registered_at=at,
                registered_by=actor.id,
                receiver_name=surname_and_initials(actor.name or actor.id),
                answer_term=ANSWER_TERMS[self.addressee],
                answer_due_at=due_at,
                answer_place=answer_place,
            )
        )

    def mark(self, actor: Actor, mark: str, note: str | None, at: dt.datetime) -> None:
        """An execution mark, shown in the personal cabinet (S004 p.11)."""
        self._expect_status("mark the execution of", REGISTERED)
        self._expect_staff(actor, "mark")
        if mark not in MARKS:
            raise RuleViolation(f"unknown mark {mark!r}; one of: {', '.join(MARKS)}", field="body.mark")
        if mark == "other" and not (note or "").strip():
            raise RuleViolation("write the mark out in `note`", field="body.note", code="note_required")
        self.record(
            ComplaintExecutionMarked(
                complaint_id=self.id,
                mark=mark,
                note=(note or "").strip() or None,
                marked_at=at,
                marked_by=actor.id,
            )
        )

    def answer(self, actor: Actor, text: str, delivery: str, at: dt.datetime) -> None:
        """The reasoned answer, by post or in the chancellery (S004 p.11)."""
        self._expect_status("answer", REGISTERED)
        self._expect_staff(actor, "answer", answering=True)
        if not text.strip():
            raise RuleViolation(
                "the answer must give its reasons", field="body.answer", code="reason_required"
            )
        if delivery not in DELIVERIES:
            raise RuleViolation(f"delivery is one of: {', '.join(DELIVERIES)}", field="body.delivery")
        self.record(
            ComplaintAnswered(
                complaint_id=self.id,
                answer=text.strip(),
                delivery=delivery,
                answered_at=at,
                answered_by=actor.id,
            )
        )

    def refuse_review(self, actor: Actor, reason: str, at: dt.datetime) -> None:
        """The refusal to review, with its reason (S004 p.11: the cabinet shows it)."""
        self._expect_status("refuse to review", REGISTERED)
        self._expect_staff(actor, "refuse to review", answering=True)
        if not reason.strip():
            raise RuleViolation("give the reason of the refusal", field="body.reason", code="reason_required")
        self.record(
            ComplaintReviewRefused(
                complaint_id=self.id, reason=reason.strip(), refused_at=at, refused_by=actor.id
            )
        )

    def escalate(self, actor: Actor, to_complaint_id: str, at: dt.datetime) -> None:
        """The applicant disagrees with the result: a complaint to the quality-control body (S004 p.11), once."""
        self._expect_status("escalate", ANSWERED, REVIEW_REFUSED)
        if self.addressee == QUALITY_CONTROL:
            raise RuleViolation(
                "a complaint to the quality-control body goes on to court (S004 p.12), not further here",
                code="last_level",
            )
        if self.escalated_to is not None:
            raise Conflict(
                f"complaint {self.id} was already escalated as {self.escalated_to}", code="already_escalated"
            )
        self.record(
            ComplaintEscalated(
                complaint_id=self.id, to_complaint_id=to_complaint_id, escalated_at=at, escalated_by=actor.id
            )
        )

    # -- folding --

    def when_ComplaintFiled(self, e: ComplaintFiled) -> None:
        self.status = FILED
        self.filed = e

    def when_ComplaintRegistered(self, e: ComplaintRegistered) -> None:
        self.status = REGISTERED
        self.registered = e

    def when_ComplaintExecutionMarked(self, e: ComplaintExecutionMarked) -> None:
        self.marks.append(e.mark)

    def when_ComplaintAnswered(self, e: ComplaintAnswered) -> None:
        self.status = ANSWERED

    def when_ComplaintReviewRefused(self, e: ComplaintReviewRefused) -> None:
        self.status = REVIEW_REFUSED

    def when_ComplaintEscalated(self, e: ComplaintEscalated) -> None:
        self.escalated_to = e.to_complaint_id


def confirmation(c: Complaint, site_name: str) -> dict[str, Any]:
    """What the applicant is given on registration (services.md §3.4, S004 p.11): the stamp with the incoming
    number and date, the surname and initials of who accepted it, and the term and place of the answer."""
    assert c.registered is not None
    r = c.registered
    registered_on = r.registered_at.astimezone(ALMATY).date()
    due_on = r.answer_due_at.astimezone(ALMATY).date()
    return {
        "stamp": f"{site_name}. Вх. № {r.incoming_number} от {registered_on:%d.%m.%Y}. Принял(а): {r.receiver_name}",
        "incoming_number": r.incoming_number,
        "registered_at": r.registered_at,
        "registered_on": registered_on,
        "receiver_name": r.receiver_name,
        "answer_term": r.answer_term.model_dump(),
        "answer_due_at": r.answer_due_at,
        "answer_due_on": due_on,
        "answer_place": r.answer_place,
        # The reasoned answer is sent by post to the applicant's address or handed over in the chancellery.
        "answer_by": list(DELIVERIES),
    }
