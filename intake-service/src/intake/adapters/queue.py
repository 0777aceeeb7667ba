"""The queue's tickets and the home visits on PostgreSQL (`queue_tickets`, `home_visits`, migration 037)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import asyncpg

from intake.domain.home_visit import HomeVisit
from intake.domain.queue import BOOKED, CALLED, CANCELLED, Ticket

_TICKET = [f.name for f in dataclasses.fields(Ticket)]
_VISIT = [f.name for f in dataclasses.fields(HomeVisit)]


def _ticket(r: asyncpg.Record) -> Ticket:
    return Ticket(**{c: r[c] for c in _TICKET})


def _visit(r: asyncpg.Record) -> HomeVisit:
    return HomeVisit(**{c: r[c] for c in _VISIT})


def _insert(table: str, columns: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(f'${i}' for i in range(1, len(columns) + 1))})"


def _update(table: str, key: str, columns: list[str]) -> str:
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=1) if c != key)
    return f"UPDATE {table} SET {sets} WHERE {key} = ${columns.index(key) + 1}"


class PgQueue:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def lock_site_day(self, site_id: str, day: dt.date) -> None:
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('queue:' || $1 || ':' || $2, 0))",
            site_id,
            day.isoformat(),
        )

    async def next_seq(self, site_id: str, day: dt.date) -> int:
        # Under the site-day lock: the count is the last number issued.
        count: int = await self.conn.fetchval(
            "SELECT count(*) FROM queue_tickets WHERE site_id = $1 AND day = $2", site_id, day
        )
        return count + 1

    async def booked_in_slot(self, site_id: str, slot_start: dt.datetime) -> int:
        count: int = await self.conn.fetchval(
            "SELECT count(*) FROM queue_tickets WHERE site_id = $1 AND kind = $2 AND due_at = $3 AND status <> $4",
            site_id,
            BOOKED,
            slot_start,
            CANCELLED,
        )
        return count

    async def booked_by(self, site_id: str, day: dt.date, applicant_iin: str) -> bool:
        found: bool = await self.conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM queue_tickets WHERE site_id = $1 AND day = $2 AND applicant_iin = $3"
            " AND status <> $4)",
            site_id,
            day,
            applicant_iin,
            CANCELLED,
        )
        return found

    async def add(self, ticket: Ticket, *, applicant_iin: str | None, service_id: str | None) -> None:
        columns = [*_TICKET, "applicant_iin", "service_id"]
        await self.conn.execute(
            _insert("queue_tickets", columns), *dataclasses.astuple(ticket), applicant_iin, service_id
        )

    async def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
        lock = " FOR UPDATE" if for_update else ""
        r = await self.conn.fetchrow(
            f"SELECT {', '.join(_TICKET)} FROM queue_tickets WHERE ticket_id = $1{lock}", ticket_id
        )
        return None if r is None else _ticket(r)

    async def of_day(self, site_id: str, day: dt.date) -> list[Ticket]:
        rows = await self.conn.fetch(
            f"SELECT {', '.join(_TICKET)} FROM queue_tickets WHERE site_id = $1 AND day = $2", site_id, day
        )
        return [_ticket(r) for r in rows]

    async def at_counter(self, site_id: str, counter: str) -> Ticket | None:
        r = await self.conn.fetchrow(
            f"SELECT {', '.join(_TICKET)} FROM queue_tickets WHERE site_id = $1 AND counter = $2 AND status = $3",
            site_id,
            counter,
            CALLED,
        )
        return None if r is None else _ticket(r)

    async def save(self, ticket: Ticket) -> None:
        await self.conn.execute(_update("queue_tickets", "ticket_id", _TICKET), *dataclasses.astuple(ticket))

    async def between(self, first: dt.date, last: dt.date, site_id: str | None) -> list[Ticket]:
        rows = await self.conn.fetch(
            f"SELECT {', '.join(_TICKET)} FROM queue_tickets WHERE day BETWEEN $1 AND $2"
            " AND ($3::text IS NULL OR site_id = $3) ORDER BY site_id, day",
            first,
            last,
            site_id,
        )
        return [_ticket(r) for r in rows]


class PgHomeVisits:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def add(self, visit: HomeVisit) -> None:
        await self.conn.execute(_insert("home_visits", _VISIT), *dataclasses.astuple(visit))

    async def get(self, visit_id: str, *, for_update: bool = False) -> HomeVisit | None:
        lock = " FOR UPDATE" if for_update else ""
        r = await self.conn.fetchrow(
            f"SELECT {', '.join(_VISIT)} FROM home_visits WHERE visit_id = $1{lock}", visit_id
        )
        return None if r is None else _visit(r)

    async def save(self, visit: HomeVisit) -> None:
        await self.conn.execute(_update("home_visits", "visit_id", _VISIT), *dataclasses.astuple(visit))

    async def find(self, site_id: str | None, status: str | None, limit: int) -> list[HomeVisit]:
        rows = await self.conn.fetch(
            f"SELECT {', '.join(_VISIT)} FROM home_visits WHERE ($1::text IS NULL OR site_id = $1)"
            " AND ($2::text IS NULL OR status = $2) ORDER BY requested_at LIMIT $3",
            site_id,
            status,
            limit,
        )
        return [_visit(r) for r in rows]
