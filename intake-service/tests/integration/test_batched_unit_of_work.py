"""Intake's batched unit of work (btkernel.unit_of_work, ADR 0042) on real PostgreSQL: writes kept for the commit
are sent in one round trip, read back correctly in the same block, never sent after a rollback, and a new stream
begun twice at the same time is still a concurrent change (409), not a server error."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from btkernel import db, errors
from btkernel.aggregate import Aggregate
from btkernel.context import new_context
from civreg.events.case import CaseRegisteredInChancellery
from intake.adapters.unit_of_work import PgIntakeUnitOfWork

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


class Tally(Aggregate):
    STREAM_TYPE = "case"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.by: list[str] = []

    def when_CaseRegisteredInChancellery(self, e: CaseRegisteredInChancellery) -> None:
        self.by.append(e.registered_by)


def _tally(stream: str, *by: str) -> Tally:
    t = Tally(stream)
    for who in by:
        t.record(CaseRegisteredInChancellery(case_id=stream, registered_at=NOW, registered_by=who))
    return t


@pytest.fixture
async def pool(make_database: Any) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(await make_database("intake"), max_size=4)
    await db.migrate(pool, "intake.migrations")
    try:
        yield pool
    finally:
        await pool.close()


async def _counts(pool: asyncpg.Pool) -> tuple[int, int, int]:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM events) AS e, (SELECT count(*) FROM outbox) AS o,"
            " (SELECT count(*) FROM history_journal) AS j"
        )
    return row["e"], row["o"], row["j"]


async def test_kept_writes_go_at_the_commit_and_a_read_in_the_block_sees_them(pool: asyncpg.Pool) -> None:
    uow = PgIntakeUnitOfWork(pool, batched=True)
    async with uow:
        await uow.events.save(_tally("s1", "a", "b"), new_context(), "/t")
        assert await uow.conn.fetchval("SELECT count(*) FROM events") == 0  # kept, not sent yet
        loaded = await uow.events.load_aggregate(Tally, "s1")  # the store sends them before it reads
        assert loaded is not None
        assert loaded.by == ["a", "b"]
        loaded.record(CaseRegisteredInChancellery(case_id="s1", registered_at=NOW, registered_by="c"))
        await uow.events.save(loaded, new_context(), "/t")
        await uow.commit()
    assert await _counts(pool) == (3, 3, 3)
    async with pool.acquire() as conn:
        versions = await conn.fetch(
            "SELECT e.version FROM outbox o JOIN events e ON e.event_id = o.event_id ORDER BY o.id"
        )
    assert [r["version"] for r in versions] == [1, 2, 3]


async def test_nothing_kept_is_sent_after_a_rollback(pool: asyncpg.Pool) -> None:
    async def refused_halfway() -> None:
        async with PgIntakeUnitOfWork(pool, batched=True) as uow:
            await uow.events.save(_tally("s2", "a"), new_context(), "/t")
            raise RuntimeError("refused halfway")

    with pytest.raises(RuntimeError, match="refused"):
        await refused_halfway()
    assert await _counts(pool) == (0, 0, 0)


async def test_a_new_stream_begun_twice_at_once_is_a_concurrent_change(pool: asyncpg.Pool) -> None:
    first = PgIntakeUnitOfWork(pool, batched=True)
    second = PgIntakeUnitOfWork(pool, batched=True)
    async with first, second:
        await first.events.save(_tally("s3", "a"), new_context(), "/t")
        await second.events.save(_tally("s3", "b"), new_context(), "/t")
        await first.commit()
        with pytest.raises(errors.ConcurrencyConflict):
            await second.commit()
    assert await _counts(pool) == (1, 1, 1)
