"""P2's baseline (issue 13): raw aiokafka produce → consume on the stack's broker at the rate the platform is
measured at, acks=all, into a scratch topic with the platform topics' partition count, as the administrator
(the same login bench_rebuild's raw reader uses). Each record's latency runs from its scheduled send moment to its
arrival at a bare consumer (no group, no database): the broker's own floor for one hop.

Beside it, the same records each in a Kafka transaction of its own, read by a read_committed consumer: what the
outbox relay's guarantee costs on that broker before any platform code runs (ADR 0029: each relay round is a
transaction, so partner agencies never read a record twice). Reported beside P2 with no goal of its own: it
shows how much of the 3× the transaction alone takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from btdeploy.kafka import BrokerLogins
from btkernel.topics import TopicSpec

PARTITIONS = 6  # as every platform topic (civreg.topics)


@contextlib.asynccontextmanager
async def scratch_topic(kafka: BrokerLogins, prefix: str) -> AsyncIterator[str]:
    """A fresh topic with the platform topics' partition count, deleted afterwards."""
    topic = f"{prefix}.{uuid.uuid4().hex[:12]}"
    admin = kafka.admin()
    await asyncio.to_thread(admin.ensure_topics, [TopicSpec(topic, partitions=PARTITIONS)])
    try:
        yield topic
    finally:
        await asyncio.to_thread(admin.delete_topic, topic)


def raw_producer(options: dict[str, Any], topic: str, *, transactional: bool) -> AIOKafkaProducer:
    """The baselines' producer: idempotent, acks=all, no linger; with a transactional id of its own when asked."""
    return AIOKafkaProducer(
        **options,
        acks="all",
        enable_idempotence=True,
        linger_ms=0,
        transactional_id=f"{topic}.tx" if transactional else None,
    )


async def produce_consume(
    kafka: BrokerLogins, rate: float, seconds: float, settle_s: float = 10.0, *, transactional: bool = False
) -> tuple[list[float], int]:
    """Latencies in seconds of records sent at `rate` for `seconds`, and how many were sent; `transactional`: each
    record in a transaction of its own (begin, send, commit), consumed read_committed."""
    async with scratch_topic(kafka, "bench.raw") as topic:
        return await _measure(kafka.admin_options(), topic, rate, seconds, settle_s, transactional)


async def _measure(
    options: dict[str, Any], topic: str, rate: float, seconds: float, settle_s: float, transactional: bool
) -> tuple[list[float], int]:
    consumer = AIOKafkaConsumer(
        topic,
        **options,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed" if transactional else "read_uncommitted",
    )
    producer = raw_producer(options, topic, transactional=transactional)
    await consumer.start()
    await producer.start()
    scheduled: dict[int, float] = {}
    latencies: list[float] = []
    count = max(1, round(rate * seconds))

    async def read() -> None:
        while len(latencies) < count:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                now = time.perf_counter()
                for record in records:
                    latencies.append(now - scheduled[int(record.value or b"0")])

    try:
        # The consumer has its partitions and offsets before the first record is sent.
        await consumer.getmany(timeout_ms=500)
        reader = asyncio.create_task(read())
        sends = []
        start = time.perf_counter()
        for k in range(count):
            scheduled[k] = start + k / rate
            delay = scheduled[k] - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if transactional:
                # One at a time, as the relay's rounds: a producer has one transaction open at most.
                async with producer.transaction():
                    await producer.send_and_wait(topic, str(k).encode())
            else:
                sends.append(asyncio.create_task(producer.send_and_wait(topic, str(k).encode())))
        await asyncio.gather(*sends)
        # Those still missing after `settle_s` are reported as not received.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader, settle_s)
    finally:
        await producer.stop()
        await consumer.stop()
    return latencies, count
