"""Use case: assess the fee of each submitted application and announce it (FeeAssessed), once per application."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

from btkernel import clock
from btkernel import logging as btlog
from btkernel.envelope import Envelope
from civreg import catalogue, events, sites
from civreg.events.application import ApplicationSubmitted
from civreg.events.fee import FeeAssessed
from fees import reference
from fees.domain import assessment
from fees.domain.decision import ASSESSED, FeeDecision, decision_id

log = btlog.get(__name__)

GROUP = "fee.assessment"
EVENT_TYPES = (ApplicationSubmitted.TYPE,)
SOURCE = "/fee"
# Sites without a known timezone are in Kazakhstan: the duty follows the local date of submission.
DEFAULT_TIMEZONE = "Asia/Almaty"


class Store(Protocol):
    """Where decisions are kept, in the transaction of the event that caused them."""

    async def save_decision(self, d: FeeDecision) -> bool:
        """Record the decision; False when the application already has one of this kind."""
        ...

    async def enqueue(self, topic: str, envelope: Envelope) -> None: ...


class UnknownService(LookupError):
    """The catalogue has no edition of the service for the submission date: retried, then dead-lettered."""


async def apply(
    envelope: Envelope, store: Store, *, actor: str | None = None, now: dt.datetime | None = None
) -> FeeAssessed | None:
    """Decide and record the fee of a submitted application and queue FeeAssessed with it; None if the
    application was already assessed. `now` is the service's clock (`btkernel.clock`) unless given."""
    event = events.parse(envelope.type, envelope.data)
    if not isinstance(event, ApplicationSubmitted):
        return None
    on = assessment.duty_date(event.submitted_at, ZoneInfo(_timezone(event)))
    service = catalogue.load().get(event.service_id, on=on)
    if service is None:
        raise UnknownService(
            f"service {event.service_id} has no catalogue edition in force on {on.isoformat()}"
        )
    result = assessment.assess(service.fee, on, reference.mrp_table())
    assessed_at = now or clock.now()
    fee_event = FeeAssessed(
        application_id=event.application_id,
        service_id=event.service_id,
        assessed_at=assessed_at,
        payable=result.payable,
        amount_mrp=result.amount_mrp_text,
        amount_tiyn=result.amount_tiyn,
        basis=result.basis,
    )
    out = Envelope.new(
        type=FeeAssessed.TYPE,
        source=SOURCE,
        subject=event.application_id,
        data=fee_event.to_data(),
        correlation_id=envelope.correlation_id or envelope.id,
        causation_id=envelope.id,
        actor=actor,
    )
    decision = FeeDecision(
        decision_id=decision_id(event.application_id, ASSESSED),
        application_id=event.application_id,
        kind=ASSESSED,
        service_id=event.service_id,
        service_valid_from=service.valid_from,
        centre_id=event.centre_id,
        registry_office_id=event.registry_office_id,
        assessed_on=on,
        assessed_at=assessed_at,
        payable=result.payable,
        amount_mrp=result.amount_mrp,
        mrp_value_tiyn=result.mrp.tiyn if result.mrp else None,
        mrp_valid_from=result.mrp.valid_from if result.mrp else None,
        amount_tiyn=result.amount_tiyn,
        basis=result.basis,
        source_event_id=envelope.id,
        event_id=out.id,
    )
    if not await store.save_decision(decision):
        return None
    # Same transaction as the decision: the event is published if and only if the decision is recorded.
    await store.enqueue(FeeAssessed.TOPIC, out)
    log.info(
        "fee_assessed",
        application_id=event.application_id,
        payable=result.payable,
        amount_mrp=result.amount_mrp_text,
        amount_tiyn=result.amount_tiyn,
    )
    return fee_event


def _timezone(e: ApplicationSubmitted) -> str:
    registry = sites.load()
    site = registry.centre(e.centre_id) or registry.office(e.registry_office_id)
    return site.timezone if site else DEFAULT_TIMEZONE
