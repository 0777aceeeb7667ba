"""Helpers for the kernel's integration tests: a migrated database and unique topics on the real Kafka."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from btkernel import db


async def fresh_dsn(make_database: Callable[..., Any]) -> str:
    result = make_database()
    dsn: str = await result if inspect.isawaitable(result) else result
    return dsn


@pytest.fixture
async def kernel_db(make_database: Callable[..., Any]) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    dsn = await fresh_dsn(make_database)
    pool = await db.create_pool(dsn, max_size=6)
    await db.migrate(pool)
    yield dsn, pool
    await pool.close()


@pytest.fixture
def topic(make_topic: Callable[..., str]) -> str:
    """A fresh topic (and its dead-letter topic) per test, so tests never read each other's events."""
    return make_topic("test", partitions=3)


async def _read_all(kafka: dict[str, Any], topic: str, expected: int, timeout_s: float = 30.0) -> list[Any]:
    """Every record of `topic` from the beginning, waiting until at least `expected` arrived or time runs out."""
    import asyncio
    import time

    consumer = AIOKafkaConsumer(
        topic,
        **kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for recs in batch.values():
                records.extend(recs)
            if len(records) >= expected:
                # One more short poll: anything beyond `expected` is a duplicate the test wants to see.
                await asyncio.sleep(0.3)
                for recs in (await consumer.getmany(timeout_ms=300)).values():
                    records.extend(recs)
                break
    finally:
        await consumer.stop()
    return records


@pytest.fixture
def read_all() -> Callable[..., Any]:
    """`await read_all(kafka_options, topic, expected)`: the topic's records from the beginning."""
    return _read_all
