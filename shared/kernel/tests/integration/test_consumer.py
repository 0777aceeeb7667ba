"""The idempotent consumer on real PostgreSQL and Kafka: once per event id, offsets after processing, bounded
retries then the dead-letter topic with the error in headers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from btkernel.consumer import IdempotentConsumer
from btkernel.context import RequestContext
from btkernel.envelope import Envelope

pytestmark = pytest.mark.integration


async def _publish(kafka: dict[str, Any], topic: str, envs: list[Envelope]) -> None:
    producer = AIOKafkaProducer(**kafka, enable_idempotence=True)
    await producer.start()
    try:
        for env in envs:
            key, value, headers = env.to_kafka()
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def _until(predicate, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


def _env(n: int, subject: str = "agg") -> Envelope:
    return Envelope.new(
        type="kz.civreg.test.tick.v1",
        source="/test",
        subject=subject,
        data={"n": n},
        correlation_id="corr",
        causation_id=None,
    )


async def test_each_event_applied_once_even_when_delivered_twice(
    kernel_db: tuple[str, asyncpg.Pool],
    kafka_options: dict[str, Any],
    topic: str,
    read_all: Callable[..., Any],
) -> None:
    _, pool = kernel_db
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE seen (n int, correlation text)")

    async def handler(conn: asyncpg.Connection, env: Envelope, ctx: RequestContext) -> None:
        await conn.execute("INSERT INTO seen VALUES ($1, $2)", env.data["n"], ctx.correlation_id)

    envs = [_env(n) for n in range(10)]
    await _publish(kafka_options, topic, envs + envs[:4])  # the first four re-sent, as a relay crash would
    consumer = IdempotentConsumer(
        pool=pool, kafka=kafka_options, group_id="g1", topics=[topic], handler=handler, service="test"
    )
    consumer.start()
    try:
        await _until(lambda: _processed_at_least(pool, 10))
        await asyncio.sleep(1.5)  # let the four re-sent duplicates arrive too
    finally:
        await consumer.stop()
    rows = await pool.fetch("SELECT n, correlation FROM seen ORDER BY n")
    assert [r["n"] for r in rows] == list(range(10))
    assert {r["correlation"] for r in rows} == {"corr"}

    # Offsets were committed: a new consumer in the same group re-applies nothing.
    again = IdempotentConsumer(
        pool=pool, kafka=kafka_options, group_id="g1", topics=[topic], handler=handler, service="test"
    )
    again.start()
    await asyncio.sleep(3.0)
    await again.stop()
    assert await pool.fetchval("SELECT count(*) FROM seen") == 10


async def _processed_at_least(pool: asyncpg.Pool, n: int) -> bool:
    return bool(await pool.fetchval("SELECT count(*) >= $1 FROM processed_events", n))


async def test_a_poison_event_is_dead_lettered_and_the_rest_flow(
    kernel_db: tuple[str, asyncpg.Pool],
    kafka_options: dict[str, Any],
    topic: str,
    read_all: Callable[..., Any],
) -> None:
    _, pool = kernel_db
    attempts: dict[int, int] = {}

    async def handler(conn: asyncpg.Connection, env: Envelope, ctx: RequestContext) -> None:
        n = env.data["n"]
        attempts[n] = attempts.get(n, 0) + 1
        await conn.execute("CREATE TABLE IF NOT EXISTS ok (n int)")
        await conn.execute("INSERT INTO ok VALUES ($1)", n)
        if n == 2:
            raise ValueError("child birth date after registration date")

    await _publish(kafka_options, topic, [_env(1), _env(2), _env(3)])
    consumer = IdempotentConsumer(
        pool=pool,
        kafka=kafka_options,
        group_id="g2",
        topics=[topic],
        handler=handler,
        service="test",
        max_attempts=3,
        retry_backoff_s=0.01,
    )
    consumer.start()
    try:
        dead = await read_all(kafka_options, topic + ".dlq", 1)
        await _until(lambda: _processed_at_least(pool, 2))
    finally:
        await consumer.stop()
    assert attempts[2] == 3
    headers = dict(dead[0].headers)
    assert headers["x-dlq-error"] == b"child birth date after registration date"
    assert headers["x-dlq-error-type"] == b"ValueError"
    assert headers["x-dlq-consumer-group"] == b"g2"
    assert headers["x-dlq-original-topic"] == topic.encode()
    assert Envelope.from_kafka(dead[0].key, dead[0].value, list(dead[0].headers)).data == {"n": 2}
    # The failed attempts rolled back: only 1 and 3 were applied.
    assert sorted(r["n"] for r in await pool.fetch("SELECT n FROM ok")) == [1, 3]


async def test_an_outage_is_waited_out_not_dead_lettered(
    kernel_db: tuple[str, asyncpg.Pool],
    kafka_options: dict[str, Any],
    topic: str,
    read_all: Callable[..., Any],
) -> None:
    _, pool = kernel_db
    failures = {"left": 5}

    async def handler(conn: asyncpg.Connection, env: Envelope, ctx: RequestContext) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise ConnectionResetError("database restarting")  # the surroundings failed, not the event
        await conn.execute("CREATE TABLE IF NOT EXISTS ok (n int)")
        await conn.execute("INSERT INTO ok VALUES ($1)", env.data["n"])

    await _publish(kafka_options, topic, [_env(1), _env(2)])
    consumer = IdempotentConsumer(
        pool=pool,
        kafka=kafka_options,
        group_id="g3",
        topics=[topic],
        handler=handler,
        service="test",
        max_attempts=2,
        retry_backoff_s=0.01,
    )
    consumer.start()
    try:
        await _until(lambda: _processed_at_least(pool, 2), timeout_s=60)
    finally:
        await consumer.stop()
    assert sorted(r["n"] for r in await pool.fetch("SELECT n FROM ok")) == [1, 2]
    assert await read_all(kafka_options, topic + ".dlq", 1, timeout_s=2) == []
