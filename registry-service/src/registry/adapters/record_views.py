"""The `records` read model (the national register's search) and the record-number counters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from btkernel import eventstore
from btkernel.eventstore import StoredEvent
from registry.domain.record import fold_name


class RecordViews:
    """Reads and writes of the `records` and `record_counters` tables in a unit of work's transaction."""

    def __init__(self, db: asyncpg.Connection) -> None:
        self._db = db

    async def next_seq(self, office_id: str, kind: str, year: int) -> int:
        # The upsert's row lock serialises concurrent registrations of one office, kind and year: no gaps reused,
        # no number given twice, and a rolled-back registration gives its number back with the transaction.
        seq: int = await self._db.fetchval(
            "INSERT INTO record_counters (registry_office_id, kind, year, last) VALUES ($1,$2,$3,1)"
            " ON CONFLICT (registry_office_id, kind, year) DO UPDATE SET last = record_counters.last + 1"
            " RETURNING last",
            office_id,
            kind,
            year,
        )
        return seq

    async def insert(
        self,
        *,
        record_id: str,
        kind: str,
        office_id: str,
        year: int,
        seq: int,
        number: str,
        case_id: str,
        subject_iin: str | None,
        subject_name: str,
        registered_at: dt.datetime,
        content: dict[str, Any],
        search_names: str = "",
    ) -> None:
        await self._db.execute(
            "INSERT INTO records (record_id, kind, registry_office_id, year, seq, record_number, case_id,"
            " subject_iin, subject_name, registered_at, content, search_names, updated_at)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$10)",
            record_id,
            kind,
            office_id,
            year,
            seq,
            number,
            case_id,
            subject_iin,
            subject_name,
            registered_at,
            content,
            search_names or fold_name(subject_name),
        )

    async def update(self, record_id: str, *, status: str, facts: dict[str, Any], at: dt.datetime) -> None:
        """The row shows the record's current state; the history stays in its events."""
        await self._db.execute(
            "UPDATE records SET status=$2, content = content || jsonb_build_object('current', $3::jsonb),"
            " updated_at=$4 WHERE record_id=$1",
            record_id,
            status,
            facts,
            at,
        )

    async def registered_death(self, iin: str) -> str | None:
        """The number of the active death record of the person with `iin`, if any. Takes a transaction lock on
        the IIN first, so two registrations of the same death at once are decided one after the other."""
        await self._db.execute("SELECT pg_advisory_xact_lock(hashtext('death:' || $1))", iin)
        number: str | None = await self._db.fetchval(
            "SELECT record_number FROM records WHERE kind = 'death' AND subject_iin = $1 AND status = 'active'"
            " LIMIT 1",
            iin,
        )
        return number

    async def search(
        self,
        *,
        number: str | None,
        iin: str | None,
        name: str | None,
        kind: str | None,
        registered_from: dt.date | None,
        registered_to: dt.date | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """By number, by the subject's, a parent's or a party's IIN, by part of a name, kind and Almaty date."""
        rows = await self._db.fetch(
            "SELECT * FROM records WHERE ($1::text IS NULL OR record_number=$1) AND ($2::text IS NULL OR"
            " subject_iin=$2 OR content->'parent_iins' ? $2 OR content->'party_iins' ? $2)"
            " AND ($3::text IS NULL OR search_names LIKE $3) AND ($4::text IS NULL OR kind=$4)"
            " AND ($5::date IS NULL OR (registered_at AT TIME ZONE 'Asia/Almaty')::date >= $5)"
            " AND ($6::date IS NULL OR (registered_at AT TIME ZONE 'Asia/Almaty')::date <= $6)"
            " ORDER BY registered_at DESC LIMIT $7",
            number,
            iin,
            _like(name) if name else None,
            kind,
            registered_from,
            registered_to,
            limit,
        )
        return [dict(r) for r in rows]

    async def get(self, record_id: str) -> dict[str, Any] | None:
        row = await self._db.fetchrow("SELECT * FROM records WHERE record_id=$1", record_id)
        return dict(row) if row is not None else None

    async def history(self, record_id: str) -> list[StoredEvent]:
        """The record's events, oldest first; none for an id that is not a record's."""
        # Records only: a case's stream has the same shape of id and is its office's business alone.
        is_record = await self._db.fetchval(
            "SELECT true FROM events WHERE stream_id = $1 AND stream_type = 'record' LIMIT 1", record_id
        )
        return await eventstore.load(self._db, record_id) if is_record else []


def _like(text: str) -> str:
    escaped = fold_name(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
