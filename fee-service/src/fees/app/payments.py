"""Use cases of duty payments (S004 p.7; ADR 0034): create a payment at the e-government payment gateway, take its
signed notices (callback or status answer) exactly once, record the bank document stated at acceptance."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Protocol

from btkernel import logging as btlog
from btkernel.envelope import Envelope
from btkernel.errors import Conflict, InvalidInput, NotFound
from civreg import catalogue, duty, sites
from civreg.events.application import ApplicationSubmitted
from civreg.events.fee import DutyPaymentConfirmed, DutyPaymentFailed, DutyPaymentRecorded
from fees.domain.decision import FeeDecision
from fees.domain.payment import (
    BANK,
    CREATED,
    FAILED,
    PAID,
    PAYMENT_GATEWAY,
    RECORDED,
    GatewayNotice,
    Outcome,
    Payment,
    apply_notice,
    bank_payment_id,
)
from fees.domain.scope import a_site_sees_only_its_own_payments

log = btlog.get(__name__)
SOURCE = "/fee"


class PaymentStore(Protocol):
    async def payment(self, payment_id: str, *, for_update: bool = False) -> Payment | None: ...

    async def insert_payment(self, p: Payment) -> bool:
        """False when the payment (or another with its method, bank and reference) exists already."""
        ...

    async def update_payment(self, p: Payment) -> None: ...

    async def live_payment_for(self, application_id: str) -> Payment | None:
        """The application's payment that has not failed, if any (one at most)."""
        ...

    async def save_notice(
        self, notice: GatewayNotice, payment_id: str | None, outcome: str, at: dt.datetime
    ) -> bool:
        """False when a notice of this id was taken before."""
        ...

    async def enqueue(self, topic: str, envelope: Envelope) -> None: ...


class Gateway(Protocol):
    async def create(self, order_id: str, amount_tiyn: int, description: str) -> CreatedPaymentLike: ...


class CreatedPaymentLike(Protocol):
    """What the gateway answers to a created payment: its payment id and the page where the applicant pays."""

    @property
    def gateway_payment_id(self) -> str: ...

    @property
    def payment_url(self) -> str: ...


@dataclass(frozen=True)
class StartPayment:
    """A payment asked for at a site, for the duty of a service and case, before the application is accepted."""

    payment_id: str
    service_id: str
    site_id: str
    registry_office_id: str | None
    variant: str | None
    record_kind: str | None
    on: dt.date
    now: dt.datetime
    correlation_id: str | None
    actor: str | None
    # Set when the portal pays for an application it submitted (the amount is then the fee decision's).
    application_id: str | None = None
    channel: str | None = None


def quote(cmd: StartPayment) -> duty.Quote:
    """The duty of the payment asked for, on the edition of the paying site's country (ADR 0039). The
    e-government payment gateway takes tenge only: a duty in another currency (a Kyrgyz centre's, in som) is
    paid outside it, and asking it here is refused naming the service."""
    country = sites.load().country_of(cmd.site_id) or catalogue.HOME_COUNTRY
    service = catalogue.load().get(cmd.service_id, on=cmd.on, country=country)
    if service is not None and service.fee.currency != duty.HOME_CURRENCY:
        raise InvalidInput(
            f"the duty of {cmd.service_id!r} in {country} is due in {service.fee.currency}; the payment "
            f"gateway takes {duty.HOME_CURRENCY} only",
            field="body.service_id",
        )
    if service is None:
        raise InvalidInput(
            f"no service {cmd.service_id!r} in force on {cmd.on.isoformat()}", field="body.service_id"
        )
    if cmd.variant is not None and cmd.variant not in service.variants():
        raise InvalidInput(
            f"{cmd.variant!r} is not a case of this service; expected one of: {', '.join(service.variants())}",
            field="body.variant",
        )
    q = duty.quote_application(service, {"variant": cmd.variant, "record_kind": cmd.record_kind}, cmd.on)
    if not q.payable:
        raise InvalidInput(
            "nothing is due for this service and case: there is nothing to pay", field="body.service_id"
        )
    return q


def due_for_application(decision: FeeDecision | None, application_id: str) -> int:
    """What the portal pays for an application it submitted: the duty the fee service decided for it (S004 p.7;
    never recomputed from what the caller says). Unknown, or another channel's: 404; nothing due: 422."""
    if decision is None:
        raise NotFound(
            f"no fee decision for application {application_id} submitted through the portal",
            field="body.application_id",
        )
    if not decision.payable or decision.amount_tiyn <= 0:
        raise InvalidInput(
            "nothing is due for this application: there is nothing to pay", field="body.application_id"
        )
    if decision.currency != duty.HOME_CURRENCY:
        raise InvalidInput(
            f"the duty is due in {decision.currency}; the payment gateway takes {duty.HOME_CURRENCY} only",
            field="body.application_id",
        )
    return decision.amount_tiyn


async def create_at_gateway(cmd: StartPayment, amount_tiyn: int, gateway: Gateway) -> Payment:
    """Ask the gateway for the payment (idempotent there by our order id = payment id). Nothing is written yet:
    a failure here leaves no trace and the same request may be repeated."""
    created = await gateway.create(cmd.payment_id, amount_tiyn, f"State duty: {cmd.service_id}")
    return Payment(
        payment_id=cmd.payment_id,
        method=PAYMENT_GATEWAY,
        status=CREATED,
        service_id=cmd.service_id,
        site_id=cmd.site_id,
        registry_office_id=cmd.registry_office_id,
        application_id=cmd.application_id,
        amount_tiyn=amount_tiyn,
        reference=created.gateway_payment_id,
        bank=None,
        paid_on=None,
        paid_at=None,
        payment_url=created.payment_url,
        created_at=cmd.now,
        updated_at=cmd.now,
        channel=cmd.channel,
    )


async def record_created(
    payment: Payment, store: PaymentStore, *, correlation_id: str | None, actor: str | None
) -> Payment:
    """Keep the created payment with its event, in the caller's transaction; the one kept first wins."""
    if await store.insert_payment(payment):
        await store.enqueue(DutyPaymentRecorded.TOPIC, _recorded(payment, correlation_id, None, actor))
        return payment
    kept = await store.payment(payment.payment_id)
    if kept is None and payment.application_id is not None:
        # Another request paid for the same application meanwhile: that payment is the application's.
        kept = await store.live_payment_for(payment.application_id)
    if kept is None:
        raise InvalidInput(
            "this payment reference is taken by another payment", field="header.Idempotency-Key"
        )
    return kept


async def take_notice(notice: GatewayNotice, store: PaymentStore, now: dt.datetime) -> Outcome:
    """A verified notice of the gateway, in one transaction: the payment moves at most once; a repeat or a late
    notice is kept and changes nothing."""
    try:
        uuid.UUID(notice.order_id)
    except ValueError:
        payment = None
    else:
        payment = await store.payment(notice.order_id, for_update=True)
    if payment is None:
        await store.save_notice(notice, None, "unknown_payment", now)
        log.warning("payment_notice_unknown", order_id=notice.order_id)
        return "unknown_payment"
    moved, outcome = apply_notice(payment, notice, now)
    if not await store.save_notice(notice, payment.payment_id, outcome, now):
        return "duplicate"
    if outcome == "applied":
        await store.update_payment(moved)
        await store.enqueue(
            DutyPaymentConfirmed.TOPIC if moved.status == PAID else DutyPaymentFailed.TOPIC,
            _moved(moved, notice),
        )
    log.info("payment_notice", payment_id=payment.payment_id, status=notice.status, outcome=outcome)
    return outcome


async def link_application(
    event: ApplicationSubmitted, store: PaymentStore, envelope: Envelope, now: dt.datetime
) -> None:
    """The payment stated on the receipt: a gateway payment is tied to the application; a bank document is
    recorded as a bank payment, confirmed later by the statement (reconciliation)."""
    stated = event.receipt.state_duty
    if stated is None or stated.payment is None:
        return
    p = stated.payment
    if p.method == PAYMENT_GATEWAY:
        try:
            found = await store.payment(p.reference, for_update=True) if _is_uuid(p.reference) else None
        except ValueError:
            found = None
        if found is None or (found.application_id not in (None, event.application_id)):
            # The operator's statement cannot be tied: reported by the payment's view, never fatal to the event.
            log.warning("payment_not_linked", application_id=event.application_id, payment_id=p.reference)
            return
        if found.application_id is None:
            await store.update_payment(replace(found, application_id=event.application_id, updated_at=now))
        return
    payment = _bank_payment(
        event.application_id,
        service_id=event.service_id,
        site_id=event.centre_id,
        registry_office_id=event.registry_office_id,
        amount_tiyn=p.amount_tiyn or stated.amount_tiyn,
        reference=p.reference,
        bank=p.bank,
        paid_on=p.paid_on,
        now=now,
    )
    if await store.insert_payment(payment):
        await store.enqueue(
            DutyPaymentRecorded.TOPIC,
            _recorded(payment, envelope.correlation_id or envelope.id, envelope.id, envelope.actor),
        )
    else:
        log.warning("bank_document_seen_before", application_id=event.application_id, reference=p.reference)


@dataclass(frozen=True)
class BankDocument:
    """The bank's payment document, as the operator reads it from the paper (S004 p.7: paid through a bank)."""

    application_id: str
    bank: str
    document_number: str
    paid_on: dt.date
    amount_tiyn: int


async def record_bank_payment(
    doc: BankDocument,
    decision: FeeDecision,
    store: PaymentStore,
    *,
    now: dt.datetime,
    correlation_id: str | None,
    actor: str | None,
) -> Payment:
    """A bank payment for an accepted application whose duty is due, after acceptance; once per application."""
    if not decision.payable:
        raise InvalidInput(
            "nothing is due for this application: no payment to record", field="body.application_id"
        )
    if doc.amount_tiyn < decision.amount_tiyn:
        raise InvalidInput(
            f"the payment document is for {doc.amount_tiyn} tiyn; {decision.amount_tiyn} tiyn are due",
            field="body.amount_tiyn",
        )
    payment = _bank_payment(
        doc.application_id,
        service_id=decision.service_id,
        site_id=decision.centre_id,
        registry_office_id=decision.registry_office_id,
        amount_tiyn=doc.amount_tiyn,
        reference=doc.document_number,
        bank=doc.bank,
        paid_on=doc.paid_on,
        now=now,
    )
    if not await store.insert_payment(payment):
        raise Conflict(
            "a payment is already recorded for this application, or this bank document for another one",
            code="payment_recorded",
        )
    await store.enqueue(DutyPaymentRecorded.TOPIC, _recorded(payment, correlation_id, None, actor))
    return payment


async def visible_payment(store: PaymentStore, payment_id: str, *, role: str, site: str | None) -> Payment:
    """The payment for a reader of its site (the supervisor: every site); unknown otherwise."""
    found = await store.payment(payment_id) if _is_uuid(payment_id) else None
    if found is None or not a_site_sees_only_its_own_payments(
        role, site, found.site_id, found.registry_office_id, found.channel
    ):
        raise NotFound(f"no payment {payment_id}")
    return found


def _bank_payment(
    application_id: str,
    *,
    service_id: str,
    site_id: str,
    registry_office_id: str,
    amount_tiyn: int,
    reference: str,
    bank: str | None,
    paid_on: dt.date | None,
    now: dt.datetime,
) -> Payment:
    """A bank's payment document as a recorded payment: one per application (`bank_payment_id`), stated on the
    receipt at acceptance or recorded later."""
    return Payment(
        payment_id=bank_payment_id(application_id),
        method=BANK,
        status=RECORDED,
        service_id=service_id,
        site_id=site_id,
        registry_office_id=registry_office_id,
        application_id=application_id,
        amount_tiyn=amount_tiyn,
        reference=reference,
        bank=bank,
        paid_on=paid_on,
        paid_at=None,
        payment_url=None,
        created_at=now,
        updated_at=now,
    )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _recorded(
    p: Payment, correlation_id: str | None, causation_id: str | None, actor: str | None
) -> Envelope:
    event = DutyPaymentRecorded(
        payment_id=p.payment_id,
        method=p.method,
        status=p.status,
        service_id=p.service_id,
        site_id=p.site_id,
        application_id=p.application_id,
        amount_tiyn=p.amount_tiyn,
        reference=p.reference,
        recorded_at=p.created_at,
    )
    return Envelope.new(
        type=event.TYPE,
        source=SOURCE,
        subject=p.payment_id,
        data=event.to_data(),
        correlation_id=correlation_id,
        causation_id=causation_id,
        actor=actor,
    )


def _moved(p: Payment, notice: GatewayNotice) -> Envelope:
    event: DutyPaymentConfirmed | DutyPaymentFailed
    if p.status == PAID:
        event = DutyPaymentConfirmed(
            payment_id=p.payment_id,
            method=p.method,
            application_id=p.application_id,
            amount_tiyn=p.amount_tiyn,
            reference=p.reference,
            confirmed_by=f"payment gateway notice {notice.notice_id}",
            confirmed_at=p.paid_at or p.updated_at,
        )
    else:
        assert p.status == FAILED
        event = DutyPaymentFailed(
            payment_id=p.payment_id,
            application_id=p.application_id,
            reason=notice.reason or "failed at the payment gateway",
            failed_at=p.updated_at,
        )
    return Envelope.new(
        type=event.TYPE,
        source=SOURCE,
        subject=p.payment_id,
        data=event.to_data(),
        correlation_id=p.payment_id,
        causation_id=None,
        actor="system:payment-gateway",
    )
