"""/health tells the truth (ADR 0009), on real PostgreSQL and Kafka: degraded with the reason for a parked or
stale outbox row, a consumer whose lag keeps growing, unreviewed dead letters; unavailable when the database
does not answer. Thresholds are set small; nothing waits on the wall clock except for Kafka to deliver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from btdeploy.ports import free_port
from btkernel import outbox
from btkernel.consumer import IdempotentConsumer
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from btkernel.health import HealthMonitor, review_dead_letters
from btkernel.settings import ServiceSettings

pytestmark = pytest.mark.integration


def _env(n: int, subject: str = "agg") -> Envelope:
    return Envelope.new(
        type="kz.civreg.test.tick.v1",
        source="/test",
        subject=subject,
        data={"n": n},
        correlation_id="c",
        causation_id=None,
    )


def _settings(kafka_options: dict[str, Any]) -> ServiceSettings:
    # Samples only when the test takes them (the background interval is an hour), Kafka asked every time.
    return ServiceSettings(
        service_name="health-test",
        kafka_bootstrap=kafka_options["bootstrap_servers"],
        kafka_username=kafka_options["sasl_plain_username"],
        kafka_password=kafka_options["sasl_plain_password"],
        health_outbox_max_age_s=30,
        health_lag_samples=3,
        health_sample_interval_s=3600,
        health_kafka_cache_s=0,
    )


async def _publish(kafka: dict[str, Any], topic: str, n: int, start: int = 0) -> None:
    producer = AIOKafkaProducer(**kafka)
    await producer.start()
    try:
        for i in range(start, start + n):
            key, value, headers = _env(i).to_kafka()
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


class _Gate:
    """A consumer handler that blocks until opened: a stuck consumer, on demand."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.open = asyncio.Event()

    async def __call__(self, conn: asyncpg.Connection, env: Envelope, ctx: RequestContext) -> None:
        self.entered.set()
        await self.open.wait()


@pytest.fixture
async def monitored(
    kernel_db: tuple[str, asyncpg.Pool], kafka_options: dict[str, Any], topic: str
) -> AsyncIterator[tuple[HealthMonitor, IdempotentConsumer, _Gate]]:
    _, pool = kernel_db
    gate = _Gate()
    consumer = IdempotentConsumer(
        pool=pool, kafka=kafka_options, group_id=f"{topic}.g", topics=[topic], handler=gate, service="t"
    )
    consumer.start()
    monitor = HealthMonitor(
        service="health-test", pool=pool, settings=_settings(kafka_options), consumers=[consumer]
    )
    monitor.start()
    try:
        await asyncio.wait_for(consumer.ready.wait(), 60)
        yield monitor, consumer, gate
    finally:
        gate.open.set()
        await monitor.stop()
        await consumer.stop()


async def _report(monitor: HealthMonitor) -> tuple[int, dict[str, Any]]:
    return await monitor.report()


async def test_all_well_is_ok(monitored: tuple[HealthMonitor, IdempotentConsumer, _Gate], topic: str) -> None:
    monitor, consumer, _ = monitored
    status, body = await _report(monitor)
    assert (status, body["status"]) == (200, "ok"), body
    assert body["checks"] == {
        "database": "ok",
        "outbox": "ok",
        f"consumer:{consumer.group_id}": "ok",
        f"dlq:{topic}.dlq": "ok",
    }
    assert "reasons" not in body


async def test_a_stale_outbox_row_degrades_with_its_age(
    monitored: tuple[HealthMonitor, IdempotentConsumer, _Gate],
    kernel_db: tuple[str, asyncpg.Pool],
    topic: str,
) -> None:
    monitor, _, _ = monitored
    _, pool = kernel_db
    async with pool.acquire() as conn:
        await outbox.enqueue(conn, topic, _env(1))
        assert (await _report(monitor))[1]["checks"]["outbox"] == "ok"  # young: the relay has time yet
        # As a row looks when no relay has published it for ten minutes (broker away, relay stuck).
        await conn.execute("UPDATE outbox SET created_at = now() - interval '10 minutes'")
    status, body = await _report(monitor)
    assert (status, body["status"]) == (200, "degraded")
    assert body["checks"]["outbox"].startswith("degraded: the oldest unpublished event waits 600 s")
    assert any(r.startswith("outbox: the oldest unpublished event waits") for r in body["reasons"])


async def test_a_parked_row_degrades_with_its_error_and_remedy(
    monitored: tuple[HealthMonitor, IdempotentConsumer, _Gate],
    kernel_db: tuple[str, asyncpg.Pool],
    topic: str,
) -> None:
    monitor, _, _ = monitored
    _, pool = kernel_db
    async with pool.acquire() as conn:
        await outbox.enqueue(conn, topic, _env(1, subject="a-7"))
        row_id = await conn.fetchval(
            "UPDATE outbox SET parked_at = now(), last_error = 'MessageSizeTooLargeError: 1258000 bytes'"
            " RETURNING id"
        )
    status, body = await _report(monitor)
    assert (status, body["status"]) == (200, "degraded")
    reason = body["checks"]["outbox"]
    assert "1 event(s) parked" in reason
    assert "subject a-7" in reason
    assert "MessageSizeTooLargeError" in reason
    assert f"python -m btkernel.outbox release|discard {row_id}" in reason
    async with pool.acquire() as conn:
        assert await outbox.discard(conn, row_id, by="test", reason="shown")
    assert (await _report(monitor))[1]["status"] == "ok"


async def test_a_consumer_whose_lag_keeps_growing_degrades(
    monitored: tuple[HealthMonitor, IdempotentConsumer, _Gate], kafka_options: dict[str, Any], topic: str
) -> None:
    monitor, consumer, gate = monitored
    history = monitor.lag[consumer.group_id]
    # The monitor's own first sample is taken when it starts, at a moment a loaded machine chooses; wait it out so
    # the three samples below are the only ones in the history (the next background one is an hour away).
    for _ in range(600):
        if history.samples:
            break
        await asyncio.sleep(0.05)
    history.samples.clear()
    await _publish(kafka_options, topic, 1)
    await asyncio.wait_for(gate.entered.wait(), 60)  # the consumer is stuck on the first event
    lags = []
    for batch in range(3):
        await _publish(kafka_options, topic, 2, start=1 + 2 * batch)
        await monitor.sample_lag()
        lags.append(monitor.lag[consumer.group_id].samples[-1])
    assert lags == [3, 5, 7]  # nothing committed: everything published is behind
    status, body = await _report(monitor)
    assert (status, body["status"]) == (200, "degraded")
    assert body["checks"][f"consumer:{consumer.group_id}"].startswith(
        "degraded: lag grew across the last 3 samples (3 → 5 → 7 messages)"
    )

    gate.open.set()  # unstuck: the lag falls, and one sample that is not larger ends the alarm
    for _ in range(300):
        await monitor.sample_lag()
        if monitor.lag[consumer.group_id].samples[-1] == 0:
            break
        await asyncio.sleep(0.1)
    assert monitor.lag[consumer.group_id].samples[-1] == 0
    assert (await _report(monitor))[1]["checks"][f"consumer:{consumer.group_id}"] == "ok"


async def test_dead_letters_degrade_until_reviewed(
    monitored: tuple[HealthMonitor, IdempotentConsumer, _Gate], kafka_options: dict[str, Any], topic: str
) -> None:
    monitor, _, _ = monitored
    await _publish(kafka_options, f"{topic}.dlq", 2)
    status, body = await _report(monitor)
    assert (status, body["status"]) == (200, "degraded")
    assert body["checks"][f"dlq:{topic}.dlq"].startswith("degraded: 2 dead letter(s) not yet reviewed")
    assert await review_dead_letters(kafka_options, f"{topic}.dlq") == 2
    status, body = await _report(monitor)
    assert body["checks"][f"dlq:{topic}.dlq"] == "ok", body
    assert body["status"] == "ok", body
    await _publish(kafka_options, f"{topic}.dlq", 1)  # only what arrived since the review counts
    assert "1 dead letter(s)" in (await _report(monitor))[1]["checks"][f"dlq:{topic}.dlq"]


async def test_an_unreachable_database_is_unavailable(kafka_options: dict[str, Any]) -> None:
    # Nobody listens on this port: every connection attempt is refused, as when PostgreSQL is down.
    pool = await asyncpg.create_pool(f"postgresql://postgres@127.0.0.1:{free_port()}/none", min_size=0)
    monitor = HealthMonitor(service="health-test", pool=pool, settings=_settings(kafka_options))
    try:
        status, body = await _report(monitor)
    finally:
        await monitor.stop()
        await pool.close()
    assert (status, body["status"]) == (503, "unavailable")
    assert body["checks"]["database"].startswith("unavailable: the database does not answer")
    assert body["reasons"][0].startswith("database: the database does not answer")
