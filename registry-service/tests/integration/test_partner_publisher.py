"""A partner feed on real Kafka and PostgreSQL, on topics of its own: signed events in transactions, an aborted
transaction invisible and redone once, a re-publication that truncates and publishes the same ids again."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from btkernel import db, signing
from btkernel.envelope import Envelope
from btkernel.testing import serve
from civreg import partners
from civreg.events.record import BirthRegistered
from registry.adapters.partner_feeds import PgFeedStore
from registry.adapters.partner_kafka import KafkaPartnerLog
from registry.app.partner_feed import Batch, OutputRecord, PartnerFeed
from registry.main import build_app
from registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
KEY = Ed25519PrivateKey.generate()
KEYS = {signing.key_id(KEY.public_key()): KEY.public_key()}
STATISTICS = partners.by_agency("kz-statistics")
assert STATISTICS is not None


@pytest.fixture
async def pool(make_database: Any) -> AsyncIterator[asyncpg.Pool]:
    dsn = await make_database("partners")
    pool = await db.create_pool(dsn, max_size=4)
    await db.migrate(pool, "registry.migrations")
    yield pool
    await pool.close()


def _birth(record_id: str) -> Envelope:
    data = {
        "record_id": record_id,
        "record_number": f"almaty-almaly/birth/2026/{record_id}",
        "registry_office_id": "almaty-almaly",
        "registered_at": AT.isoformat(),
        "case_id": "c-1",
        "child_name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан"},
        "child_sex": "male",
        "child_birth_date": "2026-02-20",
        "child_birth_place": "Алматы",
        "child_iin": "260220500012",
    }
    return Envelope(
        id=str(uuid.uuid4()),
        type=BirthRegistered.TYPE,
        source="/registry",
        subject=record_id,
        time=AT,
        data=data,
    )


async def _produce(kafka: dict[str, Any], topic: str, envelopes: Sequence[Envelope]) -> None:
    producer = AIOKafkaProducer(**kafka, acks="all")
    await producer.start()
    try:
        for env in envelopes:
            key, value, headers = env.to_kafka()
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def _read_committed(kafka: dict[str, Any], topic: str, partitions: int = 3) -> list[dict[str, Any]]:
    """Everything an agency reading with read_committed sees in `topic`, from its beginning."""
    # earliest: a read racing a truncation (re-publication) that finds its offset gone starts again at the new
    # beginning instead of jumping to the end and missing what was re-published.
    consumer = AIOKafkaConsumer(
        **kafka, group_id=None, isolation_level="read_committed", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[dict[str, Any]] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(json.loads(r.value) for r in records)
        return out
    finally:
        await consumer.stop()


class _Topics:
    def __init__(self, make_topic: Any) -> None:
        self.source = make_topic("civreg.record.test", partitions=6, dead_letters=False)
        self.target = make_topic("partner.test", partitions=3, dead_letters=False)
        self.group = f"registry.partners.test-{uuid.uuid4().hex[:8]}"


def _log(kafka: dict[str, Any], t: _Topics, cls: type[KafkaPartnerLog] = KafkaPartnerLog) -> KafkaPartnerLog:
    return cls(kafka, STATISTICS, source_topic=t.source, topic=t.target, group=t.group, txn_id=t.group)


async def _publish_all(feed: PartnerFeed, expected: int) -> None:
    for _ in range(40):
        if feed.published >= expected:
            return
        await feed.step()
    raise AssertionError(f"published {feed.published} of {expected}")


class _CrashingLog(KafkaPartnerLog):
    """Sends the batch's events inside the transaction, then dies before committing it."""

    async def publish(self, outputs: Sequence[OutputRecord], batch: Batch) -> None:
        async with self.producer.transaction():
            for o in outputs:
                await (
                    await self.producer.send(self.topic, value=o.value, key=o.key, headers=list(o.headers))
                )
            raise ConnectionError("the process dies mid-transaction")


async def test_a_feed_publishes_once_survives_an_aborted_batch_and_republishes_the_same_ids(
    pool: asyncpg.Pool, kafka_options: dict[str, Any], make_topic: Any
) -> None:
    t = _Topics(make_topic)
    store = PgFeedStore(pool)
    await _produce(kafka_options, t.source, [_birth(f"r-{i}") for i in range(5)])

    first = _log(kafka_options, t)
    await first.start()
    try:
        feed = PartnerFeed(STATISTICS, store, first, KEY, request_poll_s=0.0)
        await feed.prepare()
        await _publish_all(feed, 5)
    finally:
        await first.stop()
    published = await _read_committed(kafka_options, t.target)
    assert sorted(e["subject"] for e in published) == [f"r-{i}" for i in range(5)]
    for event in published:
        signing.verify(event, KEYS)
        assert "260220500012" not in json.dumps(event, ensure_ascii=False)
    state = await store.state(STATISTICS.agency)
    assert state is not None
    assert state.published_digest == STATISTICS.digest()

    # Two more events; the first attempt dies inside its transaction, the restarted feed publishes them once.
    await _produce(kafka_options, t.source, [_birth("r-5"), _birth("r-6")])
    crashing = _log(kafka_options, t, _CrashingLog)
    await crashing.start()
    try:
        feed = PartnerFeed(STATISTICS, store, crashing, KEY, request_poll_s=3600)
        await feed.prepare()
        with pytest.raises(ConnectionError):
            await _publish_all(feed, 2)
    finally:
        await crashing.stop()
    assert len(await _read_committed(kafka_options, t.target)) == 5, "an aborted transaction is invisible"
    again = _log(kafka_options, t)
    await again.start()
    try:
        feed = PartnerFeed(STATISTICS, store, again, KEY, request_poll_s=3600)
        await feed.prepare()
        await _publish_all(feed, 2)
    finally:
        await again.stop()
    after_crash = await _read_committed(kafka_options, t.target)
    ids = [e["id"] for e in after_crash]
    assert len(ids) == len(set(ids)) == 7

    # An operator asks: the topic is truncated and the same events, with the same ids, are there once each.
    await store.request_republish(STATISTICS.agency, "test")
    republishing = _log(kafka_options, t)
    await republishing.start()
    try:
        feed = PartnerFeed(STATISTICS, store, republishing, KEY, request_poll_s=3600)
        await feed.prepare()
        await _publish_all(feed, 7)
    finally:
        await republishing.stop()
    republished = await _read_committed(kafka_options, t.target)
    assert sorted(e["id"] for e in republished) == sorted(ids)
    state = await store.state(STATISTICS.agency)
    assert state is not None
    assert state.republish_requested_at is None


class _NoStaff:
    async def member(self, username: str) -> None:
        return None


def _settings(dsn: str, **overrides: Any) -> RegistrySettings:
    # Consumers on (the publisher runs with them), on a broker that is not there: nothing is consumed from the
    # session's Kafka, whose topics other tests' registries read under the same group names.
    return RegistrySettings(
        database_url=dsn,
        kafka_bootstrap="127.0.0.1:1",
        relay_enabled=False,
        consumers_enabled=True,
        scheduler_enabled=False,
        **overrides,
    )


async def test_without_a_signing_key_the_publisher_does_not_run_and_health_says_so(
    make_database: Any,
) -> None:
    settings = _settings(await make_database("partners_nokey"))
    async with serve(lambda: build_app(settings, staff=_NoStaff())) as client:
        body = (await client.get("/health")).json()
    assert body["checks"]["partner_feeds"].startswith("degraded")
    assert "BT_PARTNER_SIGNING_KEY_FILE" in body["checks"]["partner_feeds"]


async def test_a_production_registry_without_a_signing_key_does_not_start(make_database: Any) -> None:
    settings = _settings(await make_database("partners_prod"), env="production", migrate_on_start=True)
    with pytest.raises(RuntimeError, match="BT_PARTNER_SIGNING_KEY_FILE"):
        async with serve(lambda: build_app(settings, staff=_NoStaff())):
            pass


async def test_with_a_signing_key_the_publisher_runs_and_health_reports_its_feeds(
    make_database: Any, tmp_path: Path
) -> None:
    key_file = tmp_path / "partner-signing.pem"
    signing.new_key_file(key_file)
    settings = _settings(await make_database("partners_key"), partner_signing_key_file=str(key_file))
    app = build_app(settings, staff=_NoStaff())
    async with serve(lambda: app) as client:
        publisher = app.state.runtime.extras["partner_publisher"]
        assert {loop.name for loop in publisher.loops} == {
            f"partner-feed-{c.agency}" for c in partners.all_contracts()
        }
        assert all(loop.running for loop in publisher.loops)
        body = (await client.get("/health")).json()
    assert "partner_feeds" in body["checks"]
