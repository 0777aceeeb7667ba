"""Bank statements in ISO 20022 camt.053 (BankToCustomerStatement), read safely (defusedxml: no entities, no DTDs,
no external references) and bounded, into integer-tiyn credit entries (ADR 0034). Each problem names the element
where it is (`Stmt[1]/Ntry[2]/Amt`), so the bank's file can be corrected."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from fees.domain.reconciliation import Entry, Statement

NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053."
MAX_ENTRIES = 10_000
MAX_TEXT = 140  # ISO 20022 Max140Text: the longest text field read here
CURRENCY = "KZT"


class StatementError(ValueError):
    """The statement cannot be read; `element` says where."""

    def __init__(self, element: str, reason: str) -> None:
        super().__init__(f"{element}: {reason}")
        self.element = element
        self.reason = reason


def parse(xml: bytes) -> Statement:
    try:
        root = ElementTree.fromstring(xml)
    except DefusedXmlException as exc:
        raise StatementError("Document", f"refused: {type(exc).__name__} (no DTDs or entities)") from exc
    except ElementTree.ParseError as exc:
        raise StatementError("Document", f"not well-formed XML: {exc}") from exc
    ns = _namespace(root)
    if root.tag != f"{{{ns}}}Document" or not ns.startswith(NAMESPACE_PREFIX):
        raise StatementError("Document", f"not a camt.053 document (namespace {ns or 'none'})")
    q = _Q(ns)
    stmts = root.findall(f"{q('BkToCstmrStmt')}/{q('Stmt')}")
    if len(stmts) != 1:
        raise StatementError("BkToCstmrStmt", f"exactly one Stmt per file is imported, found {len(stmts)}")
    stmt = stmts[0]
    where = "Stmt[1]"
    statement_id = _text(stmt, q("Id"), f"{where}/Id")
    created = _datetime(_text(stmt, q("CreDtTm"), f"{where}/CreDtTm"), f"{where}/CreDtTm")
    acct = stmt.find(f"{q('Acct')}/{q('Id')}")
    account = None
    if acct is not None:
        account = _optional(acct, q("IBAN")) or _optional(acct, f"{q('Othr')}/{q('Id')}")
    if account is None:
        raise StatementError(f"{where}/Acct/Id", "the account (IBAN or Othr/Id) is missing")
    raw = stmt.findall(q("Ntry"))
    if len(raw) > MAX_ENTRIES:
        raise StatementError(f"{where}/Ntry", f"more than {MAX_ENTRIES} entries in one statement")
    entries = []
    for i, ntry in enumerate(raw, start=1):
        at = f"{where}/Ntry[{i}]"
        if _text(ntry, q("CdtDbtInd"), f"{at}/CdtDbtInd") != "CRDT":
            continue  # only money received pays a duty
        status = ntry.find(q("Sts"))
        code = (
            status.findtext(q("Cd"))
            if status is not None and len(status)
            else (status.text if status is not None else None)
        )
        if code is not None and code.strip() != "BOOK":
            continue  # pending or information only: not yet money on the account
        amt = ntry.find(q("Amt"))
        if amt is None:
            raise StatementError(f"{at}/Amt", "the amount is missing")
        if amt.get("Ccy") != CURRENCY:
            raise StatementError(
                f"{at}/Amt", f"currency {amt.get('Ccy')!r}; the state duty is paid in {CURRENCY}"
            )
        tx = f"{q('NtryDtls')}/{q('TxDtls')}"
        entries.append(
            Entry(
                entry_ref=_optional(ntry, q("NtryRef")) or _optional(ntry, f"{q('AcctSvcrRef')}") or str(i),
                booked_on=_date(
                    _text(ntry, f"{q('BookgDt')}/{q('Dt')}", f"{at}/BookgDt/Dt"), f"{at}/BookgDt/Dt"
                ),
                amount_tiyn=_tiyn(amt.text, f"{at}/Amt"),
                bank=_optional(ntry, f"{tx}/{q('RltdAgts')}/{q('DbtrAgt')}/{q('FinInstnId')}/{q('BICFI')}")
                or _optional(ntry, f"{tx}/{q('RltdAgts')}/{q('DbtrAgt')}/{q('FinInstnId')}/{q('BIC')}"),
                reference=_optional(ntry, f"{tx}/{q('Refs')}/{q('EndToEndId')}", skip="NOTPROVIDED")
                or _optional(ntry, f"{tx}/{q('RmtInf')}/{q('Ustrd')}"),
            )
        )
    return Statement(statement_id=statement_id, account=account, created_at=created, entries=entries)


class _Q:
    def __init__(self, ns: str) -> None:
        self.ns = ns

    def __call__(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"


def _namespace(root: Element) -> str:
    return root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""


def _optional(node: Element, path: str, *, skip: str | None = None) -> str | None:
    text = node.findtext(path)
    if text is None or not text.strip() or text.strip() == skip:
        return None
    return text.strip()[:MAX_TEXT]


def _text(node: Element, path: str, where: str) -> str:
    text = _optional(node, path)
    if text is None:
        raise StatementError(where, "missing or empty")
    return text


def _date(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise StatementError(where, f"{text!r} is not an ISO date") from exc


def _datetime(text: str, where: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise StatementError(where, f"{text!r} is not an ISO date-time") from exc
    if value.tzinfo is None:
        # camt.053 allows a local time; the banks of Kazakhstan give Almaty's.
        value = value.replace(tzinfo=dt.timezone(dt.timedelta(hours=5)))
    return value


def _tiyn(text: str | None, where: str) -> int:
    try:
        amount = Decimal((text or "").strip())
    except InvalidOperation as exc:
        raise StatementError(where, f"{text!r} is not a decimal amount") from exc
    if not amount.is_finite() or amount <= 0:
        raise StatementError(where, "the amount must be positive")
    tiyn = amount * 100
    if tiyn != tiyn.to_integral_value() or tiyn > 10**14:
        raise StatementError(where, f"{text!r} is not a whole number of tiyn (two decimals at most)")
    return int(tiyn)
