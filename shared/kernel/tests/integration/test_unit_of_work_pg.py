"""The unit of work on real PostgreSQL: one transaction, committed only when asked, events and outbox with it."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from btkernel import errors
from btkernel.aggregate import Aggregate
from btkernel.context import new_context
from btkernel.eventstore import PgEventStore
from btkernel.unit_of_work import PgUnitOfWork
from civreg.events.case import CaseRegisteredInChancellery

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def _ev(stream: str, by: str) -> CaseRegisteredInChancellery:
    return CaseRegisteredInChancellery(case_id=stream, registered_at=NOW, registered_by=by)


class Tally(Aggregate):
    STREAM_TYPE = "case"

    def __init__(self, stream_id: str) -> None:
        super().__init__(stream_id)
        self.by: list[str] = []

    def when_CaseRegisteredInChancellery(self, e: CaseRegisteredInChancellery) -> None:
        self.by.append(e.registered_by)


async def _counts(pool: asyncpg.Pool) -> tuple[int, int]:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM events"), await conn.fetchval(
            "SELECT count(*) FROM outbox"
        )


async def test_commit_keeps_events_and_outbox_rows_and_reports_them(
    kernel_db: tuple[str, asyncpg.Pool],
) -> None:
    _, pool = kernel_db
    uow = PgUnitOfWork(pool)
    async with uow:
        t = Tally("u1")
        t.record(_ev("u1", "a"))
        envelopes = await uow.events.save(t, new_context(), "/t")
        assert await uow.conn.fetchval("SELECT count(*) FROM events") == 1  # the repositories' connection
        await uow.commit()
    assert [e.id for e in uow.appended] == [e.id for e in envelopes]
    assert await _counts(pool) == (1, 1)
    async with pool.acquire() as conn:
        loaded = await PgEventStore(conn).load_aggregate(Tally, "u1")
    assert loaded is not None
    assert loaded.by == ["a"]
    assert loaded.version == 1


async def test_without_commit_or_on_an_error_nothing_is_kept(kernel_db: tuple[str, asyncpg.Pool]) -> None:
    _, pool = kernel_db
    async with PgUnitOfWork(pool) as uow:
        await uow.events.append(
            stream_id="u2",
            stream_type="case",
            expected_version=0,
            events=[_ev("u2", "a")],
            ctx=new_context(),
            source="/t",
        )
    # PT012: a unit of work that writes and then raises is what is under test.
    with pytest.raises(errors.RuleViolation):  # noqa: PT012
        async with PgUnitOfWork(pool) as uow:
            await uow.events.append(
                stream_id="u3",
                stream_type="case",
                expected_version=0,
                events=[_ev("u3", "a")],
                ctx=new_context(),
                source="/t",
            )
            raise errors.RuleViolation("refused halfway")
    assert uow.appended == ()
    assert await _counts(pool) == (0, 0)
    assert pool.get_size() - pool.get_idle_size() == 0, "every connection went back to the pool"


async def test_a_stale_save_is_a_concurrency_conflict(kernel_db: tuple[str, asyncpg.Pool]) -> None:
    _, pool = kernel_db
    async with PgUnitOfWork(pool) as uow:
        t = Tally("u4")
        t.record(_ev("u4", "a"))
        await uow.events.save(t, new_context(), "/t")
        await uow.commit()
    async with PgUnitOfWork(pool) as first, PgUnitOfWork(pool) as second:
        a = await first.events.load_aggregate(Tally, "u4")
        b = await second.events.load_aggregate(Tally, "u4")
        assert a is not None
        assert b is not None
        a.record(_ev("u4", "b"))
        b.record(_ev("u4", "c"))
        await first.events.save(a, new_context(), "/t")
        await first.commit()
        with pytest.raises(errors.ConcurrencyConflict):
            await second.events.save(b, new_context(), "/t")
    async with pool.acquire() as conn:
        winner = await PgEventStore(conn).load_aggregate(Tally, "u4")
    assert winner is not None
    assert winner.by == ["a", "b"]


async def test_on_a_connection_in_a_transaction_it_is_a_savepoint(
    kernel_db: tuple[str, asyncpg.Pool],
) -> None:
    # A consumer's handler runs in the consumer's transaction: the use case's rollback undoes only its own part.
    _, pool = kernel_db
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO outbox (topic, event_id, envelope) VALUES ('t', gen_random_uuid(), '{}')"
        )
        async with PgUnitOfWork.on(conn) as uow:
            t = Tally("u5")
            t.record(_ev("u5", "a"))
            await uow.events.save(t, new_context(), "/t")
        async with PgUnitOfWork.on(conn) as uow:
            t = Tally("u6")
            t.record(_ev("u6", "a"))
            await uow.events.save(t, new_context(), "/t")
            await uow.commit()
        assert conn.is_in_transaction()
    assert await _counts(pool) == (1, 2)
