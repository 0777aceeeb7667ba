"""The known records of the register (ADR 0012) on PostgreSQL."""

from __future__ import annotations

import asyncpg

from intake.app.unit_of_work import KnownRecord


class PgKnownRecords:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def add(self, record: KnownRecord) -> None:
        await self.conn.execute(
            "INSERT INTO known_records (record_id, kind, record_number, subject_iin, status, registered_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (record_id) DO NOTHING",
            record.record_id,
            record.kind,
            record.record_number,
            record.subject_iin,
            record.status,
            record.registered_at,
        )

    async def annul(self, record_id: str) -> None:
        await self.conn.execute(
            "UPDATE known_records SET status = 'annulled' WHERE record_id = $1", record_id
        )

    async def get(self, record_id: str) -> KnownRecord | None:
        row = await self.conn.fetchrow(
            "SELECT record_id, kind, record_number, subject_iin, status, registered_at FROM known_records"
            " WHERE record_id = $1",
            record_id,
        )
        return None if row is None else KnownRecord(**dict(row))

    async def active_death_of(self, iin: str) -> str | None:
        number: str | None = await self.conn.fetchval(
            "SELECT record_number FROM known_records WHERE subject_iin = $1 AND kind = 'death'"
            " AND status = 'active' LIMIT 1",
            iin,
        )
        return number
