"""Real Kafka through the session fixtures: the platform's topics exist and the idempotent producer works."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from btdeploy.kafka import KafkaServer
from btdeploy.kafka_admin import KafkaAdmin
from btdeploy.testing import TopicFactory
from civreg.topics import ALL_TOPICS

pytestmark = pytest.mark.integration


async def test_idempotent_producer_round_trip(
    kafka_options: dict[str, Any], make_topic: TopicFactory
) -> None:
    topic = make_topic("deploy-test", partitions=1, dead_letters=False)
    producer = AIOKafkaProducer(**kafka_options, enable_idempotence=True)
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic, b'{"hello": "world"}', key=b"aggregate-1", headers=[("ce_type", b"kz.civreg.test.sent.v1")]
        )
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        **kafka_options,
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


def test_platform_topics_exist_and_provisioning_again_is_harmless(
    kafka_server: KafkaServer, kafka_admin: KafkaAdmin
) -> None:
    kafka_server.provision(ALL_TOPICS)
    assert {spec.name for spec in ALL_TOPICS} <= kafka_admin.topic_names()
