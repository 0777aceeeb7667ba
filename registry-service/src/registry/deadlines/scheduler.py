"""The durable scheduler: emits DeadlineApproaching and DeadlineMissed exactly once each.

Exactly once, across restarts and with several instances: a due deadline row is locked (`FOR UPDATE SKIP
LOCKED`), marked emitted and its event written to the outbox in one transaction. Another instance skips the
locked row; a crash rolls back mark and event together; a restart finds the row still unmarked. The clock is a
parameter, so tests drive time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import asyncpg

from btkernel import logging as btlog
from btkernel import outbox
from btkernel.envelope import Envelope
from btkernel.events.deadline import DeadlineApproaching, DeadlineMissed
from btkernel.periodic import Periodic

log = btlog.get(__name__)
SOURCE = "/registry/scheduler"
Clock = Callable[[], dt.datetime]


def _common(row: asyncpg.Record) -> dict[str, object]:
    return {
        "deadline_id": row["deadline_id"],
        "case_id": row["case_id"],
        "application_id": row["application_id"],
        "registry_office_id": row["registry_office_id"],
        "service_id": row["service_id"],
        "kind": row["kind"],
        "description": row["description"],
        "due_at": row["due_at"],
        "responsible_role": row["responsible_role"],
        "responsible_id": row["responsible_id"],
        "source": row["term"]["source"],
    }


async def _emit(
    conn: asyncpg.Connection,
    row: asyncpg.Record,
    event: DeadlineApproaching | DeadlineMissed,
    correlation_id: str | None,
) -> None:
    env = Envelope.new(
        type=event.TYPE,
        source=SOURCE,
        subject=row["case_id"],
        data=event.to_data(),
        correlation_id=correlation_id,
        causation_id=None,
        actor="system:scheduler",
    )
    await outbox.enqueue(conn, event.TOPIC, env)


async def tick(pool: asyncpg.Pool, now: dt.datetime, *, batch: int = 200) -> tuple[int, int]:
    """Emit what is due at `now`; returns (approaching, missed) counts emitted by this call."""
    approaching = missed = 0
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT d.*, c.correlation_id FROM deadlines d LEFT JOIN LATERAL (SELECT correlation_id FROM events"
            " WHERE stream_id = d.case_id ORDER BY version LIMIT 1) c ON true"
            " WHERE d.status = 'running' AND d.approaching_emitted_at IS NULL AND d.approaching_at <= $1"
            " ORDER BY d.approaching_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
            now,
            batch,
        )
        for row in rows:
            await _emit(
                conn,
                row,
                DeadlineApproaching(**_common(row), approaching_at=row["approaching_at"]),
                row["correlation_id"],
            )
            await conn.execute(
                "UPDATE deadlines SET approaching_emitted_at = $2 WHERE deadline_id = $1",
                row["deadline_id"],
                now,
            )
            approaching += 1
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT d.*, c.correlation_id FROM deadlines d LEFT JOIN LATERAL (SELECT correlation_id FROM events"
            " WHERE stream_id = d.case_id ORDER BY version LIMIT 1) c ON true"
            " WHERE d.status = 'running' AND d.missed_emitted_at IS NULL AND d.due_at <= $1"
            # Approaching first: a term that ran out while no scheduler ran still gets its warning, once.
            " AND d.approaching_emitted_at IS NOT NULL"
            " ORDER BY d.due_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
            now,
            batch,
        )
        for row in rows:
            await _emit(conn, row, DeadlineMissed(**_common(row), missed_at=now), row["correlation_id"])
            await conn.execute(
                "UPDATE deadlines SET missed_emitted_at = $2 WHERE deadline_id = $1", row["deadline_id"], now
            )
            missed += 1
    if approaching or missed:
        log.info("deadlines_emitted", approaching=approaching, missed=missed)
    return approaching, missed


def scheduler(pool: asyncpg.Pool, clock: Clock, interval_s: float = 5.0) -> Periodic:
    """Calls `tick` every `interval_s` with the clock's time, draining full batches before resting."""

    async def drain() -> None:
        while sum(await tick(pool, clock())) >= 200:
            pass

    return Periodic("deadline-scheduler", drain, interval_s)
