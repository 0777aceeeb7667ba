"""The working calendar kept by the process under its version (issue 13): read again only when a decree or a
site's schedule exception changed, so a change is still effective at once — also one made by another process,
and also inside the changing transaction itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from btkernel import db
from registry.adapters.calendar import CalendarRows

pytestmark = pytest.mark.integration

OFFICE = "almaty-almaly"
MONDAY = dt.date(2026, 11, 23)


async def _database(make_database: Any, name: str) -> str:
    dsn = await make_database(name)
    conn = await db.connect(dsn)
    try:
        await db.migrate(conn, "registry.migrations")
    finally:
        await conn.close()
    return dsn


async def test_the_clock_is_kept_while_the_calendar_stands_and_read_again_when_it_changes(
    make_database: Any,
) -> None:
    dsn = await _database(make_database, "calendar_kept")
    pool = await db.create_pool(dsn, max_size=2)
    try:
        async with pool.acquire() as conn:
            first = await CalendarRows(conn).site_clock()
            assert await CalendarRows(conn).site_clock() is first
            assert first.calendar_of(OFFICE).is_working_day(MONDAY)
        # Another process (here: another connection, not through CalendarRows) moves a day off onto Monday.
        async with pool.acquire() as other:
            await other.execute(
                "INSERT INTO calendar_overrides (country, day, kind, reason, source, created_by)"
                " VALUES ('KZ', $1, 'day_off', 'transfer', 'decree 1', 'test')",
                MONDAY,
            )
        async with pool.acquire() as conn:
            moved = await CalendarRows(conn).site_clock()
            assert moved is not first
            assert not moved.calendar_of(OFFICE).is_working_day(MONDAY)
            # Inside a transaction changing the calendar, the change is seen; rolled back, it is gone again.
            tx = conn.transaction()
            await tx.start()
            await CalendarRows(conn).set_schedule_exception(OFFICE, MONDAY, [], "closed", "test")
            closed = await CalendarRows(conn).site_clock()
            assert closed.exceptions[OFFICE] == [{"day": MONDAY, "hours": []}]
            await tx.rollback()
            after = await CalendarRows(conn).site_clock()
            assert after.exceptions == {}
            assert not after.calendar_of(OFFICE).is_working_day(MONDAY)
    finally:
        await pool.close()


async def test_two_databases_never_share_a_kept_clock(make_database: Any) -> None:
    with_decree = await _database(make_database, "calendar_a")
    without = await _database(make_database, "calendar_b")
    conn = await db.connect(with_decree)
    try:
        await conn.execute(
            "INSERT INTO calendar_overrides (country, day, kind, reason, source, created_by)"
            " VALUES ('KZ', $1, 'day_off', 'transfer', 'decree 1', 'test')",
            MONDAY,
        )
        assert not (await CalendarRows(conn).site_clock()).calendar_of(OFFICE).is_working_day(MONDAY)
    finally:
        await conn.close()
    conn = await db.connect(without)
    try:
        assert (await CalendarRows(conn).site_clock()).calendar_of(OFFICE).is_working_day(MONDAY)
    finally:
        await conn.close()
