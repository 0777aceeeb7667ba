"""HTTP API of reconciliation (ADR 0034): import a bank statement (ISO 20022 camt.053) and the supervisor's report of
unmatched and mismatched items per registry office and day."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel

from btkernel import clock, problem_docs
from btkernel.errors import InvalidInput
from btkernel.service import ActorDep, ContextDep, PoolDep
from fees.adapters import camt053
from fees.adapters.payments import PgReconciliation
from fees.app import reconciliation

router = APIRouter(prefix="/api/v1/duty", tags=["state duty"])
MAX_REPORT_DAYS = 366
XML_TYPES = ("application/xml", "text/xml")


class ImportedOut(BaseModel):
    statement_id: str
    replayed: bool
    matched: int
    mismatched: int
    unmatched: int


class DayOut(BaseModel):
    registry_office_id: str | None
    day: dt.date
    matched: int
    mismatched: list[dict[str, Any]]
    unmatched_entries: list[dict[str, Any]]
    unmatched_payments: list[dict[str, Any]]


class ReportOut(BaseModel):
    start: dt.date
    end: dt.date
    days: list[DayOut]


@router.post(
    "/statements",
    response_model=ImportedOut,
    summary="Import a bank statement (ISO 20022 camt.053 XML) and match it to the recorded bank payments",
    responses=problem_docs.declare(422),
)
async def import_statement(
    request: Request,
    pool: PoolDep,
    actor: ActorDep,
    ctx: ContextDep,
    content_type: Annotated[str | None, Header(alias="Content-Type", max_length=200)] = None,
) -> ImportedOut:
    if (content_type or "").split(";")[0].strip().lower() not in XML_TYPES:
        raise InvalidInput("send the statement as application/xml", field="header.Content-Type")
    body = await request.body()
    limit: int = request.app.state.statement_max_bytes
    if len(body) > limit:
        raise InvalidInput(f"a statement is at most {limit} bytes", field="body")
    try:
        statement = camt053.parse(body)
    except camt053.StatementError as exc:
        raise InvalidInput(exc.reason, field=f"body.{exc.element}") from exc
    async with pool.acquire() as conn, conn.transaction():
        done = await reconciliation.import_statement(
            statement,
            PgReconciliation(conn),
            now=clock.now(),
            actor=actor.id,
            correlation_id=ctx.correlation_id,
        )
    return ImportedOut(statement_id=done.statement_id, replayed=done.replayed, **done.counts)


@router.get(
    "/reconciliation",
    response_model=ReportOut,
    summary="Unmatched and mismatched bank items per registry office and day",
    responses=problem_docs.declare(422),
)
async def reconciliation_report(
    pool: PoolDep,
    start: Annotated[dt.date, Query(alias="from", description="first day (booking or payment date)")],
    end: Annotated[dt.date, Query(alias="to", description="last day, at most 366 days after `from`")],
) -> ReportOut:
    if end < start or (end - start).days >= MAX_REPORT_DAYS:
        raise InvalidInput(
            f"`to` must be on or after `from` and within {MAX_REPORT_DAYS} days", field="query.to"
        )
    async with pool.acquire() as conn:
        store = PgReconciliation(conn)
        days = reconciliation.report(
            await store.entries_between(start, end), await store.open_bank_payments(start, end)
        )
    return ReportOut(
        start=start,
        end=end,
        days=[
            DayOut(
                registry_office_id=d.registry_office_id,
                day=d.day,
                matched=d.matched,
                mismatched=d.mismatched,
                unmatched_entries=d.unmatched_entries,
                unmatched_payments=d.unmatched_payments,
            )
            for d in days
        ],
    )
