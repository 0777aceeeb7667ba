"""The applications read model and the receipt-number counter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from btkernel.events.application import ApplicationCabinetNotified
from intake.domain.application import KEEP_AT_CENTRE_MONTHS, READY_FOR_PICKUP, Application


async def next_receipt_number(conn: asyncpg.Connection, centre_id: str, year: int) -> str:
    seq = await conn.fetchval(
        "INSERT INTO receipt_counters (centre_id, year, last) VALUES ($1, $2, 1) ON CONFLICT (centre_id, year)"
        " DO UPDATE SET last = receipt_counters.last + 1 RETURNING last",
        centre_id,
        year,
    )
    return f"{centre_id.upper()}-{year}-{seq:06d}"


async def insert(
    conn: asyncpg.Connection,
    *,
    application_id: str,
    centre_id: str,
    service_id: str,
    channel: str,
    status: str,
    receipt_number: str,
    applicant_iin: str | None,
    applicant_name: str,
    registry_office_id: str | None,
    submitted_at: dt.datetime,
    receipt: dict[str, Any] | None,
    refusal_receipt: dict[str, Any] | None,
) -> None:
    await conn.execute(
        "INSERT INTO applications (application_id, centre_id, service_id, channel, status, receipt_number,"
        " applicant_iin, applicant_name, registry_office_id, submitted_at, updated_at, receipt, refusal_receipt)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10,$11,$12)",
        application_id,
        centre_id,
        service_id,
        channel,
        status,
        receipt_number,
        applicant_iin,
        applicant_name,
        registry_office_id,
        submitted_at,
        receipt,
        refusal_receipt,
    )


async def update_from(conn: asyncpg.Connection, app: Application, at: dt.datetime) -> None:
    await conn.execute(
        "UPDATE applications SET status=$2, case_id=$3, record_number=$4, outcome=$5, updated_at=$6,"
        " result_received_at=$7, refusal_reason=$8, recall_due_at=$9 WHERE application_id=$1",
        app.id,
        app.status,
        app.case_id,
        app.record_number,
        app.outcome,
        at,
        app.received_at,
        app.refusal_reason,
        app.recall_due_at,
    )


async def insert_cabinet_notification(
    conn: asyncpg.Connection, app: Application, e: ApplicationCabinetNotified, version: int
) -> None:
    await conn.execute(
        "INSERT INTO cabinet_notifications (application_id, version, kind, text, registration_on, refusal_reason,"
        " notified_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
        app.id,
        version,
        e.kind,
        e.text,
        e.registration_on,
        e.refusal_reason,
        e.notified_at,
    )


async def due_for_return(conn: asyncpg.Connection, now: dt.datetime, limit: int = 500) -> list[str]:
    """Applications whose result has waited one month at a centre and goes back to the registry office
    (S004 p.9). For the scheduler: it calls this and then `return-to-registry` on each."""
    rows = await conn.fetch(
        "SELECT application_id FROM applications WHERE channel='state_corporation' AND status=$1"
        " AND result_received_at <= $2::timestamptz - make_interval(months => $3::int) ORDER BY result_received_at LIMIT $4",
        READY_FOR_PICKUP,
        now,
        KEEP_AT_CENTRE_MONTHS,
        limit,
    )
    return [r["application_id"] for r in rows]


async def get(conn: asyncpg.Connection, application_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT * FROM applications WHERE application_id=$1", application_id
    )
    return row
