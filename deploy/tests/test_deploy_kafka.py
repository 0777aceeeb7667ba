"""Real Kafka through the session fixtures: the platform's topics exist and the idempotent producer works."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from btdeploy.kafka import KafkaServer, create_topics
from civreg.topics import ALL_TOPICS, TopicSpec

pytestmark = pytest.mark.integration


async def test_idempotent_producer_round_trip(kafka_bootstrap: str) -> None:
    topic = f"deploy-test-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka_bootstrap, [TopicSpec(topic, partitions=1)])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic, b'{"hello": "world"}', key=b"aggregate-1", headers=[("ce_type", b"kz.civreg.test.sent.v1")]
        )
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"deploy.{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert (message.partition, message.offset) == (sent.partition, sent.offset)
    assert message.key == b"aggregate-1"
    assert message.value == b'{"hello": "world"}'
    assert ("ce_type", b"kz.civreg.test.sent.v1") in list(message.headers)


async def test_platform_topics_exist_and_creating_them_again_is_harmless(kafka_server: KafkaServer) -> None:
    await create_topics(kafka_server.bootstrap, ALL_TOPICS)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_server.bootstrap)
    await admin.start()
    try:
        assert {spec.name for spec in ALL_TOPICS} <= set(await admin.list_topics())
    finally:
        await admin.close()
