"""The application aggregate (заявление): accepted with a receipt or refused with a refusal receipt, forwarded,
result received from the registry office, result handed over."""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.aggregate import Aggregate
from btkernel.errors import Conflict, RuleViolation
from civreg.calendar import ALMATY
from civreg.events.application import (
    ApplicationAcceptanceRefused,
    ApplicationCabinetNotified,
    ApplicationForwarded,
    ApplicationResultIssued,
    ApplicationResultRecalled,
    ApplicationResultRecallRequested,
    ApplicationResultReceived,
    ApplicationResultReturnedToRegistry,
    ApplicationSubmitted,
)
from civreg.events.values import Person, Representative

# Status names are the ones the API and the projection show.
ACCEPTED = "accepted"
ACCEPTANCE_REFUSED = "acceptance_refused"
FORWARDED = "forwarded_to_registry"
READY_FOR_PICKUP = "ready_for_pickup"
ISSUED = "issued"
RETURNED_TO_REGISTRY = "returned_to_registry"
RECALL_REQUESTED = "recall_requested"

STATUSES = (
    ACCEPTED,
    ACCEPTANCE_REFUSED,
    FORWARDED,
    READY_FOR_PICKUP,
    ISSUED,
    RETURNED_TO_REGISTRY,
    RECALL_REQUESTED,
)
PORTAL = "portal"
STATE_CORPORATION = "state_corporation"
# S004 p.9: the centre keeps an uncollected result one month, then hands it to the registry office; on a later
# request the office sends it back within one working day.
KEEP_AT_CENTRE_MONTHS = 1


def keep_until(received_at: dt.datetime) -> dt.datetime:
    """The moment a result received at the centre has been kept one month."""
    from workcal import months_later as add_months

    local = received_at.astimezone(ALMATY)  # the month is counted on Kazakhstan's calendar days
    return dt.datetime.combine(add_months(local.date(), KEEP_AT_CENTRE_MONTHS), local.timetz())


class Application(Aggregate):
    STREAM_TYPE = "application"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.status: str | None = None
        self.centre_id: str | None = None
        self.service_id: str | None = None
        self.receipt_number: str | None = None
        self.applicant: Person | None = None
        self.representative: Representative | None = None
        self.outcome: str | None = None
        self.case_id: str | None = None
        self.record_number: str | None = None
        self.channel: str | None = None
        self.received_at: dt.datetime | None = None
        self.refusal_reason: str | None = None
        self.recall_due_at: dt.datetime | None = None

    # -- commands --

    def accept(self, submitted: ApplicationSubmitted) -> None:
        """Accepted with a receipt, and forwarded to the registry office electronically at once: the 1-working-day
        forwarding term (S002 p.9) is met by construction. Desk and portal applications are the office's own;
        the forwarding still hands them to its case work."""
        self._new()
        self.record(submitted)
        self.record(
            ApplicationForwarded(
                application_id=self.id,
                service_id=submitted.service_id,
                channel=submitted.channel,
                centre_id=submitted.centre_id,
                registry_office_id=submitted.registry_office_id,
                submitted_at=submitted.submitted_at,
                forwarded_at=submitted.submitted_at,
                receipt_number=submitted.receipt.number,
                applicant=submitted.applicant,
                representative=submitted.representative,
                details=submitted.details,
                documents=submitted.documents,
            )
        )
        # The portal applicant's cabinet shows the acceptance of the e-application (services.md §2.7).
        self.notify_cabinet(
            kind="accepted",
            text=f"Электронное заявление принято, № {submitted.receipt.number}",
            at=submitted.submitted_at,
        )

    def refuse_acceptance(self, refused: ApplicationAcceptanceRefused) -> None:
        """An incomplete package is refused with a refusal receipt (point 9 of the Standard)."""
        self._new()
        self.record(refused)

    def _new(self) -> None:
        if self.version:
            raise Conflict(f"application {self.id} was submitted already", code="already_submitted")

    def receive_result(
        self,
        *,
        case_id: str,
        outcome: str,
        record_number: str | None,
        at: dt.datetime,
        pickup_place: str,
        refusal_reason: str | None = None,
        result_documents: list[str] | None = None,
    ) -> None:
        if self.status == READY_FOR_PICKUP and self.case_id == case_id:
            return  # the same result again: nothing new happened
        if self.status != FORWARDED:
            raise Conflict(
                f"application {self.id} is {self.status}; a result can only arrive after forwarding"
            )
        self.record(
            ApplicationResultReceived(
                application_id=self.id,
                case_id=case_id,
                outcome=outcome,
                record_number=record_number,
                received_at=at,
                pickup_place=pickup_place,
                refusal_reason=refusal_reason,
                result_documents=result_documents,
            )
        )

    def hand_over(
        self,
        *,
        receipt_number: str,
        presented_iin: str,
        recipient: str,
        operator_id: str,
        operator_name: str,
        at: dt.datetime,
    ) -> None:
        """Issue against the receipt and the identity document of the applicant, or of the representative acting
        on a notarised power of attorney (S002 p.9; S004 p.9)."""
        if self.status == ISSUED:
            raise Conflict(
                f"the result of application {self.id} was already handed over", code="already_issued"
            )
        if self.status != READY_FOR_PICKUP:
            raise RuleViolation(
                f"the result of application {self.id} is not ready for pickup (status {self.status})",
                code="not_ready",
            )
        if receipt_number != self.receipt_number:
            raise RuleViolation(
                "the receipt number does not match this application's receipt",
                field="body.receipt_number",
                code="receipt_mismatch",
            )
        if recipient == "applicant":
            expected = self.applicant.iin if self.applicant else None
        else:
            if self.representative is None:
                raise RuleViolation(
                    "no representative was named on this application; only the applicant may collect",
                    field="body.recipient",
                    code="no_representative",
                )
            valid_until = self.representative.power_of_attorney.valid_until
            if valid_until is not None and valid_until < at.astimezone(ALMATY).date():
                raise RuleViolation(
                    "the representative's power of attorney has expired",
                    field="body.recipient",
                    code="power_of_attorney_expired",
                )
            expected = self.representative.person.iin
        if expected is None:
            # Without an IIN on file nobody can be identified against the application: refuse, never guess.
            raise RuleViolation(
                f"the {recipient}'s IIN is not on file; the result cannot be handed over",
                field="body.recipient",
                code="no_identity_on_file",
            )
        if presented_iin != expected:
            raise RuleViolation(
                f"the identity document presented does not belong to the {recipient}",
                field="body.identity_document_iin",
                code="identity_mismatch",
            )
        self.record(
            ApplicationResultIssued(
                application_id=self.id,
                issued_at=at,
                issued_to=recipient,
                recipient_iin=presented_iin,
                operator_id=operator_id,
                operator_name=operator_name,
            )
        )

    def notify_cabinet(
        self,
        *,
        kind: str,
        text: str,
        at: dt.datetime,
        registration_on: dt.date | None = None,
        refusal_reason: str | None = None,
    ) -> bool:
        """A personal-cabinet notification, for portal applications only (S002 portal process 9). Returns
        whether one was recorded."""
        if self.channel != PORTAL:
            return False
        self.record(
            ApplicationCabinetNotified(
                application_id=self.id,
                kind=kind,
                notified_at=at,
                text=text,
                registration_on=registration_on,
                refusal_reason=refusal_reason,
            )
        )
        return True

    def return_to_registry(self, *, by: str, at: dt.datetime) -> None:
        """An uncollected result kept one month at the centre goes to the registry office (S004 p.9)."""
        if self.status != READY_FOR_PICKUP or self.channel != STATE_CORPORATION:
            raise RuleViolation(
                f"application {self.id} is {self.status}; only a result waiting at a centre is returned",
                code="wrong_step",
            )
        assert self.received_at is not None
        if at < keep_until(self.received_at):
            raise RuleViolation(
                f"the centre keeps the result until {keep_until(self.received_at).isoformat()} (S004 p.9)",
                code="too_early",
            )
        self.record(
            ApplicationResultReturnedToRegistry(application_id=self.id, returned_at=at, returned_by=by)
        )

    def request_recall(self, *, by: str, at: dt.datetime, due_at: dt.datetime) -> None:
        """The applicant came after one month: the office sends the result back within 1 WD (S004 p.9)."""
        if self.status != RETURNED_TO_REGISTRY:
            raise RuleViolation(
                f"application {self.id} is {self.status}; only a returned result is recalled",
                code="wrong_step",
            )
        self.record(
            ApplicationResultRecallRequested(
                application_id=self.id, requested_at=at, requested_by=by, due_at=due_at
            )
        )

    def receive_recalled(self, *, by: str, at: dt.datetime) -> None:
        if self.status != RECALL_REQUESTED:
            raise RuleViolation(
                f"application {self.id} is {self.status}; no recall is pending", code="wrong_step"
            )
        self.record(ApplicationResultRecalled(application_id=self.id, recalled_at=at, recalled_by=by))

    # -- folding --

    def when_ApplicationSubmitted(self, e: ApplicationSubmitted) -> None:
        self.status = ACCEPTED
        self.centre_id = e.centre_id
        self.service_id = e.service_id
        self.receipt_number = e.receipt.number
        self.applicant = e.applicant
        self.representative = e.representative
        self.channel = e.channel

    def when_ApplicationAcceptanceRefused(self, e: ApplicationAcceptanceRefused) -> None:
        self.status = ACCEPTANCE_REFUSED
        self.centre_id = e.centre_id
        self.service_id = e.service_id
        self.receipt_number = e.refusal_receipt.number
        self.applicant = e.applicant
        self.channel = e.channel

    def when_ApplicationForwarded(self, e: ApplicationForwarded) -> None:
        self.status = FORWARDED

    def when_ApplicationResultReceived(self, e: ApplicationResultReceived) -> None:
        self.status = READY_FOR_PICKUP
        self.case_id = e.case_id
        self.outcome = e.outcome
        self.record_number = e.record_number
        self.received_at = e.received_at
        self.refusal_reason = e.refusal_reason

    def when_ApplicationResultIssued(self, e: ApplicationResultIssued) -> None:
        self.status = ISSUED

    def when_ApplicationCabinetNotified(self, e: ApplicationCabinetNotified) -> None:
        pass  # a message to the applicant; the application's state does not change

    def when_ApplicationResultReturnedToRegistry(self, e: ApplicationResultReturnedToRegistry) -> None:
        self.status = RETURNED_TO_REGISTRY

    def when_ApplicationResultRecallRequested(self, e: ApplicationResultRecallRequested) -> None:
        self.status = RECALL_REQUESTED
        self.recall_due_at = e.due_at

    def when_ApplicationResultRecalled(self, e: ApplicationResultRecalled) -> None:
        self.status = READY_FOR_PICKUP
        self.recall_due_at = None
        # The applicant came for it: the month at the centre starts again, or the next sweep would send it back.
        self.received_at = e.recalled_at

    def summary(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "case_id": self.case_id,
            "record_number": self.record_number,
            "outcome": self.outcome,
            "refusal_reason": self.refusal_reason,
            "recall_due_at": self.recall_due_at,
        }
