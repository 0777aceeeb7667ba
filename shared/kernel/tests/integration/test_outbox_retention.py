"""Published outbox rows deleted past the retention (ADR 0044), on real PostgreSQL and, for the relay, Kafka.

Ages are set relative to the database's `now()`, never to a date: the retention counts from `published_at`, which
the relay writes with that clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

import asyncpg
import pytest

from btdeploy.e2e import eventually
from btkernel import db, outbox, outbox_retention
from btkernel.envelope import Envelope

pytestmark = pytest.mark.integration

RETENTION = dt.timedelta(days=30)


def _env(subject: str) -> Envelope:
    return Envelope.new(
        type="kz.civreg.test.tick.v1",
        source="/test",
        subject=subject,
        data={"n": 1},
        correlation_id="c",
        causation_id=None,
    )


async def _rows(
    pool: asyncpg.Pool, topic: str, spec: list[tuple[str, int, int | None, bool]]
) -> dict[str, int]:
    """Outbox rows in the order given (so in id order): (name, created days ago, published days ago or None,
    parked). Returns each name's id."""
    ids: dict[str, int] = {}
    for name, created, published, parked in spec:
        async with pool.acquire() as conn, conn.transaction():
            await outbox.enqueue(conn, topic, _env(name))
            ids[name] = await conn.fetchval("SELECT max(id) FROM outbox")
        await pool.execute(
            "UPDATE outbox SET created_at = now() - make_interval(days => $2),"
            " published_at = now() - make_interval(days => $3), parked_at = CASE WHEN $4 THEN now() END"
            " WHERE id = $1",
            ids[name],
            created,
            published,
            parked,
        )
    return ids


async def _left(pool: asyncpg.Pool, ids: dict[str, int]) -> list[str]:
    kept = {r["id"] for r in await pool.fetch("SELECT id FROM outbox")}
    return [name for name, id_ in ids.items() if id_ in kept]


class _Counting:
    """The relay's connection, counting the statements a pass sends."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.statements = 0

    async def fetchrow(self, *args: Any) -> Any:
        self.statements += 1
        return await self.conn.fetchrow(*args)


async def test_a_pass_deletes_published_rows_past_the_retention_and_nothing_else(
    kernel_db: tuple[str, asyncpg.Pool],
) -> None:
    """Pending and parked rows stay however old they are (they are not published); published rows stay until
    their `published_at` is older than the retention, whenever they were created."""
    dsn, pool = kernel_db
    ids = await _rows(
        pool,
        "t",
        [
            ("old-published", 50, 40, False),
            ("old-pending", 49, None, False),
            ("old-parked", 48, None, True),
            ("old-published-2", 47, 31, False),
            ("created-old-published-lately", 45, 29, False),
            ("old-published-3", 44, 35, False),
            ("recent-published", 2, 1, False),
            ("recent-pending", 1, None, False),
        ],
    )
    pruning = outbox_retention.Pruning("test", RETENTION, page_rows=2)
    conn = await outbox.relay_connection(dsn)  # as the relay runs it: no sequential or bitmap scans
    try:
        assert await pruning.run(conn, now=0.0) == 3
    finally:
        await conn.close()
    assert await _left(pool, ids) == [
        "old-pending",
        "old-parked",
        "created-old-published-lately",
        "recent-published",
        "recent-pending",
    ]


async def test_a_pass_reads_no_further_than_the_first_page_of_rows_created_within_the_retention(
    kernel_db: tuple[str, asyncpg.Pool],
) -> None:
    """The retained window is most of a pruned outbox: a pass that read it all every interval would cost as much
    as the rows kept. Five old rows in pages of two: three statements, not one per page of the 60 recent rows."""
    dsn, pool = kernel_db
    ids = await _rows(
        pool,
        "t",
        [(f"old-{n}", 40, 35, False) for n in range(5)] + [(f"recent-{n}", 1, 1, False) for n in range(60)],
    )
    pruning = outbox_retention.Pruning("test", RETENTION, page_rows=2)
    conn = await db.connect(dsn)
    try:
        counting = _Counting(conn)
        assert await pruning.run(cast(asyncpg.Connection, counting), now=0.0) == 5
        assert counting.statements == 3
    finally:
        await conn.close()
    assert await _left(pool, ids) == [f"recent-{n}" for n in range(60)]


async def test_an_unfinished_pass_goes_on_where_it_stopped_and_a_finished_one_waits_its_interval(
    kernel_db: tuple[str, asyncpg.Pool],
) -> None:
    dsn, pool = kernel_db
    ids = await _rows(pool, "t", [(f"old-{n}", 40, 35, False) for n in range(5)] + [("recent", 1, 1, False)])
    pruning = outbox_retention.Pruning("test", RETENTION, interval_s=600.0, page_rows=2, pages_per_pass=1)
    conn = await db.connect(dsn)
    try:
        assert pruning.due(0.0)
        assert await pruning.run(conn, now=0.0) == 2
        assert pruning.due(0.0)  # more to do: at the relay's next idle moment
        assert await pruning.run(conn, now=1.0) == 2
        assert await pruning.run(conn, now=2.0) == 1  # its page reaches the recent row: finished
        assert not pruning.due(601.0)
        assert pruning.due(602.0)
        assert await pruning.run(conn, now=602.0) == 0
    finally:
        await conn.close()
    assert await _left(pool, ids) == ["recent"]


async def test_no_retention_keeps_every_published_row(kernel_db: tuple[str, asyncpg.Pool]) -> None:
    dsn, pool = kernel_db
    ids = await _rows(pool, "t", [("ancient", 4000, 3999, False)])
    pruning = outbox_retention.Pruning("test", outbox_retention.retention_of(0))
    assert not pruning.due(0.0)
    conn = await db.connect(dsn)
    try:
        assert await pruning.run(conn, now=0.0) == 0
    finally:
        await conn.close()
    assert await _left(pool, ids) == ["ancient"]


async def test_the_relay_deletes_old_published_rows_when_it_has_nothing_to_publish(
    kernel_db: tuple[str, asyncpg.Pool],
    kafka_options: dict[str, Any],
    topic: str,
    read_all: Callable[..., Any],
) -> None:
    dsn, pool = kernel_db
    ids = await _rows(pool, topic, [("old", 40, 35, False), ("lately", 3, 2, False)])
    relay = outbox.OutboxRelay(dsn, kafka_options, "test", retention=RETENTION)
    relay.start()
    try:
        fresh = _env("fresh")
        async with pool.acquire() as conn, conn.transaction():
            await outbox.enqueue(conn, topic, fresh)
        await eventually(
            lambda: pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE id = $1", ids["old"]),
            timeout_s=30,
            what="the old published row deleted",
        )
        records = await read_all(kafka_options, topic, 1)
    finally:
        await relay.stop()
    assert [dict(r.headers)["ce_id"].decode() for r in records] == [fresh.id]
    left = await pool.fetch(
        "SELECT event_id::text, published_at IS NOT NULL AS published FROM outbox ORDER BY id"
    )
    assert [r["published"] for r in left] == [True, True]
    assert left[1]["event_id"] == fresh.id


async def test_a_pass_gives_way_between_pages_when_the_relay_has_rows_to_publish(
    kernel_db: tuple[str, asyncpg.Pool],
) -> None:
    """A commit notified during a pass waits one page at most, not the pass's twenty; the pass goes on at the
    relay's next idle moment."""
    dsn, pool = kernel_db
    ids = await _rows(pool, "t", [(f"old-{n}", 40, 35, False) for n in range(6)] + [("recent", 1, 1, False)])
    pruning = outbox_retention.Pruning("test", RETENTION, page_rows=2)
    conn = await db.connect(dsn)
    try:
        commits = iter([False, True])
        assert await pruning.run(conn, now=0.0, wanted=lambda: next(commits)) == 4
        assert pruning.due(0.0)
        assert await pruning.run(conn, now=1.0) == 2
        assert not pruning.due(1.0)
    finally:
        await conn.close()
    assert await _left(pool, ids) == ["recent"]
