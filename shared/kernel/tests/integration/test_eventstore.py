"""Event store on real PostgreSQL: optimistic concurrency and the outbox written in the same transaction."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from btkernel import eventstore
from btkernel.context import new_context
from civreg.events.case import CaseRegisteredInChancellery

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def _ev(by: str) -> CaseRegisteredInChancellery:
    return CaseRegisteredInChancellery(case_id="k1", registered_at=NOW, registered_by=by)


async def test_two_writers_at_the_same_version_one_wins(kernel_db: tuple[str, asyncpg.Pool]) -> None:
    _, pool = kernel_db
    ctx = new_context()
    async with pool.acquire() as a, pool.acquire() as b:
        tx_a, tx_b = a.transaction(), b.transaction()
        await tx_a.start()
        await tx_b.start()
        await eventstore.append(
            a, stream_id="k1", stream_type="case", expected_version=0, events=[_ev("a")], ctx=ctx, source="/t"
        )
        await tx_a.commit()
        with pytest.raises(eventstore.ConcurrencyConflict):
            await eventstore.append(
                b,
                stream_id="k1",
                stream_type="case",
                expected_version=0,
                events=[_ev("b")],
                ctx=ctx,
                source="/t",
            )
        await tx_b.rollback()
    async with pool.acquire() as conn:
        stored = await eventstore.load(conn, "k1")
        assert [s.data["registered_by"] for s in stored] == ["a"]
        # The loser left nothing in the outbox either: state change and events commit together or not at all.
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1


async def test_append_outside_a_transaction_is_refused(kernel_db: tuple[str, asyncpg.Pool]) -> None:
    _, pool = kernel_db
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            await eventstore.append(
                conn,
                stream_id="k2",
                stream_type="case",
                expected_version=0,
                events=[_ev("a")],
                ctx=new_context(),
                source="/t",
            )


async def test_correlation_and_causation_are_stored_with_each_event(
    kernel_db: tuple[str, asyncpg.Pool],
) -> None:
    _, pool = kernel_db
    ctx = new_context().caused_by("cause-1")
    async with pool.acquire() as conn, conn.transaction():
        envs = await eventstore.append(
            conn,
            stream_id="k3",
            stream_type="case",
            expected_version=0,
            events=[_ev("a"), _ev("b")],
            ctx=ctx,
            source="/t",
        )
    assert [e.subject for e in envs] == ["k3", "k3"]
    async with pool.acquire() as conn:
        stored = await eventstore.load(conn, "k3")
    assert [(s.version, s.correlation_id, s.causation_id) for s in stored] == [
        (1, ctx.correlation_id, "cause-1"),
        (2, ctx.correlation_id, "cause-1"),
    ]
