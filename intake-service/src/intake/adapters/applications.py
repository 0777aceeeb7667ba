"""The applications read model, the receipt-number counters and the personal cabinet on PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import asyncpg

from civreg.events.application import ApplicationCabinetNotified
from intake.app.unit_of_work import ApplicationFilter, ApplicationRow
from intake.domain.application import KEEP_AT_CENTRE_MONTHS, READY_FOR_PICKUP, Application

_COLUMNS = [f.name for f in dataclasses.fields(ApplicationRow)]


def _row(record: asyncpg.Record) -> ApplicationRow:
    return ApplicationRow(**{c: record[c] for c in _COLUMNS})


class PgApplications:
    def __init__(self, conn: asyncpg.Connection, later: Any = None) -> None:
        self.conn = conn
        # Where a new row is written: kept for the commit's round trip (btkernel.db.Later), or `conn`.
        self.later = conn if later is None else later

    async def next_receipt_number(self, site_id: str, year: int) -> str:
        seq = await self.conn.fetchval(
            "INSERT INTO receipt_counters (centre_id, year, last) VALUES ($1, $2, 1) ON CONFLICT (centre_id, year)"
            " DO UPDATE SET last = receipt_counters.last + 1 RETURNING last",
            site_id,
            year,
        )
        return f"{site_id.upper()}-{year}-{seq:06d}"

    async def insert(self, row: ApplicationRow) -> None:
        # Not astuple: it deep-copies the receipt's dicts, which nothing here changes.
        values = [getattr(row, c) for c in _COLUMNS]
        await self.later.execute(
            f"INSERT INTO applications ({', '.join(_COLUMNS)})"
            f" VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))})",
            *values,
        )

    async def update_from(self, app: Application, at: dt.datetime) -> None:
        await self.conn.execute(
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

    async def get(self, application_id: str) -> ApplicationRow | None:
        record = await self.conn.fetchrow(
            "SELECT * FROM applications WHERE application_id=$1", application_id
        )
        return None if record is None else _row(record)

    async def find(self, where: ApplicationFilter) -> list[ApplicationRow]:
        records = await self.conn.fetch(
            "SELECT * FROM applications WHERE ($1::text IS NULL OR centre_id=$1 OR registry_office_id=$1)"
            " AND ($2::text IS NULL OR status=$2) AND ($3::text IS NULL OR applicant_iin=$3)"
            " AND ($5::text IS NULL OR channel=$5) AND ($6::text IS NULL OR receipt_number=$6)"
            " ORDER BY submitted_at DESC LIMIT $4",
            where.site,
            where.status,
            where.applicant_iin,
            where.limit,
            where.channel,
            where.receipt_number,
        )
        return [_row(r) for r in records]

    async def due_for_return(self, now: dt.datetime, limit: int = 500) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT application_id FROM applications WHERE channel='state_corporation' AND status=$1"
            " AND result_received_at <= $2::timestamptz - make_interval(months => $3::int)"
            " ORDER BY result_received_at LIMIT $4",
            READY_FOR_PICKUP,
            now,
            KEEP_AT_CENTRE_MONTHS,
            limit,
        )
        return [r["application_id"] for r in rows]


class PgCabinet:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def add(self, application_id: str, version: int, e: ApplicationCabinetNotified) -> None:
        await self.conn.execute(
            "INSERT INTO cabinet_notifications (application_id, version, kind, text, registration_on,"
            " refusal_reason, notified_at) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
            application_id,
            version,
            e.kind,
            e.text,
            e.registration_on,
            e.refusal_reason,
            e.notified_at,
        )

    async def notifications(
        self,
        application_id: str | None,
        since: dt.datetime | None,
        limit: int,
        complaint_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """The applications' notifications and the complaints' (intake.app.complaint_cabinet), in time order; one
        application's or one complaint's when asked for."""
        rows = await self.conn.fetch(
            "SELECT * FROM (SELECT application_id, NULL::text AS complaint_id, version, kind, text, registration_on,"
            " refusal_reason, notified_at FROM cabinet_notifications"
            " WHERE $4::text IS NULL AND ($1::text IS NULL OR application_id=$1)"
            " UNION ALL SELECT NULL, complaint_id, version, kind, text, NULL, NULL, notified_at"
            " FROM cabinet_complaint_notifications WHERE $1::text IS NULL AND ($4::text IS NULL OR complaint_id=$4))"
            " n WHERE ($2::timestamptz IS NULL OR notified_at > $2) ORDER BY notified_at, version LIMIT $3",
            application_id,
            since,
            limit,
            complaint_id,
        )
        return [dict(r) for r in rows]
