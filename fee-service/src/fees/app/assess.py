"""Use case: assess the fee of each submitted application and announce it (FeeAssessed), once per application."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from btkernel import clock
from btkernel import logging as btlog
from btkernel.envelope import Envelope
from civreg import catalogue, duty, events, sites
from civreg.events.application import ApplicationSubmitted
from civreg.events.fee import FeeAssessed
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

    async def save_decision(self, d: FeeDecision, announced: Envelope) -> bool:
        """Record the decision and its history, `announced` (its FeeAssessed) first (ADR 0027); False when the
        application already has one of this kind."""
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
    # The edition of the accepting site's country (ADR 0039): a Kyrgyz marriage is decided in som, never tenge.
    service = catalogue.load().at_site(event.service_id, event.submitted_at, _site(event))
    if service is None:
        raise UnknownService(
            f"service {event.service_id} has no catalogue edition in force on {on.isoformat()}"
        )
    quote = quote_for(event, service, on)
    amount_mrp = duty.parse_mrp(quote.mrp_multiple) if quote.payable else Decimal(0)
    assessed_at = now or clock.now()
    fee_event = FeeAssessed(
        application_id=event.application_id,
        service_id=event.service_id,
        assessed_at=assessed_at,
        payable=quote.payable,
        amount_mrp=duty.format_mrp(amount_mrp),
        amount_tiyn=quote.amount_tiyn,
        basis=quote.basis,
        currency=quote.currency,
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
        payable=quote.payable,
        amount_mrp=amount_mrp,
        mrp_value_tiyn=quote.mrp_value_tiyn if quote.payable else None,
        mrp_valid_from=quote.mrp_valid_from if quote.payable else None,
        amount_tiyn=quote.amount_tiyn,
        basis=quote.basis,
        exemption=quote.exemption,
        source_event_id=envelope.id,
        event_id=out.id,
        channel=event.channel,
        currency=quote.currency,
    )
    if not await store.save_decision(decision, out):
        return None
    # Same transaction as the decision: the event is published if and only if the decision is recorded.
    await store.enqueue(FeeAssessed.TOPIC, out)
    log.info(
        "fee_assessed",
        application_id=event.application_id,
        payable=quote.payable,
        amount_tiyn=quote.amount_tiyn,
        currency=quote.currency,
        exemption=quote.exemption,
    )
    return fee_event


def quote_for(event: ApplicationSubmitted, service: catalogue.StateService, on: dt.date) -> duty.Quote:
    """The tariff's duty for the application (ADR 0034), with the exemption intake granted on the supporting
    document (S004 p.7), or a foreign edition's fixed amount in its currency (ADR 0039). The receipt's amount is
    not trusted: it is recomputed from the same shared configuration."""
    stated = event.receipt.state_duty
    exemption = stated.exemption if stated else None
    try:
        return duty.quote_edition(service, event.details, on, exemption=exemption)
    except duty.NotExempt:
        # Intake checked the exemption against the same tariff; one changed in between charges the duty.
        log.warning("exemption_not_granted", application_id=event.application_id, exemption=exemption)
        return duty.quote_edition(service, event.details, on)


def _site(e: ApplicationSubmitted) -> str | None:
    """The accepting site known to the reference data: the centre, else the registry office."""
    registry = sites.load()
    if registry.centre(e.centre_id) is not None:
        return e.centre_id
    return e.registry_office_id if registry.office(e.registry_office_id) is not None else None


def _timezone(e: ApplicationSubmitted) -> str:
    registry = sites.load()
    site = registry.centre(e.centre_id) or registry.office(e.registry_office_id)
    return site.timezone if site else DEFAULT_TIMEZONE
