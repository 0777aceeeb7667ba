"""ISO 20022 camt.053 bank statements as a bank of Kazakhstan would send them, for tests and demonstrations of
reconciliation (ADR 0034). Amounts are given in integer tiyn and written with two decimals, never through a float."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from xml.sax.saxutils import escape

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


@dataclass(frozen=True)
class Credit:
    amount_tiyn: int
    booked_on: dt.date
    reference: str
    bank: str = "HSBKKZKX"
    entry_ref: str | None = None


def _tenge(tiyn: int) -> str:
    return f"{tiyn // 100}.{tiyn % 100:02d}"


def statement(
    statement_id: str,
    credits: list[Credit],
    *,
    account: str = "KZ75125KZT2069100100",
    created_at: dt.datetime = dt.datetime(2026, 3, 3, 8, 0, tzinfo=dt.UTC),
) -> bytes:
    entries = "".join(
        f"""
      <Ntry>
        <NtryRef>{escape(c.entry_ref or f"{statement_id}-{i}")}</NtryRef>
        <Amt Ccy="KZT">{_tenge(c.amount_tiyn)}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>{c.booked_on.isoformat()}</Dt></BookgDt>
        <ValDt><Dt>{c.booked_on.isoformat()}</Dt></ValDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>{escape(c.reference)}</EndToEndId></Refs>
          <RltdAgts><DbtrAgt><FinInstnId><BICFI>{escape(c.bank)}</BICFI></FinInstnId></DbtrAgt></RltdAgts>
          <RmtInf><Ustrd>{escape(c.reference)}</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>"""
        for i, c in enumerate(credits, start=1)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{NAMESPACE}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>{escape(statement_id)}-MSG</MsgId><CreDtTm>{created_at.isoformat()}</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{escape(statement_id)}</Id>
      <CreDtTm>{created_at.isoformat()}</CreDtTm>
      <Acct><Id><IBAN>{escape(account)}</IBAN></Id><Ccy>KZT</Ccy></Acct>{entries}
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()
