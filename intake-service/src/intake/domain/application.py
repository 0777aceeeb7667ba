"""The application aggregate (заявление): accepted with a receipt or refused with a refusal receipt, forwarded,
result received from the registry office, result handed over."""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.events.application import (
    ApplicationAcceptanceRefused,
    ApplicationForwarded,
    ApplicationResultIssued,
    ApplicationResultReceived,
    ApplicationSubmitted,
)
from btkernel.events.values import Person, Representative
from btkernel.eventstore import Aggregate
from btkernel.problems import Conflict, RuleViolation

# Status names are the ones the API and the projection show.
ACCEPTED = "accepted"
ACCEPTANCE_REFUSED = "acceptance_refused"
FORWARDED = "forwarded_to_registry"
READY_FOR_PICKUP = "ready_for_pickup"
ISSUED = "issued"


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

    # -- commands --

    def receive_result(
        self, *, case_id: str, outcome: str, record_number: str | None, at: dt.datetime, pickup_place: str
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
            if valid_until is not None and valid_until < at.date():
                raise RuleViolation(
                    "the representative's power of attorney has expired",
                    field="body.recipient",
                    code="power_of_attorney_expired",
                )
            expected = self.representative.person.iin
        if expected is not None and presented_iin != expected:
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

    # -- folding --

    def when_ApplicationSubmitted(self, e: ApplicationSubmitted) -> None:
        self.status = ACCEPTED
        self.centre_id = e.centre_id
        self.service_id = e.service_id
        self.receipt_number = e.receipt.number
        self.applicant = e.applicant
        self.representative = e.representative

    def when_ApplicationAcceptanceRefused(self, e: ApplicationAcceptanceRefused) -> None:
        self.status = ACCEPTANCE_REFUSED
        self.centre_id = e.centre_id
        self.service_id = e.service_id
        self.receipt_number = e.refusal_receipt.number
        self.applicant = e.applicant

    def when_ApplicationForwarded(self, e: ApplicationForwarded) -> None:
        self.status = FORWARDED

    def when_ApplicationResultReceived(self, e: ApplicationResultReceived) -> None:
        self.status = READY_FOR_PICKUP
        self.case_id = e.case_id
        self.outcome = e.outcome
        self.record_number = e.record_number

    def when_ApplicationResultIssued(self, e: ApplicationResultIssued) -> None:
        self.status = ISSUED

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "case_id": self.case_id, "record_number": self.record_number}
