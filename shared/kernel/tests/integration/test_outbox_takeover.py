"""A relay that takes over does not send again what its predecessor published but did not mark
(btkernel.outbox_takeover, docs/adr/0029-more-than-one-machine.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from btkernel import db, outbox, outbox_takeover
from btkernel.envelope import Envelope

pytestmark = pytest.mark.integration


def _env(subject: str, n: int) -> Envelope:
    return Envelope.new(
        type="kz.civreg.test.tick.v1",
        source="/test",
        subject=subject,
        data={"n": n},
        correlation_id="c",
        causation_id=None,
    )


async def test_rows_sent_but_not_marked_are_marked_at_takeover_and_not_sent_twice(
    kernel_db: tuple[str, asyncpg.Pool],
    kafka_options: dict[str, Any],
    topic: str,
    read_all: Callable[..., Any],
) -> None:
    dsn, pool = kernel_db
    sent = [_env(f"agg-{i}", 1) for i in range(5)]
    async with pool.acquire() as conn, conn.transaction():
        for envelope in sent:
            await outbox.enqueue(conn, topic, envelope)
    relay = outbox.OutboxRelay(dsn, kafka_options, "test")
    producer = outbox.make_producer(kafka_options)
    await producer.start()
    conn = await db.connect(dsn)
    try:
        assert await relay.publish_pending(conn, producer) == 5
        # The leader "died" after the broker had them and before its mark: they look pending again.
        await conn.execute(
            "UPDATE outbox SET published_at = NULL WHERE event_id::text = ANY($1::text[])",
            [e.id for e in sent],
        )
        unsent = _env("agg-9", 1)  # and one it never sent
        await outbox.enqueue(conn, topic, unsent)

        marked = await outbox_takeover.mark_already_published(conn, kafka_options, settle_s=0)

        assert marked == 5
        assert await relay.publish_pending(conn, producer) == 1
    finally:
        await producer.stop()
        await conn.close()
    ids = [dict(r.headers)["ce_id"].decode() for r in await read_all(kafka_options, topic, 6)]
    assert sorted(ids) == sorted([*(e.id for e in sent), unsent.id])


async def test_nothing_pending_reads_nothing(kernel_db: tuple[str, asyncpg.Pool]) -> None:
    dsn, _pool = kernel_db
    conn = await db.connect(dsn)
    try:
        # No broker is even asked: the options point nowhere.
        bogus = {"bootstrap_servers": "127.0.0.1:1"}
        assert await outbox_takeover.mark_already_published(conn, bogus, settle_s=0) == 0
    finally:
        await conn.close()
