"""Through real Kafka: events on civreg.application become one e-mail and a NotificationDelivered on the topic."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from notification_factories import envelope, result_received, submitted

from btkernel import db
from btkernel.consumer import IdempotentConsumer
from btkernel.envelope import Envelope
from btkernel.outbox import OutboxRelay
from civreg import topics
from notification.adapters.consumer import on_event
from notification.adapters.smtp import SmtpMailer
from notification.adapters.store import PgStore, PgTransactions
from notification.adapters.worker import delivery_worker
from notification.app import projection
from notification.app.delivery import Delivery
from notification.domain.delivery import RetryPolicy

pytestmark = pytest.mark.integration


async def _start_group_at_end(kafka: dict[str, Any], group: str, topic: str) -> None:
    """Commit the group's offsets at the topic's end, so it sees only what this test produces (other tests share
    the broker, and their events are not this database's business)."""
    # A producer's partitions_for waits for the topic's metadata; the consumer's own lookup does not.
    producer = AIOKafkaProducer(**kafka)
    await producer.start()
    try:
        parts = [TopicPartition(topic, p) for p in sorted(await producer.partitions_for(topic))]
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(**kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(parts)
        await consumer.commit(dict(await consumer.end_offsets(parts)))
    finally:
        await consumer.stop()


async def _produce(kafka: dict[str, Any], topic: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(**kafka)
    await producer.start()
    try:
        for env in envelopes:
            key, value, headers = env.to_kafka()
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def _wait_for_event(kafka: dict[str, Any], topic: str, subject: str) -> Envelope:
    consumer = AIOKafkaConsumer(topic, **kafka, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with asyncio.timeout(30.0):
            async for record in consumer:
                env = Envelope.from_kafka(record.key, record.value, list(record.headers or ()))
                if env.subject == subject:
                    return env
    finally:
        await consumer.stop()
    raise AssertionError("unreachable")


async def test_result_ready_reaches_the_applicant_once_and_is_announced_on_kafka(
    make_database: Any, kafka_options: dict[str, Any], make_topic: Any, smtp_sink: Any
) -> None:
    dsn = await make_database("notification")
    pool = await db.create_pool(dsn, max_size=6)
    await db.migrate(pool, "notification.migrations")
    group = f"{projection.GROUP}.test-{uuid.uuid4().hex[:8]}"
    # A topic of this test's own: the end-to-end stack's notification service, which may be running in the same
    # session, consumes civreg.application too and would mail the same address a second time. Read as the
    # administrator: the notification principal may read only the platform's topics (ADR 0023).
    source_topic = make_topic("test.application")
    await _start_group_at_end(kafka_options, group, source_topic)
    consumer = IdempotentConsumer(
        pool=pool,
        kafka=kafka_options,
        group_id=group,
        topics=[source_topic],
        handler=on_event,
        service="notification",
        max_attempts=2,
        retry_backoff_s=0.05,
        event_types=projection.EVENT_TYPES,
    )
    relay = OutboxRelay(dsn, kafka_options, "notification", poll_interval_s=0.1)
    delivery = Delivery(
        PgTransactions(pool),
        SmtpMailer(smtp_sink.host, smtp_sink.port, timeout_s=5),
        sender="no-reply@bir-tereze.test",
        policy=RetryPolicy(max_attempts=3, backoff_s=0.1),
    )
    worker = delivery_worker(delivery, poll_interval_s=0.1)
    consumer.start()
    relay.start()
    worker.start()
    try:
        email = f"kafka-{uuid.uuid4().hex[:10]}@example.kz"
        sub = submitted(email=email)
        ready = envelope(result_received(sub.application_id))
        # The result event twice, as a redelivery would bring it: one message all the same.
        await _produce(kafka_options, source_topic, envelope(sub), ready, ready)
        [mail] = await asyncio.to_thread(smtp_sink.wait_for, email, 1, 60.0)
        assert "R-2025-000123" in mail.subject
        async with pool.acquire() as conn:
            rows = await PgStore(conn).list_for_application(sub.application_id)
        [row] = rows
        delivered = await _wait_for_event(kafka_options, topics.NOTIFICATION, row.notification_id)
        assert delivered.type == "kz.civreg.notification.delivered.v1"
        assert delivered.correlation_id == "corr-1"
        assert delivered.causation_id == ready.id
        assert delivered.data["application_id"] == sub.application_id
        await asyncio.sleep(0.5)
        assert len(smtp_sink.messages_to(email)) == 1
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM notifications") == 1
    finally:
        await worker.stop()
        await relay.stop()
        await consumer.stop()
        await pool.close()
