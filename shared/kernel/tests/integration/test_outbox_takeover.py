"""A relay that takes over does not send again what its predecessor published but did not mark
(btkernel.outbox_takeover, docs/adr/0029-more-than-one-machine.md)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka import errors as kafka_errors

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
    producer = outbox.make_producer(kafka_options, outbox.relay_transactional_id("test", uuid.uuid4().hex))
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


async def test_what_a_dead_leader_appended_but_never_committed_is_aborted_by_the_next_and_sent_once(
    kernel_db: tuple[str, asyncpg.Pool], kafka_options: dict[str, Any], topic: str
) -> None:
    """The race of ADR 0029: the dead leader's records are in the partitions' logs (the broker appended them) but
    not yet visible when the next leader reads back. The next leader's producer, of the same transactional id,
    fences the dead one and aborts its transaction, so those records never become visible and each event is in
    the topic once, sent by the next leader."""
    dsn, pool = kernel_db
    events = [_env(f"agg-{i}", 1) for i in range(4)]
    async with pool.acquire() as conn, conn.transaction():
        for envelope in events:
            await outbox.enqueue(conn, topic, envelope)
    txn_id = outbox.relay_transactional_id("test", uuid.uuid4().hex)
    dead = outbox.make_producer(kafka_options, txn_id)
    await dead.start()
    await dead.begin_transaction()
    for envelope in events:
        key, value, headers = envelope.to_kafka()
        await (await dead.send(topic, value=value, key=key, headers=headers))  # appended, acknowledged
    # ...and the leader dies before committing (its producer is never used again).
    relay = outbox.OutboxRelay(dsn, kafka_options, "test")
    producer = outbox.make_producer(kafka_options, txn_id)
    await producer.start()  # the fence: the dead leader's transaction is aborted
    conn = await db.connect(dsn)
    try:
        assert await outbox_takeover.mark_already_published(conn, kafka_options) == 0
        assert await relay.publish_pending(conn, producer) == 4
        with pytest.raises(kafka_errors.ProducerFenced):
            await dead.commit_transaction()
    finally:
        await producer.stop()
        with contextlib.suppress(Exception):
            await dead.stop()
        await conn.close()
    assert sorted(await _committed_ids(kafka_options, topic)) == sorted(e.id for e in events)


async def _committed_ids(kafka: dict[str, Any], topic: str) -> list[str]:
    """The event ids of `topic` as every consumer reads them (read_committed), to the end."""
    consumer = AIOKafkaConsumer(
        topic, **kafka, group_id=None, auto_offset_reset="earliest", isolation_level="read_committed"
    )
    await consumer.start()
    try:
        while not consumer.assignment():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        ends = await consumer.end_offsets(list(consumer.assignment()))
        ids: list[str] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                ids.extend(dict(r.headers)["ce_id"].decode() for r in records)
        return ids
    finally:
        await consumer.stop()
