"""A payment of the state duty (S004 p.7: "through banks or through the e-government payment gateway") and what a
notice from the payment gateway may change about it (ADR 0034). Pure rules: no database, no HTTP, no clock."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Literal

PAYMENT_GATEWAY = "payment_gateway"
BANK = "bank"

# A gateway payment is created, then paid or failed, once; a bank document is recorded, then matched or not by
# the bank statement (reconciliation keeps that outcome beside it, the status stays).
CREATED = "created"
PAID = "paid"
FAILED = "failed"
RECORDED = "recorded"
FINAL = frozenset({PAID, FAILED})

_PAYMENT_NS = uuid.UUID("0f1d7a52-8f0b-4c2b-9e7e-3c9a4d1b6e20")

# What a notice did, kept per notice id: a repeat of a notice, or a notice after the payment reached a final state,
# changes nothing (ADR 0034).
Outcome = Literal["applied", "duplicate", "late", "amount_mismatch", "unknown_payment"]


def payment_id_for(site_id: str, idempotency_key: str) -> str:
    """One payment per site and Idempotency-Key: a repeated request creates nothing new."""
    return str(uuid.uuid5(_PAYMENT_NS, f"{site_id}:{idempotency_key}"))


def bank_payment_id(application_id: str) -> str:
    """The bank document recorded with an application is that application's one bank payment."""
    return str(uuid.uuid5(_PAYMENT_NS, f"bank:{application_id}"))


@dataclass(frozen=True)
class Payment:
    payment_id: str
    method: str
    status: str
    service_id: str
    site_id: str
    registry_office_id: str | None
    application_id: str | None
    amount_tiyn: int
    # The payment gateway's payment id, or the bank's payment document number.
    reference: str
    bank: str | None
    paid_on: dt.date | None
    paid_at: dt.datetime | None
    payment_url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    reconciled: str | None = None
    # `portal` when the e-government portal made it for one of its applications; None when a site did.
    channel: str | None = None


@dataclass(frozen=True)
class GatewayNotice:
    """What the payment gateway says of a payment, from a verified callback or a verified status answer."""

    notice_id: str
    order_id: str
    status: str
    amount_tiyn: int
    paid_at: dt.datetime | None
    reason: str | None = None


def apply_notice(payment: Payment, notice: GatewayNotice, now: dt.datetime) -> tuple[Payment, Outcome]:
    """The payment after the notice, and what the notice did. Only a created payment moves, once; the amount
    must be the one asked for (a different amount is never "paid": it is reported, not trusted)."""
    if notice.status not in FINAL:
        return payment, "late" if payment.status in FINAL else "duplicate"
    if payment.status in FINAL:
        return payment, "duplicate" if payment.status == notice.status else "late"
    if notice.status == PAID and notice.amount_tiyn != payment.amount_tiyn:
        return payment, "amount_mismatch"
    moved = replace(
        payment,
        status=notice.status,
        paid_at=(notice.paid_at or now) if notice.status == PAID else None,
        updated_at=now,
    )
    return moved, "applied"


def status_query_pause(
    checks_done: int, *, first_after: dt.timedelta, max_pause: dt.timedelta
) -> dt.timedelta:
    """How long to wait before asking the gateway again about a payment still `created` whose callback may be
    lost, after `checks_done` questions: the first question comes `first_after` its creation, then the pauses double
    from there up to `max_pause`. A payment the applicant simply has not paid yet is asked about ever more rarely,
    which keeps the cost of the questions bounded."""
    if checks_done < 1:
        return first_after
    # Doubling stops at the cap; the exponent is bounded so that no count of questions overflows.
    return min(first_after * (1 << min(checks_done, 20)), max_pause)
