"""The registry case (дело): the office's work on one application, steps of S002 p.5 in order.

opened → registered_in_chancellery → under_review (resolution imposed) → [date_assigned] →
    act_registered | refusal_prepared → signed → result_sent

The service's catalogue entry decides the variations: who registers (chancellery, or the worker in annulment,
S002/App.10 p.7), who issues (the last step's role), whether a date is assigned first (marriage, S002/App.2 p.5(4)),
whether a minimum delay applies (marriage, mutual-consent divorce) and whether a third party must be told first
(divorce on a sentence, incapacity or absence, S002/App.9 p.5(4)).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from btkernel.aggregate import Aggregate
from btkernel.context import Actor
from btkernel.errors import Conflict, Forbidden, RuleViolation
from civreg import catalogue
from civreg.calendar import ALMATY
from civreg.events.case import (
    ActRegistered,
    CaseOpened,
    CaseRegisteredInChancellery,
    RefusalPrepared,
    RegistrationDateAssigned,
    ResolutionImposed,
    ResultSentToCentre,
    ResultSigned,
    ReviewExtended,
    ThirdPartyNotified,
)
from civreg.policy import Role
from civreg.terms import earliest_registration, variant_of
from registry.domain.agency_case import AgencyDecision

OPENED = "opened"
REGISTERED_IN_CHANCELLERY = "registered_in_chancellery"
UNDER_REVIEW = "under_review"
DATE_ASSIGNED = "date_assigned"
ACT_REGISTERED = "act_registered"
REFUSAL_PREPARED = "refusal_prepared"
SIGNED = "signed"
RESULT_SENT = "result_sent"

STATUSES = (
    OPENED,
    REGISTERED_IN_CHANCELLERY,
    UNDER_REVIEW,
    DATE_ASSIGNED,
    ACT_REGISTERED,
    REFUSAL_PREPARED,
    SIGNED,
    RESULT_SENT,
)
REGISTERED = "registered"
REFUSED = "refused"
# S002 §2.2: "no more than 30 calendar days"; the applicant is told within 3 calendar days of the extension.
MAX_EXTENSION_DAYS = 30
EXTENSION_NOTICE_DAYS = 3


def time_left_to_review(case: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Seconds from the end of the case's work (its completion, or now while it runs) to its review term; the case
    is overdue when that is negative."""
    end = case["completed_at"] or now
    left = (case["review_due_at"] - end).total_seconds()
    return {"overdue": left < 0, "seconds_left": int(left)}


class Case(AgencyDecision, Aggregate):
    STREAM_TYPE = "case"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.status: str | None = None
        self.opened: CaseOpened | None = None
        self.executive_id: str | None = None
        self.record_id: str | None = None
        self.record_number: str | None = None
        self.review_due_at: dt.datetime | None = None
        self.extended = False
        self.registration_on: dt.date | None = None
        self.third_party_notified = False
        self.refusal_reason: str | None = None
        self.result_documents: list[str] | None = None

    @property
    def office_id(self) -> str:
        assert self.opened is not None
        return self.opened.registry_office_id

    @property
    def service(self) -> catalogue.StateService:
        """The edition of the service in force on the filing date: the application is judged by it."""
        assert self.opened is not None
        filed_on = self.opened.submitted_at.astimezone(ALMATY).date()
        service = catalogue.load().at_site(
            self.opened.service_id, self.opened.submitted_at, self.opened.registry_office_id
        )
        if service is None:
            raise RuleViolation(f"service {self.opened.service_id} has no edition in force on {filed_on}")
        return service

    @property
    def variant(self) -> str:
        assert self.opened is not None
        return variant_of(self.service, self.opened.details) or self.service.default_term().when

    def expect_status(self, status: str, action: str, *also: str) -> None:
        if self.status != status and self.status not in also:
            raise RuleViolation(
                f"cannot {action}: case {self.id} is {self.status}, it must be {status} first",
                code="wrong_step",
            )

    def _expect_executive(self, actor: Actor) -> None:
        if actor.id != self.executive_id:
            raise Forbidden(f"case {self.id} is assigned to executive {self.executive_id}, not to {actor.id}")

    def _expect_assigned_if_executive(self, actor: Actor) -> None:
        """An executive acts only on the cases assigned to them; the head acts on every case of the office."""
        if actor.role == Role.REGISTRY_EXECUTIVE:
            self._expect_executive(actor)

    def earliest_registration(self) -> dt.date | None:
        assert self.opened is not None
        return earliest_registration(self.service, self.opened.details, self.opened.submitted_at)

    # -- commands (S002 p.5 steps) --

    def register_in_chancellery(self, actor: Actor, at: dt.datetime) -> None:
        """Step 1: the chancellery registers; in annulment the worker of the provider (S002/App.10 p.7)."""
        self.expect_status(OPENED, "register in the chancellery")
        role = self.service.registering_role
        if actor.role != role:
            raise Forbidden(f"{self.service.names.en}: the application is registered by the {role}")
        self.record(CaseRegisteredInChancellery(case_id=self.id, registered_at=at, registered_by=actor.id))

    def impose_resolution(self, actor: Actor, executive_id: str, instruction: str, at: dt.datetime) -> None:
        # A head may re-assign while the review runs (an executive falls ill); not after the act is registered.
        if self.status not in (UNDER_REVIEW, DATE_ASSIGNED):
            self.expect_status(REGISTERED_IN_CHANCELLERY, "impose a resolution")
        assert self.review_due_at is not None
        self.record(
            ResolutionImposed(
                case_id=self.id,
                imposed_at=at,
                imposed_by=actor.id,
                executive_id=executive_id,
                instruction=instruction,
                execution_due_at=self.review_due_at,
            )
        )

    def extend_review(self, actor: Actor, reason: str, days: int, at: dt.datetime) -> None:
        """Once per case, by at most 30 calendar days, for an additional check of the documents or a request to
        other bodies; the applicant is to be told within 3 calendar days (S002 §2.2, p.5(3) of each regulation).
        The deadline engine consumes ReviewExtended for the new due moment and the notice timer."""
        self.expect_status(UNDER_REVIEW, "extend the review", DATE_ASSIGNED)
        self._expect_assigned_if_executive(actor)
        if self.extended:
            raise RuleViolation(
                f"the review of case {self.id} was already extended once", code="already_extended"
            )
        if not reason.strip():
            raise RuleViolation("an extension needs its reason", field="body.reason", code="reason_required")
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise RuleViolation(
                f"an extension is 1 to {MAX_EXTENSION_DAYS} calendar days", field="body.days", code="too_long"
            )
        assert self.review_due_at is not None
        self.record(
            ReviewExtended(
                case_id=self.id,
                extended_at=at,
                extended_by=actor.id,
                reason=reason.strip(),
                days=days,
                previous_due_at=self.review_due_at,
                review_due_at=self.review_due_at + dt.timedelta(days=days),
                applicant_notice_due_at=at + dt.timedelta(days=EXTENSION_NOTICE_DAYS),
                application_id=self.opened.application_id if self.opened else None,
            )
        )

    def notify_third_party(self, actor: Actor, party: str, at: dt.datetime) -> None:
        """Divorce on a sentence of 3+ years, incapacity or absence: the office tells the other spouse (or the
        guardian) within one week of receiving the application (S002/App.9 p.5(4))."""
        notice = self.service.third_party_notice
        if notice is None or self.variant not in notice.variants:
            raise RuleViolation(f"case {self.id} needs no third-party notice", code="no_notice_required")
        # Either order with a date told on the portal (services.md §2.7): the registration waits for both.
        self.expect_status(UNDER_REVIEW, "notify the third party", DATE_ASSIGNED)
        self._expect_executive(actor)
        if self.third_party_notified:
            raise Conflict(f"the third party of case {self.id} was already notified", code="already_notified")
        if not party.strip():
            raise RuleViolation("name the party notified", field="body.party")
        assert self.opened is not None
        per_unit = {"weeks": 7, "calendar_days": 1}[notice.unit]
        self.record(
            ThirdPartyNotified(
                case_id=self.id,
                notified_at=at,
                notified_by=actor.id,
                party=party.strip(),
                notice_due_at=self.opened.opened_at + dt.timedelta(days=notice.value * per_unit),
            )
        )

    def dates_assigned(self) -> bool:
        """Marriage assigns its registration date (S002/App.2 p.5(4)); on the portal, the other services tell the
        applicant the date of registration, restoration, annulment or issue (services.md §2.7)."""
        if self.service.date_assignment is not None:
            return True
        assert self.opened is not None
        return self.opened.channel == "portal" and self.service.portal_notice not in (None, "acceptance")

    def assign_registration_date(self, actor: Actor, registration_on: dt.date, at: dt.datetime) -> None:
        """Marriage: the executive assigns the date of registration agreed with the applicants, not before one
        month from filing (S002/App.2 p.5(4)); a portal applicant is told in the personal cabinet. For the other
        portal services the date is the one §2.7 names (`portal_notice`), e.g. the date of issue of a birth."""
        if not self.dates_assigned():
            raise RuleViolation(f"{self.service.names.en} has no date assignment", code="no_date_assignment")
        self.expect_status(UNDER_REVIEW, "assign the registration date", DATE_ASSIGNED)
        self._expect_executive(actor)
        earliest = self.earliest_registration()
        if earliest is not None and registration_on < earliest:
            raise RuleViolation(
                f"the registration may not be before {earliest.isoformat()}: one month from filing "
                f"({self.service.earliest_registration.source if self.service.earliest_registration else ''})",
                field="body.registration_on",
                code="too_early",
            )
        assert self.opened is not None
        self.record(
            RegistrationDateAssigned(
                case_id=self.id,
                assigned_at=at,
                assigned_by=actor.id,
                registration_on=registration_on,
                earliest_allowed=earliest,
                application_id=self.opened.application_id,
                channel=self.opened.channel,
                date_kind=self.service.portal_notice,
            )
        )

    def check_registration_allowed(self, actor: Actor, at: dt.datetime) -> None:
        """Everything that must hold before an act is registered; checked before a record number is taken."""
        assignment = self.service.date_assignment
        if assignment is not None and assignment.needed_for(self.variant):
            self.expect_status(DATE_ASSIGNED, "register the act")
        else:
            self.expect_status(UNDER_REVIEW, "register the act", DATE_ASSIGNED)
        self._expect_executive(actor)
        today = at.astimezone(ALMATY).date()
        earliest = self.earliest_registration()
        if earliest is not None and today < earliest:
            raise RuleViolation(
                f"too early: this act may be registered from {earliest.isoformat()}, one month after filing",
                code="too_early",
            )
        # Only an assigned registration date binds the registration; a date of issue binds the hand-over.
        if assignment is not None and self.registration_on is not None and today < self.registration_on:
            raise RuleViolation(
                f"the registration is assigned to {self.registration_on.isoformat()}", code="too_early"
            )
        notice = self.service.third_party_notice
        if notice is not None and self.variant in notice.variants and not self.third_party_notified:
            raise RuleViolation(
                f"the third party must be notified first ({notice.source})", code="third_party_not_notified"
            )

    def register_act(
        self,
        actor: Actor,
        record_id: str,
        record_number: str,
        at: dt.datetime,
        result_documents: list[str] | None = None,
    ) -> None:
        """Steps 3–4: reviewed, the act record formed (or amended, restored, annulled, copied)."""
        self.check_registration_allowed(actor, at)
        self.record(
            ActRegistered(
                case_id=self.id,
                registered_at=at,
                registered_by=actor.id,
                record_id=record_id,
                record_number=record_number,
                result_documents=result_documents,
            )
        )

    def prepare_refusal(self, actor: Actor, reason: str, at: dt.datetime) -> None:
        """A reasoned refusal on the grounds of point 10 of the Standard (S002 p.5(3); marriage: within 1 WD)."""
        self.expect_status(UNDER_REVIEW, "prepare a refusal", DATE_ASSIGNED)
        self._expect_executive(actor)
        if not reason.strip():
            raise RuleViolation("a refusal must give its reason", field="body.reason", code="reason_required")
        assert self.opened is not None
        self.record(
            RefusalPrepared(
                case_id=self.id,
                prepared_at=at,
                prepared_by=actor.id,
                reason=reason.strip(),
                application_id=self.opened.application_id,
                channel=self.opened.channel,
            )
        )

    def sign(self, actor: Actor, at: dt.datetime) -> None:
        """Step 5: the head signs the result or the refusal (birth: with the state-emblem seal, p.5(5))."""
        self.expect_status(ACT_REGISTERED, "sign the result", REFUSAL_PREPARED)
        seal = self.service.seal and self.status == ACT_REGISTERED
        self.record(ResultSigned(case_id=self.id, signed_at=at, signed_by=actor.id, seal_affixed=seal))

    def send_result(self, actor: Actor, at: dt.datetime) -> None:
        """Step 6: issued or sent to where the application was accepted (centre, desk, portal applicant's
        office); in annulment and marriage the executive does it (S002/App.10 p.5(5), App.2 p.5(7))."""
        self.expect_status(SIGNED, "send the result")
        role = self.service.issuing_role
        if actor.role != role:
            raise Forbidden(f"{self.service.names.en}: the result is issued by the {role}")
        self._expect_assigned_if_executive(actor)
        assert self.opened is not None
        refused = self.refusal_reason is not None
        self.record(
            ResultSentToCentre(
                case_id=self.id,
                application_id=self.opened.application_id,
                centre_id=self.opened.centre_id,
                outcome=REFUSED if refused else REGISTERED,
                record_number=None if refused else self.record_number,
                sent_at=at,
                sent_by=actor.id,
                refusal_reason=self.refusal_reason,
                result_documents=["reasoned_refusal"] if refused else self.result_documents,
            )
        )

    # -- folding --

    def when_CaseOpened(self, e: CaseOpened) -> None:
        self.status = OPENED
        self.opened = e
        self.review_due_at = e.review_due_at

    def when_CaseRegisteredInChancellery(self, e: CaseRegisteredInChancellery) -> None:
        self.status = REGISTERED_IN_CHANCELLERY

    def when_ResolutionImposed(self, e: ResolutionImposed) -> None:
        if self.status not in (UNDER_REVIEW, DATE_ASSIGNED):
            self.status = UNDER_REVIEW
        self.executive_id = e.executive_id

    def when_ReviewExtended(self, e: ReviewExtended) -> None:
        self.extended = True
        self.review_due_at = e.review_due_at

    def when_ThirdPartyNotified(self, e: ThirdPartyNotified) -> None:
        self.third_party_notified = True

    def when_RegistrationDateAssigned(self, e: RegistrationDateAssigned) -> None:
        self.status = DATE_ASSIGNED
        self.registration_on = e.registration_on

    def when_ActRegistered(self, e: ActRegistered) -> None:
        self.status = ACT_REGISTERED
        self.record_id = e.record_id
        self.record_number = e.record_number
        self.result_documents = e.result_documents

    def when_RefusalPrepared(self, e: RefusalPrepared) -> None:
        self.status = REFUSAL_PREPARED
        self.refusal_reason = e.reason

    def when_ResultSigned(self, e: ResultSigned) -> None:
        self.status = SIGNED

    def when_ResultSentToCentre(self, e: ResultSentToCentre) -> None:
        self.status = RESULT_SENT
        self.result_documents = e.result_documents

    def state(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "executive_id": self.executive_id,
            "record_id": self.record_id,
            "record_number": self.record_number,
            "review_due_at": self.review_due_at,
            "extended": self.extended,
            "registration_on": self.registration_on,
            "third_party_notified": self.third_party_notified,
            "refusal_reason": self.refusal_reason,
        }
