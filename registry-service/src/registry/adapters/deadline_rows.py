"""The `deadlines` table: running legal terms of cases, projected from case events, moved by decrees, and the
scheduler's queue of warnings to send (exactly once each: a row is locked, marked and its event queued in one
transaction). A mark is the fold of the event it announced, kept in the deadline's own stream (stream type
`deadline`, ADR 0027), so a rebuild sets it again from the history without announcing anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from btkernel import eventstore
from btkernel.envelope import Envelope
from civreg.events.deadline import DeadlineApproaching, DeadlineMissed
from registry.domain.deadlines import APPROACHING_SHARE, RESOLUTION_UNIT, approaching_at, deadline_id

# The deadline's stream in the event store: its warnings, as announced (ADR 0027).
STREAM_TYPE = "deadline"
# Which mark each kept event is the fold of.
MARKS = {DeadlineApproaching.TYPE: "approaching_emitted_at", DeadlineMissed.TYPE: "missed_emitted_at"}


class DeadlineRows:
    def __init__(self, db: asyncpg.Connection) -> None:
        self._db = db

    # -- the projector --

    async def open(
        self,
        case: Mapping[str, Any],
        *,
        kind: str,
        description: str,
        term: Mapping[str, Any],
        site_id: str,
        start: dt.datetime,
        due_at: dt.datetime,
        role: str,
        responsible_id: str | None,
        now: dt.datetime,
    ) -> None:
        """A new running deadline of `case`; one of each kind per case, so a redelivered event opens nothing."""
        await self._db.execute(
            "INSERT INTO deadlines (deadline_id, case_id, application_id, registry_office_id, service_id, kind,"
            " description, term, site_id, started_at, due_at, approaching_at, responsible_role, responsible_id,"
            " updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
            " ON CONFLICT (deadline_id) DO NOTHING",
            deadline_id(case["case_id"], kind),
            case["case_id"],
            case["application_id"],
            case["registry_office_id"],
            case["service_id"],
            kind,
            description,
            dict(term),
            site_id,
            start,
            due_at,
            approaching_at(start, due_at),
            role,
            responsible_id,
            now,
        )

    async def close(
        self, case_id: str, kinds: Sequence[str], at: dt.datetime, status: str | None = None
    ) -> None:
        """Close running deadlines: met or met late by the due moment, or with `status` (e.g. not_required)."""
        await self._db.execute(
            "UPDATE deadlines SET status = COALESCE($4, CASE WHEN $3 <= due_at THEN 'met' ELSE 'met_late' END),"
            " completed_at = $3, updated_at = $3"
            " WHERE case_id = $1 AND kind = ANY($2::text[]) AND status = 'running'",
            case_id,
            list(kinds),
            at,
            status,
        )

    async def close_notice(self, application_id: str, at: dt.datetime) -> None:
        """The applicant was told of the extension at `at`."""
        await self._db.execute(
            "UPDATE deadlines SET status = CASE WHEN $2 <= due_at THEN 'met' ELSE 'met_late' END, completed_at = $2,"
            " updated_at = $2 WHERE application_id = $1 AND kind = 'extension_notice' AND status = 'running'",
            application_id,
            at,
        )

    async def running_review_due(self, case_id: str) -> dt.datetime | None:
        """The review term as it stands now (extended, or moved by a decree)."""
        due: dt.datetime | None = await self._db.fetchval(
            "SELECT due_at FROM deadlines WHERE case_id = $1 AND kind IN ('review', 'review:extended')"
            " AND status = 'running' ORDER BY kind DESC LIMIT 1",
            case_id,
        )
        return due

    async def review(self, case_id: str) -> dict[str, Any] | None:
        """The case's original review deadline, whatever its status."""
        row = await self._db.fetchrow(
            "SELECT * FROM deadlines WHERE case_id = $1 AND kind = 'review'", case_id
        )
        return dict(row) if row is not None else None

    async def reassign_executive_steps(self, case_id: str, executive_id: str) -> None:
        await self._db.execute(
            "UPDATE deadlines SET responsible_id = $2 WHERE case_id = $1 AND kind LIKE 'step:%'"
            " AND responsible_role = 'registry_executive' AND status = 'running'",
            case_id,
            executive_id,
        )

    async def supersede(self, deadline: str, at: dt.datetime) -> None:
        await self._db.execute(
            "UPDATE deadlines SET status = 'superseded', completed_at = $2, updated_at = $2"
            " WHERE deadline_id = $1 AND status = 'running'",
            deadline,
            at,
        )

    async def set_extension_days(self, deadline: str, days: int) -> None:
        await self._db.execute(
            "UPDATE deadlines SET extension_days = $2 WHERE deadline_id = $1", deadline, days
        )

    async def move_running(self, case_id: str, kind: str, due_at: dt.datetime, now: dt.datetime) -> None:
        """A running deadline of `kind` follows a new due moment (its warning share with it); `now` is the moment
        of the event that moved it."""
        await self._db.execute(
            "UPDATE deadlines SET due_at = $2, approaching_at = started_at + ($2 - started_at) * $3,"
            " updated_at = $4 WHERE case_id = $1 AND kind = $5 AND status = 'running'",
            case_id,
            due_at,
            APPROACHING_SHARE,
            now,
            kind,
        )

    # -- a decree moves running terms --

    async def running_in_units(self, units: Sequence[str]) -> list[dict[str, Any]]:
        """Running deadlines counted in `units`, locked until the transaction ends."""
        rows = await self._db.fetch(
            "SELECT deadline_id, case_id, kind, term, site_id, started_at, extension_days, due_at FROM deadlines"
            " WHERE status = 'running' AND term->>'unit' = ANY($1::text[]) FOR UPDATE",
            list(units),
        )
        return [dict(r) for r in rows]

    async def move(self, deadline: str, due_at: dt.datetime, warn_at: dt.datetime) -> None:
        """`updated_at` stays the moment of the row's last event: a decree is in none, and a rebuild counts the
        term on the calendar as it stands instead (ADR 0027)."""
        await self._db.execute(
            "UPDATE deadlines SET due_at = $2, approaching_at = $3 WHERE deadline_id = $1",
            deadline,
            due_at,
            warn_at,
        )

    async def move_resolution_steps(self, case_id: str, due_at: dt.datetime) -> None:
        """The executive's review step runs to the review term: it moves with it."""
        await self._db.execute(
            "UPDATE deadlines SET due_at = $2, approaching_at = started_at + ($2 - started_at) * $3"
            " WHERE case_id = $1 AND term->>'unit' = $4 AND status = 'running'",
            case_id,
            due_at,
            APPROACHING_SHARE,
            RESOLUTION_UNIT,
        )

    # -- the scheduler's queue --

    async def due_warnings(self, now: dt.datetime, batch: int) -> list[dict[str, Any]]:
        """Running deadlines whose warning is due and unsent, locked; others' locked rows are skipped."""
        rows = await self._db.fetch(
            "SELECT d.*, c.correlation_id FROM deadlines d LEFT JOIN LATERAL (SELECT correlation_id FROM events"
            " WHERE stream_id = d.case_id ORDER BY version LIMIT 1) c ON true"
            " WHERE d.status = 'running' AND d.approaching_emitted_at IS NULL AND d.approaching_at <= $1"
            " ORDER BY d.approaching_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
            now,
            batch,
        )
        return [dict(r) for r in rows]

    async def due_misses(self, now: dt.datetime, batch: int) -> list[dict[str, Any]]:
        """Running deadlines past their due moment, warned of and not yet reported missed, locked."""
        rows = await self._db.fetch(
            "SELECT d.*, c.correlation_id FROM deadlines d LEFT JOIN LATERAL (SELECT correlation_id FROM events"
            " WHERE stream_id = d.case_id ORDER BY version LIMIT 1) c ON true"
            " WHERE d.status = 'running' AND d.missed_emitted_at IS NULL AND d.due_at <= $1"
            # Approaching first: a term that ran out while no scheduler ran still gets its warning, once.
            " AND d.approaching_emitted_at IS NOT NULL"
            " ORDER BY d.due_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
            now,
            batch,
        )
        return [dict(r) for r in rows]

    async def mark(self, deadline: str, announced: Envelope) -> None:
        """The warning `announced` was queued: kept in the deadline's stream, and its mark set from it."""
        await self._keep(deadline, announced)
        await self.fold_mark(deadline, announced.type, announced.time)

    async def fold_mark(self, deadline: str, event_type: str, at: dt.datetime) -> bool:
        """The mark a kept warning stands for (live, and in a rebuild from the stream); False when the deadline has
        no row (yet)."""
        column = MARKS[event_type]
        updated = await self._db.fetchval(
            f"UPDATE deadlines SET {column} = $2 WHERE deadline_id = $1 RETURNING 1", deadline, at
        )
        return bool(updated)

    async def _keep(self, deadline: str, announced: Envelope) -> None:
        """The envelope as queued (its id, time, data), appended to the deadline's stream, chained (ADR 0030) and
        journaled by the table's trigger; not queued again. `eventstore.append` mints envelopes whose subject is
        the stream, and a warning's subject is its case (docs/conventions.md), so it is kept as it is
        (`eventstore.keep`). The row is locked by the caller: no concurrent append."""
        await eventstore.keep(
            self._db, stream_id=deadline, stream_type=STREAM_TYPE, events=[eventstore.Kept.of(announced)]
        )

    # -- the API's view --

    async def find(
        self,
        *,
        office_id: str | None,
        application_id: str | None,
        case_id: str | None,
        responsible_id: str | None,
        service_id: str | None,
        include_done: bool,
        due: str | None,
        now: dt.datetime,
        day_end: dt.datetime,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Running deadlines (or all with `include_done`), most urgent first; `due` is `today` or `overdue`."""
        rows = await self._db.fetch(
            "SELECT * FROM deadlines WHERE ($1::text IS NULL OR registry_office_id = $1)"
            " AND ($2::text IS NULL OR application_id = $2) AND ($3::text IS NULL OR case_id = $3)"
            " AND ($4::text IS NULL OR responsible_id = $4) AND ($5::text IS NULL OR service_id = $5)"
            " AND ($6 OR status = 'running')"
            " AND ($7::text IS NULL OR ($7 = 'overdue' AND status = 'running' AND due_at < $8)"
            "      OR ($7 = 'today' AND status = 'running' AND due_at >= $8 AND due_at <= $9))"
            " ORDER BY due_at LIMIT $10",
            office_id,
            application_id,
            case_id,
            responsible_id,
            service_id,
            include_done,
            due,
            now,
            day_end,
            limit,
        )
        return [dict(r) for r in rows]
