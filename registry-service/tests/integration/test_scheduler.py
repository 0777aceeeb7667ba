"""The durable scheduler with a controllable clock on real PostgreSQL: nothing missed, nothing emitted twice,
two instances at once, a crash in the middle of a tick."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from btkernel import db
from registry.adapters.unit_of_work import PgRegistryUnitOfWork
from registry.app import deadline_scheduler as scheduler

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.UTC)  # Monday 09:00 in Almaty


@pytest.fixture
async def pool(make_database: Any) -> AsyncIterator[asyncpg.Pool]:
    dsn = await make_database("sched")
    pool = await db.create_pool(dsn, max_size=8)
    await db.migrate(pool, "registry.migrations")
    yield pool
    await pool.close()


def _uows(pool: asyncpg.Pool) -> scheduler.UnitsOfWork:
    return lambda: PgRegistryUnitOfWork(pool)


async def _deadlines(pool: asyncpg.Pool, n: int, *, due_in: dt.timedelta) -> None:
    async with pool.acquire() as conn:
        for i in range(n):
            await conn.execute(
                "INSERT INTO deadlines (deadline_id, case_id, application_id, registry_office_id, service_id, kind,"
                " description, term, site_id, started_at, due_at, approaching_at, responsible_role, updated_at)"
                " VALUES ($1,$2,$3,'almaty-almaly','birth_registration','review','review of the package',"
                " $4,'almaty-almaly',$5,$6,$7,'registry_head',$5)",
                f"case-{i}:review",
                f"case-{i}",
                f"app-{i}",
                {"value": 1, "unit": "working_days", "source": "S002/App.1 p.5(3)"},
                T0,
                T0 + due_in,
                T0 + due_in * 0.8,
            )


async def _emitted(pool: asyncpg.Pool) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT envelope->>'type' AS t, envelope->'data'->>'deadline_id' AS d FROM outbox"
    )
    return sorted((r["t"].split(".")[-2], r["d"]) for r in rows)


async def test_nothing_before_time_each_event_once_after(pool: asyncpg.Pool) -> None:
    await _deadlines(pool, 5, due_in=dt.timedelta(hours=8))
    assert await scheduler.tick(_uows(pool), T0 + dt.timedelta(hours=1)) == (0, 0)
    assert await scheduler.tick(_uows(pool), T0 + dt.timedelta(hours=7)) == (5, 0)  # 80 % of the term has run
    assert await scheduler.tick(_uows(pool), T0 + dt.timedelta(hours=7, minutes=30)) == (0, 0)
    assert await scheduler.tick(_uows(pool), T0 + dt.timedelta(hours=8)) == (0, 5)
    assert await scheduler.tick(_uows(pool), T0 + dt.timedelta(days=3)) == (0, 0)
    emitted = await _emitted(pool)
    assert emitted == sorted(
        [("approaching", f"case-{i}:review") for i in range(5)]
        + [("missed", f"case-{i}:review") for i in range(5)]
    )


async def test_a_term_that_ran_out_while_no_scheduler_ran_gets_both_once(pool: asyncpg.Pool) -> None:
    await _deadlines(pool, 3, due_in=dt.timedelta(hours=1))
    late = T0 + dt.timedelta(days=2)
    assert await scheduler.tick(_uows(pool), late) == (3, 3)
    assert await scheduler.tick(_uows(pool), late) == (0, 0)


async def test_met_deadlines_are_never_reported(pool: asyncpg.Pool) -> None:
    await _deadlines(pool, 2, due_in=dt.timedelta(hours=1))
    await pool.execute(
        "UPDATE deadlines SET status='met', completed_at=$1 WHERE deadline_id='case-0:review'", T0
    )
    assert await scheduler.tick(_uows(pool), T0 + dt.timedelta(hours=2)) == (1, 1)
    assert {d for _, d in await _emitted(pool)} == {"case-1:review"}


async def test_two_instances_at_once_emit_each_event_once(pool: asyncpg.Pool) -> None:
    await _deadlines(pool, 400, due_in=dt.timedelta(hours=1))
    now = T0 + dt.timedelta(hours=2)
    totals = [(0, 0)]
    while any(totals[-1]) or totals == [(0, 0)]:
        a, b = await asyncio.gather(
            scheduler.tick(_uows(pool), now, batch=50), scheduler.tick(_uows(pool), now, batch=50)
        )
        totals.append((a[0] + b[0], a[1] + b[1]))
        if totals[-1] == (0, 0):
            break
    emitted = await _emitted(pool)
    assert len(emitted) == 800
    assert len(set(emitted)) == 800


async def test_a_crash_in_the_middle_of_a_tick_emits_nothing_and_the_next_tick_catches_up(
    pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _deadlines(pool, 10, due_in=dt.timedelta(hours=1))
    real_emit = scheduler._emit
    calls = 0

    async def crashing_emit(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 6:
            raise RuntimeError("power cut")
        await real_emit(*args)

    monkeypatch.setattr(scheduler, "_emit", crashing_emit)
    with pytest.raises(RuntimeError):
        await scheduler.tick(_uows(pool), T0 + dt.timedelta(hours=2))
    assert (
        await _emitted(pool) == []
    )  # the transaction rolled back: no event without its mark, no mark without it
    monkeypatch.setattr(scheduler, "_emit", real_emit)
    assert await scheduler.tick(_uows(pool), T0 + dt.timedelta(hours=2)) == (10, 10)
    assert len(await _emitted(pool)) == 20


async def test_the_background_scheduler_follows_its_clock(pool: asyncpg.Pool) -> None:
    await _deadlines(pool, 2, due_in=dt.timedelta(hours=1))
    now = [T0]
    sched = scheduler.scheduler(_uows(pool), clock=lambda: now[0], interval_s=0.05)
    sched.start()
    try:
        await asyncio.sleep(0.3)
        assert await _emitted(pool) == []
        now[0] = T0 + dt.timedelta(hours=3)
        for _ in range(100):
            if len(await _emitted(pool)) == 4:
                break
            await asyncio.sleep(0.05)
    finally:
        await sched.stop()
    assert len(await _emitted(pool)) == 4
