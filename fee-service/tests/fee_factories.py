"""Builders of ApplicationSubmitted envelopes and an in-memory store (the `Store` protocol) for the fee tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from btkernel.envelope import Envelope
from civreg.events.application import ApplicationSubmitted
from civreg.events.details import EXAMPLES
from fees.domain.decision import FeeDecision


def submitted(
    application_id: str | None = None,
    *,
    service_id: str = "birth_registration",
    submitted_at: dt.datetime = dt.datetime(2025, 11, 3, 5, 30, tzinfo=dt.UTC),
    centre_id: str = "almaty-con-1",
    registry_office_id: str = "almaty-almaly",
    exemption: str | None = None,
    details: dict[str, Any] | None = None,
) -> ApplicationSubmitted:
    application_id = application_id or str(uuid.uuid4())
    docs = [{"code": "identity_document", "name": "Документ, удостоверяющий личность заявителя"}]
    return ApplicationSubmitted.model_validate(
        {
            "application_id": application_id,
            "service_id": service_id,
            "channel": "state_corporation",
            "centre_id": centre_id,
            "registry_office_id": registry_office_id,
            "submitted_at": submitted_at,
            "applicant": {"iin": "900101400123", "name": {"surname": "Ахметова", "first_name": "Айгерим"}},
            "contact": {"email": "aigerim@example.kz"},
            # A service the catalogue does not know keeps whatever details it has (ADR 0018).
            "details": details if details is not None else EXAMPLES.get(service_id, {}),
            "documents": docs,
            "receipt": {
                "number": "R-1",
                "accepted_at": submitted_at,
                "service_id": service_id,
                "service_name": "Регистрация рождения ребенка",
                "documents": docs,
                "documents_count": 1,
                "result_issue_date": "2025-11-05",
                "result_issue_place": "ЦОН",
                "operator_name": "Сериков",
                "applicant_name": "Ахметова Айгерим",
                "phones": [],
                "state_duty": {"amount_tiyn": 0, "mrp_multiple": "0", "basis": "x", "exemption": exemption}
                if exemption
                else None,
            },
        }
    )


def envelope(event: ApplicationSubmitted, *, correlation_id: str | None = "corr-fee") -> Envelope:
    return Envelope.new(
        type=event.TYPE,
        source="/intake",
        subject=event.application_id,
        data=event.to_data(),
        correlation_id=correlation_id,
        causation_id=None,
    )


class MemoryStore:
    def __init__(self) -> None:
        self.decisions: dict[tuple[str, str], FeeDecision] = {}
        self.outbox: list[tuple[str, Envelope]] = []
        self.announced: dict[str, Envelope] = {}

    async def save_decision(self, d: FeeDecision, announced: Envelope) -> bool:
        if (d.application_id, d.kind) in self.decisions:
            return False
        self.decisions[(d.application_id, d.kind)] = d
        self.announced[d.decision_id] = announced
        return True

    async def enqueue(self, topic: str, envelope: Envelope) -> None:
        self.outbox.append((topic, envelope))
