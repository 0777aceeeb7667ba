"""Bank statements (camt.053, read with defusedxml) and their matching to recorded bank payments (ADR 0034)."""

from __future__ import annotations

import datetime as dt

import pytest

from btdeploy.bank_statements import Credit, statement
from fees.adapters import camt053
from fees.domain.payment import Payment
from fees.domain.reconciliation import match

DAY = dt.date(2026, 3, 2)
AT = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)


def bank_payment(reference: str, amount: int, bank: str = "HSBKKZKX") -> Payment:
    return Payment(
        payment_id=f"00000000-0000-0000-0000-{abs(hash(reference)) % 10**12:012d}",
        method="bank",
        status="recorded",
        service_id="marriage_registration",
        site_id="almaty-almaly",
        registry_office_id="almaty-almaly",
        application_id=f"app-{reference}",
        amount_tiyn=amount,
        reference=reference,
        bank=bank,
        paid_on=DAY,
        paid_at=None,
        payment_url=None,
        created_at=AT,
        updated_at=AT,
    )


def test_a_statement_reads_into_tiyn_credits() -> None:
    xml = statement("ST-1", [Credit(216_250, DAY, "PP-1"), Credit(5, DAY, "PP-2", bank="KCJBKZKX")])
    s = camt053.parse(xml)
    assert (s.statement_id, s.account) == ("ST-1", "KZ75125KZT2069100100")
    assert [(e.amount_tiyn, e.reference, e.bank, e.booked_on) for e in s.entries] == [
        (216_250, "PP-1", "HSBKKZKX", DAY),
        (5, "PP-2", "KCJBKZKX", DAY),
    ]


def test_debits_and_pending_entries_are_not_money_received() -> None:
    xml = statement("ST-2", [Credit(100, DAY, "PP-1")])
    debit = xml.replace(b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>DBIT</CdtDbtInd>")
    pending = xml.replace(b"<Cd>BOOK</Cd>", b"<Cd>PDNG</Cd>")
    assert camt053.parse(debit).entries == []
    assert camt053.parse(pending).entries == []


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ((b'Ccy="KZT">1.00', b'Ccy="USD">1.00'), "Stmt[1]/Ntry[1]/Amt"),
        ((b">1.00<", b">1.001<"), "Stmt[1]/Ntry[1]/Amt"),
        ((b">1.00<", b">-1.00<"), "Stmt[1]/Ntry[1]/Amt"),
        ((b"<Dt>2026-03-02</Dt></BookgDt>", b"<Dt>2 March</Dt></BookgDt>"), "Stmt[1]/Ntry[1]/BookgDt/Dt"),
        ((b"<Id>ST-3</Id>", b"<Id></Id>"), "Stmt[1]/Id"),
        ((b"camt.053.001.08", b"camt.054.001.08"), "Document"),
    ],
)
def test_a_bad_statement_names_the_element(change: tuple[bytes, bytes], element: str) -> None:
    xml = statement("ST-3", [Credit(100, DAY, "PP-1")]).replace(*change)
    with pytest.raises(camt053.StatementError) as bad:
        camt053.parse(xml)
    assert bad.value.element == element


def test_entities_and_dtds_are_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><Document>&b;</Document>'
    )
    with pytest.raises(camt053.StatementError) as bad:
        camt053.parse(bomb)
    assert bad.value.element == "Document"
    with pytest.raises(camt053.StatementError):
        camt053.parse(b"<Document><unclosed></Document>")


def test_entries_match_by_reference_then_amount() -> None:
    s = camt053.parse(
        statement(
            "ST-4",
            [
                Credit(216_250, DAY, "PP-1"),
                Credit(200_000, DAY, "PP-2"),
                Credit(50_000, DAY, "PP-404"),
                Credit(216_250, DAY, "PP-1"),  # the same document twice: the second matches nothing
            ],
        )
    )
    paid = [bank_payment("PP-1", 216_250), bank_payment("PP-2", 216_250)]
    outcomes = [(m.entry.reference, m.outcome) for m in match(s.entries, paid)]
    assert outcomes == [
        ("PP-1", "matched"),
        ("PP-2", "mismatched"),
        ("PP-404", "unmatched"),
        ("PP-1", "unmatched"),
    ]


def test_another_bank_with_the_same_document_number_does_not_match() -> None:
    s = camt053.parse(statement("ST-5", [Credit(100, DAY, "PP-1", bank="KCJBKZKX")]))
    [m] = match(s.entries, [bank_payment("PP-1", 100, bank="HSBKKZKX")])
    assert m.outcome == "unmatched"
