"""Use cases of reconciliation (ADR 0034): import a bank statement once, match its entries to the bank payments
recorded at acceptance (a match confirms the payment), and report per registry office and day what did not match."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from btkernel.envelope import Envelope
from civreg.events.fee import DutyPaymentConfirmed
from fees.domain.payment import Payment
from fees.domain.reconciliation import Match, Statement, match

SOURCE = "/fee"


class ReconciliationStore(Protocol):
    async def statement_summary(self, statement_id: str) -> dict[str, int] | None: ...

    async def insert_statement(self, s: Statement, at: dt.datetime, by: str | None) -> None: ...

    async def unreconciled_bank_payments(self, references: list[str]) -> list[Payment]: ...

    async def insert_entry(self, statement_id: str, m: Match) -> None: ...

    async def update_payment(self, p: Payment) -> None: ...

    async def enqueue(self, topic: str, envelope: Envelope) -> None: ...


@dataclass(frozen=True)
class Imported:
    statement_id: str
    replayed: bool
    counts: dict[str, int]


async def import_statement(
    s: Statement,
    store: ReconciliationStore,
    *,
    now: dt.datetime,
    actor: str | None,
    correlation_id: str | None,
) -> Imported:
    """In the caller's transaction: the statement, each credit entry's outcome, the matched payments marked and
    confirmed. A statement imported before is not read again (its id is the bank's)."""
    if (known := await store.statement_summary(s.statement_id)) is not None:
        return Imported(s.statement_id, True, known)
    await store.insert_statement(s, now, actor)
    refs = sorted({e.reference for e in s.entries if e.reference})
    counts = {"matched": 0, "mismatched": 0, "unmatched": 0}
    for m in match(s.entries, await store.unreconciled_bank_payments(refs)):
        counts[m.outcome] += 1
        await store.insert_entry(s.statement_id, m)
        if m.payment is None:
            continue
        p = replace(m.payment, reconciled=m.outcome, updated_at=now)
        if m.outcome == "matched":
            p = replace(
                p, status="paid", paid_at=dt.datetime.combine(m.entry.booked_on, dt.time(), tzinfo=now.tzinfo)
            )
            await store.enqueue(DutyPaymentConfirmed.TOPIC, _confirmed(p, s, m, now, correlation_id, actor))
        await store.update_payment(p)
    return Imported(s.statement_id, False, counts)


@dataclass
class DayReport:
    registry_office_id: str | None
    day: dt.date
    matched: int = 0
    mismatched: list[dict[str, Any]] = field(default_factory=list)
    unmatched_entries: list[dict[str, Any]] = field(default_factory=list)
    unmatched_payments: list[dict[str, Any]] = field(default_factory=list)


def report(entries: list[dict[str, Any]], open_payments: list[Payment]) -> list[DayReport]:
    """Per registry office and day: matched count, mismatched items, statement entries matching no payment (their
    office unknown: None), and bank payments recorded on that day that no statement has confirmed."""
    days: dict[tuple[str | None, dt.date], DayReport] = {}

    def day(office: str | None, on: dt.date) -> DayReport:
        return days.setdefault((office, on), DayReport(office, on))

    for e in entries:
        d = day(e["registry_office_id"], e["booked_on"])
        item = {
            k: e[k] for k in ("statement_id", "entry_ref", "amount_tiyn", "reference", "payment_id", "detail")
        }
        if e["outcome"] == "matched":
            d.matched += 1
        elif e["outcome"] == "mismatched":
            d.mismatched.append(item)
        else:
            d.unmatched_entries.append(item)
    for p in open_payments:
        day(p.registry_office_id, p.paid_on or p.created_at.date()).unmatched_payments.append(
            {
                "payment_id": p.payment_id,
                "application_id": p.application_id,
                "bank": p.bank,
                "reference": p.reference,
                "amount_tiyn": p.amount_tiyn,
            }
        )
    return sorted(days.values(), key=lambda d: (d.day, d.registry_office_id or ""))


def _confirmed(
    p: Payment, s: Statement, m: Match, now: dt.datetime, correlation_id: str | None, actor: str | None
) -> Envelope:
    event = DutyPaymentConfirmed(
        payment_id=p.payment_id,
        method=p.method,
        application_id=p.application_id,
        amount_tiyn=p.amount_tiyn,
        reference=p.reference,
        confirmed_by=f"bank statement {s.statement_id} entry {m.entry.entry_ref}",
        confirmed_at=now,
    )
    return Envelope.new(
        type=event.TYPE,
        source=SOURCE,
        subject=p.payment_id,
        data=event.to_data(),
        correlation_id=correlation_id,
        causation_id=None,
        actor=actor,
    )
