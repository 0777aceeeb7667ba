"""Matching a bank statement's credit entries to the bank payments recorded at acceptance (ADR 0034): by the payment
document's reference (and the payer's bank when both sides name it), then the amount. Pure: the entries and the
payments in, one outcome per entry out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from fees.domain.payment import Payment

Outcome = Literal["matched", "mismatched", "unmatched"]


@dataclass(frozen=True)
class Entry:
    """One credit entry of a bank statement, in integer tiyn."""

    entry_ref: str
    booked_on: dt.date
    amount_tiyn: int
    # The payer's bank (the debtor agent's BIC) and the payment document's reference, when the bank gives them.
    bank: str | None
    reference: str | None


@dataclass(frozen=True)
class Statement:
    statement_id: str
    account: str
    created_at: dt.datetime
    entries: list[Entry]


@dataclass(frozen=True)
class Match:
    entry: Entry
    payment: Payment | None
    outcome: Outcome
    detail: str


def match(entries: Iterable[Entry], payments: Iterable[Payment]) -> list[Match]:
    """Each entry against the bank payments by reference. A payment is matched by one entry at most: a second
    entry with the same reference is reported, never counted twice."""
    by_reference: dict[str, list[Payment]] = {}
    for p in payments:
        by_reference.setdefault(p.reference, []).append(p)
    taken: set[str] = set()
    out = []
    for e in entries:
        candidates = [
            p
            for p in by_reference.get(e.reference or "", [])
            if (e.bank is None or p.bank is None or p.bank == e.bank) and p.payment_id not in taken
        ]
        if not candidates:
            out.append(
                Match(e, None, "unmatched", f"no bank payment recorded with reference {e.reference!r}")
            )
            continue
        p = candidates[0]
        taken.add(p.payment_id)
        if e.amount_tiyn != p.amount_tiyn:
            detail = f"the statement credits {e.amount_tiyn} tiyn; the document recorded {p.amount_tiyn} tiyn"
            out.append(Match(e, p, "mismatched", detail))
        else:
            out.append(Match(e, p, "matched", f"{p.amount_tiyn} tiyn, application {p.application_id}"))
    return out
