"""One event never blocks the others (ADR 0009), on real PostgreSQL and Kafka: an event no broker would take is
refused before commit; a row that fails anyway is parked, holding back only its own subject; transient errors
are retried for ever; an operator releases or discards a parked row without SQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import errors as kafka_errors

from btkernel import db, metrics, outbox
from btkernel.envelope import Envelope

pytestmark = pytest.mark.integration

BIG = "ж" * 600_000  # 1.2 MB of UTF-8, the birth_place


def _env(subject: str, n: int, **data: Any) -> Envelope:
    return Envelope.new(
        type="kz.civreg.test.tick.v1",
        source="/test",
        subject=subject,
        data={"n": n, **data},
        correlation_id="c",
        causation_id=None,
    )


async def _insert_raw(conn: asyncpg.Connection, topic: str, event_id: str, envelope: dict[str, Any]) -> int:
    """What a row written before the check existed (or by hand) looks like: no check at all."""
    row_id: int = await conn.fetchval(
        "INSERT INTO outbox (topic, event_id, envelope) VALUES ($1, $2, $3) RETURNING id",
        topic,
        event_id,
        envelope,
    )
    return row_id


async def test_enqueue_refuses_what_no_broker_would_take_and_nothing_is_committed(
    kernel_db: tuple[str, asyncpg.Pool], topic: str
) -> None:
    _, pool = kernel_db
    async with pool.acquire() as conn:
        # PT012: the whole transaction, a state change then the refused event, is what must raise.
        with pytest.raises(outbox.EventTooLarge) as too_large:  # noqa: PT012
            async with conn.transaction():
                await conn.execute("CREATE TABLE applications (id text)")
                await conn.execute("INSERT INTO applications VALUES ('a-1')")
                await outbox.enqueue(conn, topic, _env("a-1", 1, birth_place=BIG))
        assert too_large.value.status == 413
        assert too_large.value.errors[0]["path"] == "body"
        assert too_large.value.extra["limit"] == 900_000  # BT_MAX_EVENT_BYTES' default
        with pytest.raises(outbox.Unpublishable) as not_encodable:
            async with conn.transaction():
                await outbox.enqueue(conn, topic, _env("a-2", 1, when=object()))
        assert not_encodable.value.status == 422
        assert not_encodable.value.code == "event_not_encodable"
        # The state change of the refused request rolled back with it.
        assert await conn.fetchval("SELECT to_regclass('applications')") is None
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
        # An event just under a limit passes; the limit is a parameter for services that set it lower.
        await outbox.enqueue(conn, topic, _env("a-3", 1, text="x" * 1000), limit=2000)
        with pytest.raises(outbox.EventTooLarge):
            await outbox.enqueue(conn, topic, _env("a-4", 1, text="x" * 2000), limit=2000)


async def test_a_parked_row_holds_back_its_subject_only_until_released_or_discarded(
    kernel_db: tuple[str, asyncpg.Pool],
    kafka_options: dict[str, Any],
    topic: str,
    read_all: Callable[..., Any],
) -> None:
    dsn, pool = kernel_db
    too_big, after_big = _env("agg-big", 1, birth_place=BIG), _env("agg-big", 2)
    broken, after_broken = _env("agg-broken", 1), _env("agg-broken", 2)
    others = [_env(f"agg-{i}", 1) for i in range(5)]
    async with pool.acquire() as conn:
        big_id = await _insert_raw(conn, topic, too_big.id, too_big.to_json())
        await outbox.enqueue(conn, topic, after_big)
        await outbox.enqueue(conn, topic, others[0])
        bad = {**broken.to_json(), "time": "not a time"}  # cannot be decoded into an envelope
        broken_id = await _insert_raw(conn, topic, broken.id, bad)
        await outbox.enqueue(conn, topic, after_broken)
        for env in others[1:]:
            await outbox.enqueue(conn, topic, env)

    # A relay whose own limit is above the producer's 1 MiB: the oversized row reaches the send and is refused
    # there (MessageSizeTooLargeError), as a broker refusal would be; the broken row fails the relay's re-check.
    relay = outbox.OutboxRelay(dsn, kafka_options, "parking-test", max_event_bytes=5_000_000)
    producer = outbox.make_producer(kafka_options, outbox.relay_transactional_id("test", uuid.uuid4().hex))
    await producer.start()
    relay_conn = await db.connect(dsn)
    try:
        assert await relay.publish_pending(relay_conn, producer) == 5
        assert await relay.publish_pending(relay_conn, producer) == 0  # the waiting rows stay waiting
        rows = {r["id"]: r for r in await relay_conn.fetch("SELECT * FROM outbox ORDER BY id")}
        assert rows[big_id]["parked_at"] is not None
        assert rows[big_id]["last_error"].startswith("MessageSizeTooLargeError")
        assert rows[broken_id]["parked_at"] is not None
        assert "ValueError" in rows[broken_id]["last_error"]
        waiting = {
            r["event_id"] for r in rows.values() if r["published_at"] is None and r["parked_at"] is None
        }
        assert {str(e) for e in waiting} == {after_big.id, after_broken.id}
        assert metrics.OUTBOX_PARKED.labels("parking-test")._value.get() == 2
        listed = await outbox.parked(relay_conn)
        assert [(p["id"], p["subject"], p["waiting"]) for p in listed] == [
            (big_id, "agg-big", 1),
            (broken_id, "agg-broken", 1),
        ]

        # Released without a fix, the row is parked again and its follower still waits: nothing jumps the queue.
        assert await outbox.release(relay_conn, big_id)
        assert await relay.publish_pending(relay_conn, producer) == 0
        assert await relay_conn.fetchval("SELECT parked_at IS NOT NULL FROM outbox WHERE id = $1", big_id)

        # Discarded from the command line (no SQL), the follower flows; the discarded event keeps who and why.
        cli = [sys.executable, "-m", "btkernel.outbox", "--dsn", dsn]
        done = await _run(
            [*cli, "discard", str(big_id), "--by", "ops1", "--reason", "1.2 MB birth place, re-entered"]
        )
        assert done.returncode == 0, done.stderr
        assert await outbox.discard(relay_conn, broken_id, by="ops1", reason="corrupt row")
        assert not await outbox.discard(relay_conn, broken_id, by="ops1", reason="twice")  # gone already
        assert await relay.publish_pending(relay_conn, producer) == 2
        kept = await relay_conn.fetch("SELECT id, discarded_by, reason FROM outbox_discarded ORDER BY id")
        assert [(k["id"], k["discarded_by"]) for k in kept] == [(big_id, "ops1"), (broken_id, "ops1")]
        assert await relay_conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        listing = await _run([*cli, "list"])
        assert listing.returncode == 0
        assert listing.stdout == ""
    finally:
        await producer.stop()
        await relay_conn.close()

    records = await read_all(kafka_options, topic, 7)
    published = [Envelope.from_kafka(r.key, r.value, list(r.headers)) for r in records]
    assert sorted(e.id for e in published) == sorted([*(e.id for e in others), after_big.id, after_broken.id])


async def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, check=False)


class _FailingProducer:
    """Stands in for the producer: every send fails with `error`."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.sends = 0

    async def begin_transaction(self) -> None:
        pass

    async def abort_transaction(self) -> None:
        pass

    async def send(self, *args: Any, **kwargs: Any) -> Any:
        self.sends += 1
        raise self.error


async def test_transient_errors_are_retried_for_ever_and_unknown_ones_park_after_the_attempts(
    kernel_db: tuple[str, asyncpg.Pool], topic: str
) -> None:
    dsn, pool = kernel_db
    async with pool.acquire() as conn:
        await outbox.enqueue(conn, topic, _env("agg-1", 1))
        await outbox.enqueue(conn, topic, _env("agg-2", 1))
    relay = outbox.OutboxRelay(dsn, "unused:9", "parking-test", max_attempts=3)
    conn = await db.connect(dsn)
    try:
        away = _FailingProducer(kafka_errors.KafkaConnectionError("broker away"))
        for _ in range(10):
            with pytest.raises(kafka_errors.KafkaConnectionError):
                await relay.publish_pending(conn, away)
        assert (
            await conn.fetchval("SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL OR attempts > 0")
            == 0
        )

        odd = _FailingProducer(RuntimeError("something nobody foresaw"))
        for _ in range(2):
            with pytest.raises(RuntimeError):
                await relay.publish_pending(conn, odd)
        assert await conn.fetchval("SELECT attempts FROM outbox ORDER BY id LIMIT 1") == 2
        # The third failure parks the first row; the round goes on and the second row uses its first attempt.
        with pytest.raises(RuntimeError):
            await relay.publish_pending(conn, odd)
        rows = await conn.fetch("SELECT parked_at, attempts, last_error FROM outbox ORDER BY id")
        assert rows[0]["parked_at"] is not None
        assert rows[0]["attempts"] == 3
        assert rows[0]["last_error"] == "RuntimeError: something nobody foresaw"
        assert rows[1]["parked_at"] is None
        assert rows[1]["attempts"] == 1
    finally:
        await conn.close()


def test_errors_are_told_apart() -> None:
    assert outbox.classify(kafka_errors.MessageSizeTooLargeError()) == "record"
    assert outbox.classify(kafka_errors.RecordTooLargeError()) == "record"
    assert outbox.classify(kafka_errors.KafkaConnectionError()) == "transient"
    assert outbox.classify(kafka_errors.KafkaTimeoutError()) == "transient"
    assert outbox.classify(kafka_errors.NotLeaderForPartitionError()) == "transient"  # retriable
    assert outbox.classify(ConnectionRefusedError()) == "transient"
    assert outbox.classify(RuntimeError()) == "unknown"
