"""A case decided by a partner agency (ADR 0040; S003, services.md §8.3): the window accepted the application, the
registry keeps the case (its term, deadlines and statistics are every other case's) and the agency decides.

opened → at_agency (request sent) → accepted_by_agency → result_sent (decided: granted, or refused with a reason);
paid is noted after. Answers come over Kafka, so each may come twice or late: one that does not move the case
further is a repeat and changes nothing; one that contradicts what the agency already said (granted after a
refusal, paid before any decision) is refused, for a person at the agency to look at (the dead-letter topic).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from btkernel.errors import Conflict, RuleViolation
from civreg.events.agency import AgencyAnswered, CaseSentToAgency
from civreg.events.case import CaseOpened, ResultSentToCentre
from civreg.partners.agency_services import RANK

if TYPE_CHECKING:
    from btkernel.events.base import Event

OPENED = "opened"
AT_AGENCY = "at_agency"
ACCEPTED_BY_AGENCY = "accepted_by_agency"
RESULT_SENT = "result_sent"
AGENCY_STATUSES = (AT_AGENCY, ACCEPTED_BY_AGENCY)
GRANTED = "granted"
REFUSED = "refused"


class AgencyDecision:
    """The agency's part of a case, mixed into `registry.domain.case.Case`."""

    id: str
    status: str | None
    opened: CaseOpened | None
    refusal_reason: str | None
    agency: str | None = None
    agency_stage: str | None = None  # the furthest answer: sent, accepted, decided, refused, paid
    decision_number: str | None = None

    if TYPE_CHECKING:

        def record(self, event: Event) -> None: ...

    def send_to_agency(self, agency: str, request: dict[str, Any], at: dt.datetime) -> None:
        if self.status != OPENED or self.opened is None:
            raise RuleViolation(
                f"case {self.id} is {self.status}; only a new case is sent", code="wrong_step"
            )
        self.record(
            CaseSentToAgency(
                case_id=self.id,
                application_id=self.opened.application_id,
                agency=agency,
                sent_at=at,
                request=request,
            )
        )

    def take_answer(
        self,
        *,
        agency: str,
        answer_id: str,
        kind: str,
        answered_at: dt.datetime,
        at: dt.datetime,
        reason: str | None = None,
        decision_number: str | None = None,
    ) -> bool:
        """Record the agency's answer; False when it changes nothing (a repeat, or an acceptance that came after
        the decision). A decision sends the result to the centre, which hands it over (S003: one window)."""
        if self.agency is None or self.agency_stage is None or self.opened is None:
            raise RuleViolation(f"case {self.id} was not sent to an agency", code="not_at_agency")
        if agency != self.agency:
            raise RuleViolation(
                f"case {self.id} is decided by {self.agency}, not by {agency}", code="wrong_agency"
            )
        stage = self.agency_stage
        if kind == stage or RANK[kind] < RANK[stage]:
            return False
        if RANK[kind] == RANK[stage] or (kind == "paid" and stage != "decided"):
            raise Conflict(f"case {self.id}: the agency said {stage!r}, it cannot now say {kind!r}")
        self.record(
            AgencyAnswered(
                case_id=self.id,
                application_id=self.opened.application_id,
                agency=agency,
                answer_id=answer_id,
                kind=kind,
                answered_at=answered_at,
                received_at=at,
                reason=reason,
                decision_number=decision_number,
            )
        )
        if kind in ("decided", "refused"):
            self.record(
                ResultSentToCentre(
                    case_id=self.id,
                    application_id=self.opened.application_id,
                    centre_id=self.opened.centre_id,
                    outcome=GRANTED if kind == "decided" else REFUSED,
                    record_number=decision_number,
                    sent_at=at,
                    sent_by=f"agency:{agency}",
                    refusal_reason=reason,
                )
            )
        return True

    def when_CaseSentToAgency(self, e: CaseSentToAgency) -> None:
        self.status = AT_AGENCY
        self.agency = e.agency
        self.agency_stage = "sent"

    def when_AgencyAnswered(self, e: AgencyAnswered) -> None:
        self.agency_stage = e.kind
        if e.kind == "accepted":
            self.status = ACCEPTED_BY_AGENCY
        if e.kind == "refused":
            self.refusal_reason = e.reason
        if e.decision_number:
            self.decision_number = e.decision_number
