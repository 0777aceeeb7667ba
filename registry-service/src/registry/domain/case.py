"""The registry case (дело): the office's work on one application, steps of S002 p.5 in order.

opened → registered_in_chancellery → under_review (resolution imposed) → act_registered → signed → result_sent
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.context import Actor
from btkernel.events.case import (
    ActRegistered,
    CaseOpened,
    CaseRegisteredInChancellery,
    ResolutionImposed,
    ResultSentToCentre,
    ResultSigned,
)
from btkernel.eventstore import Aggregate
from btkernel.problems import Forbidden, RuleViolation

OPENED = "opened"
REGISTERED_IN_CHANCELLERY = "registered_in_chancellery"
UNDER_REVIEW = "under_review"
ACT_REGISTERED = "act_registered"
SIGNED = "signed"
RESULT_SENT = "result_sent"

STATUSES = (OPENED, REGISTERED_IN_CHANCELLERY, UNDER_REVIEW, ACT_REGISTERED, SIGNED, RESULT_SENT)


class Case(Aggregate):
    STREAM_TYPE = "case"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.status: str | None = None
        self.opened: CaseOpened | None = None
        self.executive_id: str | None = None
        self.record_id: str | None = None
        self.record_number: str | None = None

    @property
    def office_id(self) -> str:
        assert self.opened is not None
        return self.opened.registry_office_id

    def expect_status(self, status: str, action: str) -> None:
        if self.status != status:
            raise RuleViolation(
                f"cannot {action}: case {self.id} is {self.status}, it must be {status} first",
                code="wrong_step",
            )

    # -- commands (S002/App.1 p.5 steps) --

    def register_in_chancellery(self, actor: Actor, at: dt.datetime) -> None:
        self.expect_status(OPENED, "register in the chancellery")
        self.record(CaseRegisteredInChancellery(case_id=self.id, registered_at=at, registered_by=actor.id))

    def impose_resolution(self, actor: Actor, executive_id: str, instruction: str, at: dt.datetime) -> None:
        # A head may re-assign while the review runs (an executive falls ill); not after the act is registered.
        if self.status != UNDER_REVIEW:
            self.expect_status(REGISTERED_IN_CHANCELLERY, "impose a resolution")
        assert self.opened is not None
        self.record(
            ResolutionImposed(
                case_id=self.id,
                imposed_at=at,
                imposed_by=actor.id,
                executive_id=executive_id,
                instruction=instruction,
                execution_due_at=self.opened.review_due_at,
            )
        )

    def register_act(self, actor: Actor, record_id: str, record_number: str, at: dt.datetime) -> None:
        self.expect_status(UNDER_REVIEW, "register the act")
        if actor.id != self.executive_id:
            raise Forbidden(f"case {self.id} is assigned to executive {self.executive_id}, not to {actor.id}")
        self.record(
            ActRegistered(
                case_id=self.id,
                registered_at=at,
                registered_by=actor.id,
                record_id=record_id,
                record_number=record_number,
            )
        )

    def sign(self, actor: Actor, at: dt.datetime) -> None:
        self.expect_status(ACT_REGISTERED, "sign the result")
        assert self.opened is not None
        # The state-emblem seal is named for birth only (S002/App.1 p.5(5)).
        seal = self.opened.service_id == "birth_registration"
        self.record(ResultSigned(case_id=self.id, signed_at=at, signed_by=actor.id, seal_affixed=seal))

    def send_result(self, actor: Actor, at: dt.datetime) -> None:
        self.expect_status(SIGNED, "send the result")
        assert self.opened is not None
        self.record(
            ResultSentToCentre(
                case_id=self.id,
                application_id=self.opened.application_id,
                centre_id=self.opened.centre_id,
                outcome="registered",
                record_number=self.record_number,
                sent_at=at,
                sent_by=actor.id,
            )
        )

    # -- folding --

    def when_CaseOpened(self, e: CaseOpened) -> None:
        self.status = OPENED
        self.opened = e

    def when_CaseRegisteredInChancellery(self, e: CaseRegisteredInChancellery) -> None:
        self.status = REGISTERED_IN_CHANCELLERY

    def when_ResolutionImposed(self, e: ResolutionImposed) -> None:
        self.status = UNDER_REVIEW
        self.executive_id = e.executive_id

    def when_ActRegistered(self, e: ActRegistered) -> None:
        self.status = ACT_REGISTERED
        self.record_id = e.record_id
        self.record_number = e.record_number

    def when_ResultSigned(self, e: ResultSigned) -> None:
        self.status = SIGNED

    def when_ResultSentToCentre(self, e: ResultSentToCentre) -> None:
        self.status = RESULT_SENT

    def state(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "executive_id": self.executive_id,
            "record_id": self.record_id,
            "record_number": self.record_number,
        }
