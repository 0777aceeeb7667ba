"""Against real PostgreSQL (and Kafka): one decision per application, FeeAssessed in the outbox and on the topic,
and the HTTP API with its site scoping."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fee_factories import envelope, submitted

from btdeploy.kafka import KafkaServer
from btdeploy.kafka_access import service_principal
from btkernel import db
from btkernel.consumer import IdempotentConsumer
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from btkernel.outbox import OutboxRelay
from btkernel.testing import actor_headers
from civreg import topics
from fees import main
from fees.adapters.consumer import on_application_event
from fees.app import assess
from fees.settings import FeeSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def dsn(make_database: Any) -> str:
    dsn: str = await make_database("fee")
    return dsn


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(dsn, max_size=4)
    await db.migrate(pool, "fees.migrations")
    try:
        yield pool
    finally:
        await pool.close()


async def _consume(pool: asyncpg.Pool, env: Envelope) -> bool:
    # The kernel's consumer, applied without Kafka: the same transaction, processed_events row and handler.
    consumer = IdempotentConsumer(
        pool=pool,
        kafka={"bootstrap_servers": "unused:0"},
        group_id=assess.GROUP,
        topics=[topics.APPLICATION],
        handler=on_application_event,
        service="fee",
        event_types=assess.EVENT_TYPES,
    )
    record = SimpleNamespace(topic=topics.APPLICATION, partition=0, offset=0)
    outcome = await consumer.apply_once(env, record)
    return outcome == "applied"


async def test_fee_assessed_lands_in_the_outbox_with_the_decision(pool: asyncpg.Pool) -> None:
    event = submitted()
    env = envelope(event)
    assert await _consume(pool, env) is True
    async with pool.acquire() as conn:
        decision = await conn.fetchrow(
            "SELECT * FROM fee_decisions WHERE application_id = $1", event.application_id
        )
        [out] = await conn.fetch("SELECT topic, event_id, envelope FROM outbox")
    assert decision is not None
    assert decision["payable"] is False
    assert decision["amount_tiyn"] == 0
    assert out["topic"] == topics.FEE
    assert out["event_id"] == decision["event_id"]
    published = out["envelope"]
    assert published["type"] == "kz.civreg.fee.assessed.v1"
    assert published["subject"] == event.application_id
    assert published["causation_id"] == env.id
    assert published["correlation_id"] == "corr-fee"
    assert published["data"]["amount_mrp"] == "0"
    assert published["data"]["amount_tiyn"] == 0


async def test_the_same_event_twice_and_a_handler_rerun_write_one_decision(pool: asyncpg.Pool) -> None:
    event = submitted()
    env = envelope(event)
    assert await _consume(pool, env) is True
    assert await _consume(pool, env) is False
    async with pool.acquire() as conn, conn.transaction():
        await on_application_event(conn, env, RequestContext(correlation_id="rerun"))
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM fee_decisions") == 1
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1


# -- the HTTP API --


@pytest.fixture
async def client(dsn: str, pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    app = main.build(FeeSettings(database_url=dsn, relay_enabled=False, consumers_enabled=False))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://fee") as c,
    ):
        yield c


def _as(role: str, site: str | None = None) -> dict[str, str]:
    return actor_headers(f"user-{role}", role, site)


async def test_api_shows_the_decision_to_each_site_in_scope(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    event = submitted()
    await _consume(pool, envelope(event))
    for headers in (
        _as("supervisor"),
        _as("centre_operator", "almaty-con-1"),
        _as("registry_executive", "almaty-almaly"),
        _as("registry_head", "almaty-almaly"),
        _as("registry_chancellery", "almaty-almaly"),
    ):
        r = await client.get("/api/v1/fees", params={"application_id": event.application_id}, headers=headers)
        assert r.status_code == 200, (headers, r.text)
        [item] = r.json()["items"]
        assert item["payable"] is False
        assert item["amount_mrp"] == "0"
        assert item["amount_tiyn"] == 0
        assert item["amount_tenge"] == "0.00"
        assert item["service_id"] == "birth_registration"
    for headers in (_as("centre_operator", "almaty-con-2"), _as("registry_head", "almaty-bostandyk")):
        r = await client.get("/api/v1/fees", params={"application_id": event.application_id}, headers=headers)
        assert r.status_code == 404


async def test_api_problems(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/fees", params={"application_id": "unknown"}, headers=_as("supervisor"))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["path"] == "query.application_id"
    r = await client.get("/api/v1/fees", headers=_as("supervisor"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "query.application_id"
    r = await client.get("/api/v1/fees", params={"application_id": "x"}, headers=_as("citizen"))
    assert r.status_code == 403


# -- through Kafka --


async def _start_group_at_end(kafka: dict[str, Any], group: str, topic: str) -> None:
    """Commit the group's offsets at the topic's end, so it sees only what this test produces."""
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


async def test_fee_assessed_is_published_to_the_fee_topic(
    pool: asyncpg.Pool, dsn: str, kafka_options: dict[str, Any], kafka_server: KafkaServer
) -> None:
    group = f"{assess.GROUP}.test-{uuid.uuid4().hex[:8]}"
    await _start_group_at_end(kafka_options, group, topics.APPLICATION)
    # The service's side runs as the fee service's own principal, with only its ACLs (ADR 0023).
    as_fee = kafka_server.client_options(service_principal("fee"))
    consumer = IdempotentConsumer(
        pool=pool,
        kafka=as_fee,
        group_id=group,
        topics=[topics.APPLICATION],
        handler=on_application_event,
        service="fee",
        max_attempts=2,
        retry_backoff_s=0.05,
        event_types=assess.EVENT_TYPES,
    )
    relay = OutboxRelay(dsn, as_fee, "fee", poll_interval_s=0.1)
    consumer.start()
    relay.start()
    reader = AIOKafkaConsumer(topics.FEE, **kafka_options, group_id=None, auto_offset_reset="earliest")
    try:
        event = submitted()
        env = envelope(event)
        producer = AIOKafkaProducer(**kafka_options)
        await producer.start()
        try:
            key, value, headers = env.to_kafka()
            await producer.send_and_wait(topics.APPLICATION, value=value, key=key, headers=headers)
        finally:
            await producer.stop()
        await reader.start()
        async with asyncio.timeout(30):
            async for record in reader:
                got = Envelope.from_kafka(record.key, record.value, list(record.headers or ()))
                if got.subject == event.application_id:
                    break
        assert got.type == "kz.civreg.fee.assessed.v1"
        assert got.causation_id == env.id
        assert got.data["payable"] is False
        assert got.data["amount_tiyn"] == 0
    finally:
        await reader.stop()
        await relay.stop()
        await consumer.stop()
