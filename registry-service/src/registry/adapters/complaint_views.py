"""The `complaints` read model and the incoming-number log (`complaint_counters`) on PostgreSQL, in a unit of
work's transaction; and a complaint's history, read from its event stream."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from btkernel import eventstore
from btkernel.eventstore import StoredEvent
from registry.domain.complaint import ANSWERED, REVIEW_REFUSED, Complaint

COLUMNS = (
    "complaint_id, site_id, registry_office_id, channel, addressee, status, applicant_name, application_id,"
    " escalated_from, escalated_to, incoming_number, filed_at, registered_at, answer_due_at, completed_at,"
    " confirmation, updated_at"
)


def _row(r: asyncpg.Record) -> dict[str, Any]:
    return dict(r)


class ComplaintViews:
    def __init__(self, db: asyncpg.Connection) -> None:
        self._db = db

    async def next_number(self, site_id: str, year: int) -> int:
        seq: int = await self._db.fetchval(
            "INSERT INTO complaint_counters (site_id, year, last) VALUES ($1,$2,1)"
            " ON CONFLICT (site_id, year) DO UPDATE SET last = complaint_counters.last + 1 RETURNING last",
            site_id,
            year,
        )
        return seq

    async def save(self, c: Complaint, at: dt.datetime, confirmation: dict[str, Any] | None) -> None:
        """The row as the complaint now stands (inserted when filed)."""
        assert c.filed is not None
        f, r = c.filed, c.registered
        done = c.status in (ANSWERED, REVIEW_REFUSED)
        await self._db.execute(
            "INSERT INTO complaints (complaint_id, site_id, registry_office_id, channel, addressee, status,"
            " applicant_name, application_id, escalated_from, escalated_to, incoming_number, filed_at,"
            " registered_at, answer_due_at, completed_at, confirmation, updated_at)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)"
            " ON CONFLICT (complaint_id) DO UPDATE SET status = $6, escalated_to = $10, incoming_number = $11,"
            " registered_at = $13, answer_due_at = $14,"
            " completed_at = COALESCE(complaints.completed_at, $15),"
            " confirmation = COALESCE($16, complaints.confirmation), updated_at = $17",
            c.id,
            f.site_id,
            f.registry_office_id,
            f.channel,
            f.addressee,
            c.status,
            f.applicant.name.full(),
            f.application_id,
            f.escalated_from,
            c.escalated_to,
            r.incoming_number if r else None,
            f.filed_at,
            r.registered_at if r else None,
            r.answer_due_at if r else None,
            at if done else None,
            confirmation,
            at,
        )

    async def row(self, complaint_id: str) -> dict[str, Any] | None:
        r = await self._db.fetchrow(f"SELECT {COLUMNS} FROM complaints WHERE complaint_id = $1", complaint_id)
        return _row(r) if r is not None else None

    async def find(
        self,
        *,
        site_id: str | None,
        office_id: str | None,
        channel: str | None,
        status: str | None,
        overdue_at: dt.datetime | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Complaints most urgent first; `overdue_at`: only registered ones past their term at that moment."""
        rows = await self._db.fetch(
            f"SELECT {COLUMNS} FROM complaints WHERE ($1::text IS NULL OR site_id = $1)"
            " AND ($2::text IS NULL OR registry_office_id = $2) AND ($3::text IS NULL OR channel = $3)"
            " AND ($4::text IS NULL OR status = $4)"
            " AND ($5::timestamptz IS NULL OR (status = 'registered' AND answer_due_at < $5))"
            " ORDER BY answer_due_at NULLS FIRST, filed_at LIMIT $6",
            site_id,
            office_id,
            channel,
            status,
            overdue_at,
            limit,
        )
        return [_row(r) for r in rows]

    async def history(self, complaint_id: str) -> list[StoredEvent]:
        return await eventstore.load(self._db, complaint_id)
