"""The consumer's partition batches on real PostgreSQL and Kafka (ADR 0041, issue 13): one transaction per batch with
savepoints only after a failure (units of work joining its transaction), records of other groups' types passed over unread, offsets committed at most every interval
and always on stop and rebalance, the dead-letter producer started only for a dead letter."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition

from btkernel import db
from btkernel.consumer import IdempotentConsumer
from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from btkernel.events import upcast
from btkernel.health import KafkaOffsets
from btkernel.unit_of_work import PgUnitOfWork

pytestmark = pytest.mark.integration

TICK = "kz.civreg.test.tick.v1"
OTHER = "kz.civreg.test.other.v1"
OLD_TICK = "kz.civreg.test.tick.v0"


@dataclass
class _Record:
    """What the consumer reads of a Kafka record, for batches handed to it directly (no fetch timing involved)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def _env(n: int, type: str = TICK, subject: str = "agg") -> Envelope:
    return Envelope.new(
        type=type, source="/test", subject=subject, data={"n": n}, correlation_id="corr", causation_id=None
    )


def _records(topic: str, envs: list[Envelope]) -> list[_Record]:
    out = []
    for offset, env in enumerate(envs):
        key, value, headers = env.to_kafka()
        out.append(_Record(topic, 0, offset, key, value, headers))
    return out


class _Seen:
    """A handler writing `ok(n, tx)` and counting its calls; `poison` fails for good, `flaky` fails transiently."""

    def __init__(self, poison: frozenset[int] = frozenset(), flaky: dict[int, int] | None = None) -> None:
        self.calls: dict[int, int] = {}
        self.poison = poison
        self.flaky = dict(flaky or {})

    async def __call__(self, conn: asyncpg.Connection, env: Envelope, ctx: RequestContext) -> None:
        n = env.data["n"]
        self.calls[n] = self.calls.get(n, 0) + 1
        await conn.execute("INSERT INTO ok VALUES ($1, txid_current())", n)
        if n in self.poison:
            raise ValueError(f"event {n} breaks a rule")
        if self.flaky.get(n, 0) > 0:
            self.flaky[n] -= 1
            raise ConnectionResetError("database restarting")


@pytest.fixture
async def pool(kernel_db: tuple[str, asyncpg.Pool]) -> asyncpg.Pool:
    _, pool = kernel_db
    await pool.execute("CREATE TABLE ok (n int, tx bigint)")
    return pool


def _consumer(
    pool: asyncpg.Pool, kafka: dict[str, Any], topic: str, handler: Any, **kw: Any
) -> IdempotentConsumer:
    options: dict[str, Any] = {"max_attempts": 3, "retry_backoff_s": 0.01, **kw}
    # A group of its own per test (per topic): groups, and their committed offsets, outlive a test on the broker.
    return IdempotentConsumer(
        pool=pool,
        kafka=kafka,
        group_id=f"g-{topic}",
        topics=[topic],
        handler=handler,
        service="test",
        **options,
    )


async def _logged_pool(dsn: str, statements: list[str]) -> asyncpg.Pool:
    """A pool of one connection whose every statement is appended to `statements`."""
    one = await db.create_pool(dsn, min_size=1, max_size=1)
    async with one.acquire() as conn:
        conn.add_query_logger(lambda r: statements.append(r.query))
    return one


async def _applied(pool: asyncpg.Pool) -> list[int]:
    return sorted(r["n"] for r in await pool.fetch("SELECT n FROM ok"))


async def test_a_poison_event_mid_batch_is_dead_lettered_and_the_others_applied_once_in_one_transaction(
    pool: asyncpg.Pool, kafka_options: dict[str, Any], topic: str, read_all: Callable[..., Any]
) -> None:
    handler = _Seen(poison=frozenset({4}))
    # No time bound here (starting the dead-letter producer takes a while): the batch is the seven events.
    consumer = _consumer(pool, kafka_options, topic, handler, batch_max_s=60)
    try:
        await consumer._apply_records(_records(topic, [_env(n) for n in range(1, 8)]))
    finally:
        if consumer._producer is not None:
            await consumer._producer.stop()
    assert await _applied(pool) == [1, 2, 3, 5, 6, 7]
    # One transaction for the batch: the poison's savepoint was rolled back, the others' writes kept.
    assert await pool.fetchval("SELECT count(DISTINCT tx) FROM ok") == 1
    assert handler.calls[4] == 3
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 6
    dead = await read_all(kafka_options, topic + ".dlq", 1)
    assert len(dead) == 1
    assert Envelope.from_kafka(dead[0].key, dead[0].value, list(dead[0].headers)).data == {"n": 4}
    assert dict(dead[0].headers)["x-dlq-error"] == b"event 4 breaks a rule"


async def test_a_transient_failure_mid_batch_rolls_the_batch_back_and_each_event_is_applied_once(
    pool: asyncpg.Pool, kafka_options: dict[str, Any], topic: str, read_all: Callable[..., Any]
) -> None:
    handler = _Seen(flaky={5: 1})
    consumer = _consumer(pool, kafka_options, topic, handler, batch_max_s=60)
    await consumer._apply_records(_records(topic, [_env(n) for n in range(1, 8)]))
    assert await _applied(pool) == list(range(1, 8))
    # The events before the failure were applied twice, the first time rolled back with the batch.
    assert [handler.calls[n] for n in range(1, 8)] == [2, 2, 2, 2, 2, 1, 1]
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 7
    assert consumer._producer is None  # no dead letter, no producer
    assert await read_all(kafka_options, topic + ".dlq", 1, timeout_s=2) == []


async def test_an_event_another_member_recorded_before_is_not_applied_twice(
    pool: asyncpg.Pool, kafka_options: dict[str, Any], topic: str
) -> None:
    envs = [_env(n) for n in range(1, 6)]
    handler = _Seen()
    # A member the partition moved from (a rebalance) applied and recorded event 3 before its offset was committed.
    await pool.execute(
        "INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset)"
        " VALUES ($1, $2, $3, 0, 2)",
        f"g-{topic}",
        envs[2].id,
        topic,
    )
    consumer = _consumer(pool, kafka_options, topic, handler, batch_max_s=60)
    await consumer._apply_records(_records(topic, envs))
    assert await _applied(pool) == [1, 2, 4, 5]
    assert handler.calls == {1: 1, 2: 1, 4: 1, 5: 1}
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 5


async def test_an_event_another_member_is_applying_waits_for_it_and_is_not_applied_twice(
    pool: asyncpg.Pool, kafka_options: dict[str, Any], topic: str
) -> None:
    envs = [_env(n) for n in range(1, 6)]
    handler = _Seen()
    consumer = _consumer(pool, kafka_options, topic, handler, batch_max_s=60)
    async with pool.acquire() as other:
        # The other member is applying event 3 (a rebalance overlapping): recorded, not committed yet.
        tx = other.transaction()
        await tx.start()
        await other.execute(
            "INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset)"
            " VALUES ($1, $2, $3, 0, 2)",
            f"g-{topic}",
            envs[2].id,
            topic,
        )
        applying = asyncio.create_task(consumer._apply_records(_records(topic, envs)))
        await asyncio.sleep(0.5)
        # This batch records its events first: it waits for the other's transaction, applying nothing meanwhile.
        assert not applying.done()
        assert handler.calls == {}
        await tx.commit()
        await asyncio.wait_for(applying, timeout=10)
    assert await _applied(pool) == [1, 2, 4, 5]
    assert handler.calls == {1: 1, 2: 1, 4: 1, 5: 1}
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 5


async def test_a_batch_without_failures_takes_no_savepoint_and_a_failure_redoes_it_with_them(
    kernel_db: tuple[str, asyncpg.Pool],
    pool: asyncpg.Pool,
    kafka_options: dict[str, Any],
    topic: str,
    read_all: Callable[..., Any],
) -> None:
    statements: list[str] = []
    one = await _logged_pool(kernel_db[0], statements)
    handler = _Seen(poison=frozenset({3}))
    consumer = _consumer(one, kafka_options, topic, handler, batch_max_s=60, max_attempts=1)
    try:
        await consumer._apply_records(_records(topic, [_env(n) for n in (1, 2)]))
        clean = list(statements)
        statements.clear()
        await consumer._apply_records(_records(topic, [_env(n) for n in (3, 4)]))
    finally:
        if consumer._producer is not None:
            await consumer._producer.stop()
        await one.close()
    # Two events in one transaction: their record, the two handlers' INSERTs, and no savepoint.
    assert not [q for q in clean if "SAVEPOINT" in q]
    assert sum(1 for q in clean if q.startswith("INSERT INTO ok")) == 2
    assert sum(1 for q in clean if "processed_events" in q) == 1
    # Event 3 failed: the batch was rolled back and done again, each event in a savepoint.
    assert "ROLLBACK;" in statements
    dead = await read_all(kafka_options, topic + ".dlq", 1)
    assert [q for q in statements if "SAVEPOINT" in q]
    assert await _applied(pool) == [1, 2, 4]
    # One attempt in all (max_attempts=1): the one without a savepoint counts.
    assert handler.calls == {1: 1, 2: 1, 3: 1, 4: 1}
    assert dict(dead[0].headers)["x-dlq-error"] == b"event 3 breaks a rule"
    # The dead letter is not recorded as processed: a replay of the dead-letter topic would apply it.
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 3


class _InUnitsOfWork:
    """A handler writing `ok(n, tx)` in a unit of work on the batch's connection, as the services' handlers do;
    for the events in `undone` it writes, then leaves the unit of work without committing (a refusal it catches)."""

    def __init__(self, undone: frozenset[int] = frozenset()) -> None:
        self.calls: dict[int, int] = {}
        self.undone = undone

    async def __call__(self, conn: asyncpg.Connection, env: Envelope, ctx: RequestContext) -> None:
        n = env.data["n"]
        self.calls[n] = self.calls.get(n, 0) + 1
        with contextlib.suppress(ValueError):
            async with PgUnitOfWork.on(conn) as uow:
                await uow.conn.execute("INSERT INTO ok VALUES ($1, txid_current())", n)
                if n in self.undone:
                    raise ValueError("refused")
                await uow.commit()


async def test_a_unit_of_work_joins_the_batch_and_one_left_uncommitted_is_undone_by_a_redo(
    kernel_db: tuple[str, asyncpg.Pool], pool: asyncpg.Pool, kafka_options: dict[str, Any], topic: str
) -> None:
    statements: list[str] = []
    one = await _logged_pool(kernel_db[0], statements)
    handler = _InUnitsOfWork(undone=frozenset({5}))
    consumer = _consumer(one, kafka_options, topic, handler, batch_max_s=60, max_attempts=1)
    try:
        await consumer._apply_records(_records(topic, [_env(n) for n in (1, 2, 3)]))
        clean = list(statements)
        statements.clear()
        await consumer._apply_records(_records(topic, [_env(n) for n in (4, 5, 6)]))
    finally:
        await one.close()
    # The units of work joined the batch's transaction: no savepoint of their own.
    assert not [q for q in clean if "SAVEPOINT" in q]
    assert await pool.fetchval("SELECT count(DISTINCT tx) FROM ok WHERE n <= 3") == 1
    # Event 5's unit of work wrote and was left: its write is not kept, though the handler went on without error;
    # the batch was done again with savepoints, where the unit of work undid it itself. Nothing was dead-lettered:
    # leaving a unit of work is not a failure, and 5 is recorded as processed like the others.
    assert "ROLLBACK;" in statements
    assert [q for q in statements if "SAVEPOINT" in q]
    assert await _applied(pool) == [1, 2, 3, 4, 6]
    assert handler.calls == {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 1}
    assert consumer._producer is None
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 6


async def test_a_batch_is_bounded_and_redelivery_is_a_no_op(
    pool: asyncpg.Pool, kafka_options: dict[str, Any], topic: str
) -> None:
    handler = _Seen()
    consumer = _consumer(pool, kafka_options, topic, handler, batch_max_events=3, batch_max_s=60)
    records = _records(topic, [_env(n) for n in range(1, 8)])
    await consumer._apply_records(records)
    # 3 + 3 + 1 events, one transaction each.
    assert await pool.fetchval("SELECT count(DISTINCT tx) FROM ok") == 3
    # Delivered again, as after a crash before the offsets were committed.
    await consumer._apply_records(records)
    assert await _applied(pool) == list(range(1, 8))
    # Each event is kept as received, where it came from: the history a rebuild replays (ADR 0027).
    kept = await pool.fetch("SELECT envelope, kafka_offset FROM processed_events ORDER BY kafka_offset")
    assert [r["kafka_offset"] for r in kept] == list(range(7))
    assert [Envelope.from_json(r["envelope"]) for r in kept] == [
        Envelope.from_kafka(r.key, r.value, r.headers) for r in records
    ]


@pytest.fixture
def old_tick() -> Iterator[None]:
    upcast.register(OLD_TICK, TICK, lambda data: {"n": data["old_n"]})
    yield
    upcast.unregister(OLD_TICK)


async def test_a_record_of_another_groups_type_is_skipped_unread_and_an_old_version_is_applied(
    pool: asyncpg.Pool,
    kafka_options: dict[str, Any],
    topic: str,
    old_tick: None,
    read_all: Callable[..., Any],
) -> None:
    handler = _Seen()
    consumer = _consumer(pool, kafka_options, topic, handler, event_types=[TICK])
    records = _records(
        topic,
        [
            _env(1),
            _env(2, type=OTHER),
            Envelope.new(
                type=OLD_TICK,
                source="/t",
                subject="agg",
                data={"old_n": 3},
                correlation_id=None,
                causation_id=None,
            ),
            _env(4, type=OTHER),
        ],
    )
    # Bodies no one can read: the other group's records are passed over by their type header alone.
    records[1].value = b"\xff not json"
    records[3].value = b""
    await consumer._apply_records(records)
    assert await _applied(pool) == [1, 3]
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 2
    assert consumer._producer is None
    # The same unreadable body under this group's own type is a dead letter: the skip above was the header's.
    mine = _records(topic, [_env(5)])[0]
    mine.offset, mine.value = 9, b"\xff not json"
    await consumer._apply_records([mine])
    if consumer._producer is not None:
        await consumer._producer.stop()
    dead = await read_all(kafka_options, topic + ".dlq", 1)
    assert [d.value for d in dead] == [b"\xff not json"]
    assert dict(dead[0].headers)["x-dlq-attempts"] == b"1"


async def _publish(kafka: dict[str, Any], topic: str, envs: list[Envelope]) -> None:
    producer = AIOKafkaProducer(**kafka, enable_idempotence=True)
    await producer.start()
    try:
        for env in envs:
            key, value, headers = env.to_kafka()
            await producer.send_and_wait(topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def _until(predicate: Callable[[], Any], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def _committed(offsets: KafkaOffsets, topic: str) -> int:
    return sum((await offsets.committed(f"g-{topic}")).values())


async def test_offsets_wait_for_the_interval_and_are_committed_on_stop(
    pool: asyncpg.Pool, kafka_options: dict[str, Any], topic: str
) -> None:
    await _publish(kafka_options, topic, [_env(n, subject=f"s{n}") for n in range(6)])
    consumer = _consumer(pool, kafka_options, topic, _Seen(), commit_interval_s=3600)
    offsets = KafkaOffsets(kafka_options, 10)
    consumer.start()
    try:
        await _until(lambda: _count(pool, 6))
        await asyncio.sleep(1.5)  # several rounds of the loop: none commits before the interval
        assert await _committed(offsets, topic) == 0
        assert consumer._producer is None
        await consumer.stop()
        assert await _committed(offsets, topic) == 6
    finally:
        await consumer.stop()
        await offsets.close()


async def test_a_rebalance_commits_the_partitions_it_takes_away(
    pool: asyncpg.Pool, kafka_options: dict[str, Any], topic: str
) -> None:
    await _publish(kafka_options, topic, [_env(n, subject=f"s{n}") for n in range(9)])
    first = _consumer(pool, kafka_options, topic, _Seen(), commit_interval_s=3600)
    second = _consumer(pool, kafka_options, topic, _Seen(), commit_interval_s=3600)
    offsets = KafkaOffsets(kafka_options, 10)
    first.start()
    try:
        await _until(lambda: _count(pool, 9))
        assert await _committed(offsets, topic) == 0
        second.start()  # the group rebalances: `first` gives partitions up, committing what it applied of them
        await _until(lambda: _positive(offsets, topic), timeout_s=60)
        committed = await offsets.committed(f"g-{topic}")
        ends = await offsets.end_offsets([topic])
        assert committed
        assert all(committed[tp] == ends[tp] for tp in committed)
        assert set(committed) <= {TopicPartition(topic, p) for p in range(3)}
    finally:
        await second.stop()
        await first.stop()
        await offsets.close()
    assert await pool.fetchval("SELECT count(*) FROM ok") == 9


async def _positive(offsets: KafkaOffsets, topic: str) -> bool:
    return await _committed(offsets, topic) > 0


async def _count(pool: asyncpg.Pool, n: int) -> bool:
    return bool(await pool.fetchval("SELECT count(*) >= $1 FROM processed_events", n))
