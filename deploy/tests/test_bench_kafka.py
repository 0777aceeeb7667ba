"""P2's Kafka baselines of `make bench` (btdeploy.bench_kafka) on a real broker: every record sent is read back,
plainly and each in a transaction of its own (a commit marker after each record in the log). No timing: a
latency is only checked to be one (positive, and shorter than the run)."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from btdeploy.bench_kafka import _measure
from btdeploy.testing import TopicFactory

pytestmark = pytest.mark.integration


PARTITIONS = 3


async def _log_end(options: dict[str, Any], topic: str) -> int:
    """Offsets the topic's log holds in all: records and transaction markers alike."""
    consumer = AIOKafkaConsumer(**options, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return sum((await consumer.end_offsets(parts)).values())
    finally:
        await consumer.stop()


@pytest.mark.parametrize(("transactional", "offsets_per_record"), [(False, 1), (True, 2)])
async def test_every_record_sent_is_read_back_each_in_its_own_transaction_when_asked(
    kafka_options: dict[str, Any], make_topic: TopicFactory, transactional: bool, offsets_per_record: int
) -> None:
    topic = make_topic("bench.raw", partitions=PARTITIONS, dead_letters=False)
    latencies, sent = await _measure(kafka_options, topic, 20.0, 0.5, 30.0, transactional)
    assert sent == 10
    assert len(latencies) == sent
    assert all(0 < s < 30.0 for s in latencies)
    # A transaction per record: the record, then its commit marker.
    assert await _log_end(kafka_options, topic) == offsets_per_record * sent
