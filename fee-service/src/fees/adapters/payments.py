"""PostgreSQL store of duty payments, the gateway's notices and their outbox rows, on the caller's connection and
transaction (`app.payments.PaymentStore`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import asyncpg

from btkernel import outbox
from btkernel.envelope import Envelope
from fees.app import payments
from fees.domain.payment import (
    CREATED,
    FAILED,
    PAYMENT_GATEWAY,
    GatewayNotice,
    Outcome,
    Payment,
    status_query_pause,
)
from fees.domain.reconciliation import Match, Statement

_COLUMNS = tuple(f.name for f in dataclasses.fields(Payment))


def _payment(row: asyncpg.Record) -> Payment:
    values: dict[str, Any] = dict(row)
    values["payment_id"] = str(values["payment_id"])
    return Payment(**values)


class PgPayments:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def payment(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        row = await self.conn.fetchrow(
            f"SELECT {', '.join(_COLUMNS)} FROM duty_payments WHERE payment_id = $1"
            + (" FOR UPDATE" if for_update else ""),
            uuid.UUID(payment_id),
        )
        return _payment(row) if row else None

    async def insert_payment(self, p: Payment) -> bool:
        values = [getattr(p, c) for c in _COLUMNS]
        values[0] = uuid.UUID(p.payment_id)
        placeholders = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 1))
        inserted = await self.conn.fetchval(
            f"INSERT INTO duty_payments ({', '.join(_COLUMNS)}) VALUES ({placeholders})"
            " ON CONFLICT DO NOTHING RETURNING 1",
            *values,
        )
        return bool(inserted)

    async def update_payment(self, p: Payment) -> None:
        await self.conn.execute(
            "UPDATE duty_payments SET status = $2, application_id = $3, paid_at = $4, updated_at = $5,"
            " reconciled = $6 WHERE payment_id = $1",
            uuid.UUID(p.payment_id),
            p.status,
            p.application_id,
            p.paid_at,
            p.updated_at,
            p.reconciled,
        )

    async def save_notice(
        self, notice: GatewayNotice, payment_id: str | None, outcome: str, at: dt.datetime
    ) -> bool:
        inserted = await self.conn.fetchval(
            "INSERT INTO payment_notices (notice_id, payment_id, status, amount_tiyn, outcome, received_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1",
            notice.notice_id,
            uuid.UUID(payment_id) if payment_id else uuid.UUID(int=0),
            notice.status,
            notice.amount_tiyn,
            outcome,
            at,
        )
        return bool(inserted)

    async def live_payment_for(self, application_id: str) -> Payment | None:
        row = await self.conn.fetchrow(
            f"SELECT {', '.join(_COLUMNS)} FROM duty_payments WHERE application_id = $1 AND status <> $2",
            application_id,
            FAILED,
        )
        return _payment(row) if row else None

    async def notices_of(self, payment_id: str) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            "SELECT notice_id, status, amount_tiyn, outcome, received_at FROM payment_notices"
            " WHERE payment_id = $1 ORDER BY received_at, notice_id",
            uuid.UUID(payment_id),
        )
        return [dict(r) for r in rows]

    async def enqueue(self, topic: str, envelope: Envelope) -> None:
        await outbox.enqueue(self.conn, topic, envelope)


class PgPendingPayments:
    """`app.lost_callbacks.PendingPayments` on the pool: each claim and each answer in a transaction of its own."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        first_after: dt.timedelta,
        max_pause: dt.timedelta,
        give_up: dt.timedelta,
        batch: int,
    ) -> None:
        self.pool = pool
        self.first_after = first_after
        self.max_pause = max_pause
        self.give_up = give_up
        self.batch = batch

    async def claim_due(self, now: dt.datetime) -> list[str]:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT payment_id, status_checks FROM duty_payments"
                " WHERE method = $1 AND status = $2 AND created_at > $3"
                " AND coalesce(next_status_check_at, created_at + $4::interval) <= $5"
                " ORDER BY coalesce(next_status_check_at, created_at + $4::interval), payment_id LIMIT $6"
                " FOR UPDATE SKIP LOCKED",
                PAYMENT_GATEWAY,
                CREATED,
                now - self.give_up,
                self.first_after,
                now,
                self.batch,
            )
            for row in rows:
                checks = row["status_checks"] + 1
                pause = status_query_pause(checks, first_after=self.first_after, max_pause=self.max_pause)
                await conn.execute(
                    "UPDATE duty_payments SET status_checks = $2, next_status_check_at = $3 WHERE payment_id = $1",
                    row["payment_id"],
                    checks,
                    now + pause,
                )
        return [str(r["payment_id"]) for r in rows]

    async def take(self, notice: GatewayNotice, now: dt.datetime) -> Outcome:
        async with self.pool.acquire() as conn, conn.transaction():
            return await payments.take_notice(notice, PgPayments(conn), now)


class PgReconciliation(PgPayments):
    """`app.reconciliation.ReconciliationStore`: statements, their entries, and the bank payments they confirm."""

    async def statement_summary(self, statement_id: str) -> dict[str, int] | None:
        if not await self.conn.fetchval(
            "SELECT 1 FROM bank_statements WHERE statement_id = $1", statement_id
        ):
            return None
        rows = await self.conn.fetch(
            "SELECT outcome, count(*) AS n FROM statement_entries WHERE statement_id = $1 GROUP BY outcome",
            statement_id,
        )
        counts = {"matched": 0, "mismatched": 0, "unmatched": 0}
        counts.update({r["outcome"]: r["n"] for r in rows})
        return counts

    async def insert_statement(self, s: Statement, at: dt.datetime, by: str | None) -> None:
        await self.conn.execute(
            "INSERT INTO bank_statements (statement_id, account, created_at, imported_at, imported_by)"
            " VALUES ($1, $2, $3, $4, $5)",
            s.statement_id,
            s.account,
            s.created_at,
            at,
            by,
        )

    async def unreconciled_bank_payments(self, references: list[str]) -> list[Payment]:
        rows = await self.conn.fetch(
            f"SELECT {', '.join(_COLUMNS)} FROM duty_payments WHERE method = 'bank' AND reconciled IS NULL"
            " AND reference = ANY($1::text[]) ORDER BY created_at, payment_id FOR UPDATE",
            references,
        )
        return [_payment(r) for r in rows]

    async def insert_entry(self, statement_id: str, m: Match) -> None:
        await self.conn.execute(
            "INSERT INTO statement_entries (statement_id, entry_ref, booked_on, amount_tiyn, bank, reference,"
            " payment_id, site_id, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            " ON CONFLICT DO NOTHING",
            statement_id,
            m.entry.entry_ref,
            m.entry.booked_on,
            m.entry.amount_tiyn,
            m.entry.bank,
            m.entry.reference,
            uuid.UUID(m.payment.payment_id) if m.payment else None,
            m.payment.registry_office_id if m.payment else None,
            m.outcome,
            m.detail,
        )

    async def entries_between(self, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            "SELECT statement_id, entry_ref, booked_on, amount_tiyn, reference, payment_id::text AS payment_id,"
            " site_id AS registry_office_id, outcome, detail FROM statement_entries"
            " WHERE booked_on BETWEEN $1 AND $2 ORDER BY booked_on, statement_id, entry_ref",
            start,
            end,
        )
        return [dict(r) for r in rows]

    async def open_bank_payments(self, start: dt.date, end: dt.date) -> list[Payment]:
        rows = await self.conn.fetch(
            f"SELECT {', '.join(_COLUMNS)} FROM duty_payments WHERE method = 'bank' AND reconciled IS NULL"
            " AND paid_on BETWEEN $1 AND $2 ORDER BY paid_on, payment_id",
            start,
            end,
        )
        return [_payment(r) for r in rows]
