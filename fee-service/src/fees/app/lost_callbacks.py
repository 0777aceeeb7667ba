"""Use case: a payment whose callback never came resolves itself (ADR 0034). The fee service asks the payment
gateway about payments still `created` some time after they were made, with growing pauses, and applies each
signed answer through the same rule as a callback (`payments.take_notice`): a paid answer confirms the payment
once, and the callback arriving after it is a duplicate.

Safe in every instance (ADR 0029, the `SKIP LOCKED` kind): the due payments are claimed with `FOR UPDATE SKIP
LOCKED` and their next question is scheduled in the claiming transaction, committed before the gateway is asked,
so another instance neither takes them meanwhile nor asks twice; applying an answer locks the payment row and is
idempotent by the answer's notice id."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from btkernel import logging as btlog
from fees.domain.payment import GatewayNotice, Outcome

log = btlog.get(__name__)


class PendingPayments(Protocol):
    async def claim_due(self, now: dt.datetime) -> list[str]:
        """Ids of payment-gateway payments still `created` whose next question is due at `now` (a batch), each
        with its following question already scheduled, committed."""
        ...

    async def take(self, notice: GatewayNotice, now: dt.datetime) -> Outcome:
        """`payments.take_notice` in a transaction of its own."""
        ...


class StatusSource(Protocol):
    async def status_or_none(self, order_id: str) -> GatewayNotice | None:
        """The gateway's signed status of the payment; None when it gave no trustworthy answer (asked again
        after the scheduled pause)."""
        ...


async def resolve_lost_callbacks(pending: PendingPayments, gateway: StatusSource, now: dt.datetime) -> int:
    """One round: ask about every due payment and apply the answers. Returns how many were asked about (a full
    batch means more may be waiting)."""
    claimed = await pending.claim_due(now)
    for payment_id in claimed:
        notice = await gateway.status_or_none(payment_id)
        if notice is None:
            continue
        outcome = await pending.take(notice, now)
        log.info("payment_status_resolved", payment_id=payment_id, status=notice.status, outcome=outcome)
    return len(claimed)
