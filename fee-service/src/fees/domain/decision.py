"""A fee decision (решение о государственной пошлине) as recorded: one per application and kind, with the facts
it was decided on, so that a later change of the catalogue or the MRP table never rewrites it.

Its history (ADR 0027, issue 10): the decision's own stream in the fee service's event store, `FeeAssessed` as
published (same id and payload) then `FeeDecisionFacts`, the rest of the row, never published. The row is the fold
of the two (`from_history`), so a rebuild takes each decision as it was made, never decides it again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from btkernel.events.base import Event
from civreg import duty
from civreg.events.fee import FeeAssessed

# Deterministic decision ids: one assessment per application, whatever delivers its submission again.
_DECISION_NS = uuid.UUID("b6d2a0f4-33c8-4e55-8d0e-6c1f5e9f2a71")

ASSESSED = "assessed"
# The decision's stream in the fee service's event store: id = `decision_id`.
STREAM_TYPE = "fee_decision"


def decision_id(application_id: str, kind: str) -> str:
    return str(uuid.uuid5(_DECISION_NS, f"{application_id}:{kind}"))


@dataclass(frozen=True)
class FeeDecision:
    decision_id: str
    application_id: str
    kind: str
    service_id: str
    service_valid_from: dt.date
    centre_id: str
    registry_office_id: str
    assessed_on: dt.date
    assessed_at: dt.datetime
    payable: bool
    amount_mrp: Decimal
    mrp_value_tiyn: int | None
    mrp_valid_from: dt.date | None
    amount_tiyn: int
    basis: str
    # The S004 p.7 ground that made the duty 0 (ADR 0034); kept before the ids, which close the row.
    exemption: str | None
    source_event_id: str
    event_id: str
    # The channel the application came through (`portal` for the e-government portal), None before it was kept.
    channel: str | None = None
    # Whose hundredths `amount_tiyn` counts (ADR 0039): KZT, or KGS (tyiyn of som) for a Kyrgyz edition.
    currency: str = "KZT"


class FeeDecisionFacts(Event):
    """What a decision rests on besides what `FeeAssessed` announces: the catalogue edition and MRP value it used,
    the site, the local date and the exemption. Kept in the decision's stream after its `FeeAssessed`, never
    published (no TOPIC): partners' `FeeAssessed` is unchanged, and an exemption ground is not news for Kafka."""

    TYPE: ClassVar[str] = "bt.fee.decision-facts.v1"
    kind: str
    service_valid_from: dt.date
    centre_id: str
    registry_office_id: str
    assessed_on: dt.date
    mrp_value_tiyn: int | None
    mrp_valid_from: dt.date | None
    exemption: str | None
    source_event_id: str
    channel: str | None = None

    @classmethod
    def of(cls, d: FeeDecision) -> FeeDecisionFacts:
        return cls(
            kind=d.kind,
            service_valid_from=d.service_valid_from,
            centre_id=d.centre_id,
            registry_office_id=d.registry_office_id,
            assessed_on=d.assessed_on,
            mrp_value_tiyn=d.mrp_value_tiyn,
            mrp_valid_from=d.mrp_valid_from,
            exemption=d.exemption,
            source_event_id=d.source_event_id,
            channel=d.channel,
        )


def from_history(decision: str, announced_id: str, events: Sequence[Event]) -> FeeDecision:
    """The decision its stream `decision` records: the `FeeAssessed` announced as event `announced_id` (the row's
    `event_id`), then its facts."""
    assessed, facts = events[0], events[1]
    if not isinstance(assessed, FeeAssessed) or not isinstance(facts, FeeDecisionFacts):
        raise ValueError(f"fee decision {decision}: its stream is not FeeAssessed then FeeDecisionFacts")
    return FeeDecision(
        decision_id=decision,
        application_id=assessed.application_id,
        kind=facts.kind,
        service_id=assessed.service_id,
        service_valid_from=facts.service_valid_from,
        centre_id=facts.centre_id,
        registry_office_id=facts.registry_office_id,
        assessed_on=facts.assessed_on,
        assessed_at=assessed.assessed_at,
        payable=assessed.payable,
        amount_mrp=duty.parse_mrp(assessed.amount_mrp),
        mrp_value_tiyn=facts.mrp_value_tiyn,
        mrp_valid_from=facts.mrp_valid_from,
        amount_tiyn=assessed.amount_tiyn,
        basis=assessed.basis,
        exemption=facts.exemption,
        source_event_id=facts.source_event_id,
        event_id=announced_id,
        channel=facts.channel,
        currency=assessed.currency,
    )
