"""The `cases` read model: the office's worklist and search, one row per case, written in the command's
transaction (ADR 3); and the case's history, read from its event stream."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from btkernel import eventstore
from btkernel.eventstore import StoredEvent
from civreg.calendar import ALMATY
from civreg.events.case import CaseOpened
from registry.domain.case import RESULT_SENT, Case, time_left_to_review


class CaseViews:
    """Reads and writes of the `cases` table in a unit of work's transaction."""

    def __init__(self, db: asyncpg.Connection) -> None:
        self._db = db

    async def insert(self, e: CaseOpened) -> None:
        await self._db.execute(
            "INSERT INTO cases (case_id, application_id, registry_office_id, centre_id, service_id, channel, status,"
            " receipt_number, applicant_iin, applicant_name, review_term, opened_at, review_due_at, updated_at)"
            " VALUES ($1,$2,$3,$4,$5,$6,'opened',$7,$8,$9,$10,$11,$12,$11)",
            e.case_id,
            e.application_id,
            e.registry_office_id,
            e.centre_id,
            e.service_id,
            e.channel,
            e.receipt_number,
            e.applicant.iin,
            e.applicant.name.full(),
            e.review_term.model_dump(),
            e.opened_at,
            e.review_due_at,
        )

    async def update(self, case: Case, at: dt.datetime, review_due_at: dt.datetime | None = None) -> None:
        """The worklist row after a command. The review due moment is written only when the command moved it (an
        extension): a decree recomputes it in the read model, and the aggregate's older value must not undo
        that."""
        await self._db.execute(
            "UPDATE cases SET status=$2, executive_id=$3, record_id=$4, record_number=$5, updated_at=$6,"
            " completed_at = CASE WHEN $2 = $7 THEN $6 ELSE completed_at END,"
            " review_due_at = COALESCE($8, review_due_at) WHERE case_id=$1",
            case.id,
            case.status,
            case.executive_id,
            case.record_id,
            case.record_number,
            at,
            RESULT_SENT,
            review_due_at,
        )

    async def move_review_due(self, case_id: str, due_at: dt.datetime) -> None:
        """A decree moved the review term (registry.app.calendar)."""
        await self._db.execute("UPDATE cases SET review_due_at = $2 WHERE case_id = $1", case_id, due_at)

    async def row(self, case_id: str) -> dict[str, Any] | None:
        row = await self._db.fetchrow("SELECT * FROM cases WHERE case_id=$1", case_id)
        return dict(row) if row is not None else None

    async def submitted_at(self, case_id: str) -> dt.datetime | None:
        """When the application was accepted: the editions of the catalogue are chosen by it, and it is kept in
        the case's first event."""
        at: dt.datetime | None = await self._db.fetchval(
            "SELECT (data->>'submitted_at')::timestamptz FROM events WHERE stream_id = $1 AND version = 1",
            case_id,
        )
        return at

    async def history(self, case_id: str) -> list[StoredEvent]:
        return await eventstore.load(self._db, case_id)

    async def worklist(
        self,
        *,
        office_id: str | None,
        status: str | None,
        executive_id: str | None,
        service_id: str | None,
        due: str | None,
        now: dt.datetime,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Open cases, most urgent first; `due` is `today` (by the end of the Almaty day) or `overdue`."""
        day_end = dt.datetime.combine(now.astimezone(ALMATY).date(), dt.time(23, 59, 59), tzinfo=ALMATY)
        rows = await self._db.fetch(
            "SELECT * FROM cases WHERE ($1::text IS NULL OR registry_office_id=$1) AND status <> $2"
            " AND ($3::text IS NULL OR status=$3) AND ($4::text IS NULL OR executive_id=$4)"
            " AND ($5::text IS NULL OR service_id=$5)"
            " AND ($6::text IS NULL OR ($6='overdue' AND review_due_at < $7) OR ($6='today' AND review_due_at <= $8"
            "      AND review_due_at >= $7))"
            " ORDER BY review_due_at, opened_at LIMIT $9",
            office_id,
            RESULT_SENT,
            status,
            executive_id,
            service_id,
            due,
            now,
            day_end,
            limit,
        )
        return [view(r, now) for r in rows]

    async def find(
        self,
        *,
        office_id: str | None,
        application_id: str | None,
        receipt_number: str | None,
        now: dt.datetime,
        limit: int,
    ) -> list[dict[str, Any]]:
        rows = await self._db.fetch(
            "SELECT * FROM cases WHERE ($1::text IS NULL OR registry_office_id=$1)"
            " AND ($2::text IS NULL OR application_id=$2) AND ($3::text IS NULL OR receipt_number=$3)"
            " ORDER BY opened_at DESC LIMIT $4",
            office_id,
            application_id,
            receipt_number,
            limit,
        )
        return [view(r, now) for r in rows]

    async def statistics(
        self, *, date_from: dt.date, date_to: dt.date, office_id: str | None, service_id: str | None
    ) -> list[dict[str, Any]]:
        """Per office and service over the Almaty days `date_from`..`date_to`: count, median and p90 time to
        result, share on time."""
        rows = await self._db.fetch(
            "SELECT registry_office_id, service_id, count(*) AS count,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - opened_at)) AS median_s,"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - opened_at)) AS p90_s,"
            " avg(CASE WHEN completed_at <= review_due_at THEN 1.0 ELSE 0.0 END) AS on_time_share"
            " FROM cases WHERE completed_at IS NOT NULL AND completed_at >= $1 AND completed_at < $2"
            " AND ($3::text IS NULL OR registry_office_id = $3) AND ($4::text IS NULL OR service_id = $4)"
            " GROUP BY registry_office_id, service_id ORDER BY registry_office_id, service_id",
            dt.datetime.combine(date_from, dt.time.min, tzinfo=ALMATY),
            dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=ALMATY),
            office_id,
            service_id,
        )
        return [
            {
                "registry_office_id": r["registry_office_id"],
                "service_id": r["service_id"],
                "count": r["count"],
                "median_seconds_to_result": round(r["median_s"]),
                "p90_seconds_to_result": round(r["p90_s"]),
                "share_on_time": round(float(r["on_time_share"]), 4),
            }
            for r in rows
        ]


def view(row: Any, now: dt.datetime) -> dict[str, Any]:
    """A worklist row with the time left to the review term."""
    data = dict(row)
    return {**data, **time_left_to_review(data, now)}
