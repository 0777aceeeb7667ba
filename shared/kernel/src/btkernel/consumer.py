"""Idempotent Kafka consumer: each event is applied once, in the transaction that records it as processed.

Offsets are committed only after the transaction, so a crash means redelivery, never loss; redelivered events
are recognised by their CloudEvents id and skipped. A failing event is retried a bounded number of times, then
sent to the topic's dead-letter topic with the error in headers, so one bad event cannot stall a partition.

The records of a partition batch are applied in one transaction, recorded as processed by its first statement;
savepoints, one per event, are taken only when the batch is done again after an event failed (until then a handler's
unit of work joins the batch's transaction, `unit_of_work.joining`); records of types the
group does not act on are passed over by their type header, unread; offsets are committed at most every
`commit_interval_s` and on stop and rebalance (docs/adr/0041-consumers-apply-batches.md, issue 13).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
import traceback
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import Any

import asyncpg
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import CommitFailedError, IllegalStateError

from btkernel import context, metrics, topics, tracing, unit_of_work
from btkernel import logging as btlog
from btkernel.context import Actor, RequestContext
from btkernel.envelope import Envelope, kafka_type
from btkernel.events.upcast import UPCASTERS, upcast
from btkernel.eventstore import ConcurrencyConflict
from btkernel.kafka_client import KafkaOptions
from btkernel.loops import Loop
from btkernel.outbox import make_producer

log = btlog.get(__name__)

Handler = Callable[[asyncpg.Connection, Envelope, RequestContext], Awaitable[None]]

# Failures of the surroundings, not of the event: retried without end (by restarting), never dead-lettered.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # asyncpg's word for a session the server ended mid-transaction (MagicStack/asyncpg#1069).
    asyncpg.InternalClientError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    ConcurrencyConflict,
)


def upcast_envelope(envelope: Envelope) -> Envelope:
    """The envelope with its type and data in the newest version (`btkernel.events.upcast`)."""
    type_name, data = upcast(envelope.type, envelope.data)
    if type_name == envelope.type:
        return envelope
    return dataclasses.replace(envelope, type=type_name, data=data)


def newest_type(type_name: str) -> str:
    """The type an event written as `type_name` is read as: where its upcasters lead (the data is not needed to
    know that, so a record's type header decides whether a group acts on it before its body is read)."""
    while (upcaster := UPCASTERS.get(type_name)) is not None:
        type_name = upcaster.target
    return type_name


class InfrastructureUnavailable(RuntimeError):
    """Raised out of the consume loop so the consumer restarts from its committed offset."""


class _Transient(Exception):
    """A failure of the surroundings inside a batch's transaction: the whole batch is rolled back and tried again."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(repr(error))
        self.error = error


class IdempotentConsumer:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        kafka: KafkaOptions,
        group_id: str,
        topics: Iterable[str],
        handler: Handler,
        service: str,
        max_attempts: int = 5,
        retry_backoff_s: float = 0.2,
        event_types: Iterable[str] | None = None,
        # ≤ 64 subtransactions open per backend (each event a savepoint, its unit of work another): ADR 0041.
        batch_max_events: int = 30,
        batch_max_s: float = 0.5,
        commit_interval_s: float = 1.0,
        commit_max_events: int = 2000,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        self.pool = pool
        self.kafka = kafka
        self.group_id = group_id
        self.topics = list(topics)
        self.handler = handler
        self.service = service
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        # Types this consumer acts on; others are skipped without touching the database.
        self.event_types = set(event_types) if event_types is not None else None
        # One transaction holds at most this many events, or this much work: its locks are held until it commits.
        self.batch_max_events = batch_max_events
        self.batch_max_s = batch_max_s
        # Offsets are committed this often, or after this many records, and always on stop and rebalance: a crash
        # redelivers what was applied since, and processed_events turns it into no-ops (ADR 0041).
        self.commit_interval_s = commit_interval_s
        self.commit_max_events = commit_max_events
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        # Next offset to commit per partition: every record before it was applied (committed) or dead-lettered.
        self._pending: dict[TopicPartition, int] = {}
        self._uncommitted = 0
        self._last_commit = time.monotonic()
        # Records already dead-lettered whose offset is not committed yet: a batch tried again, or a loop started
        # again in this process, does not send them twice.
        self._dead_lettered: set[tuple[str, int, int]] = set()
        # A dead letter was sent: its offset is committed at once, so a crash does not send it again.
        self._commit_soon = False
        # Held while a batch is applied and while offsets are committed: a rebalance waits for the batch to end.
        self._lock = asyncio.Lock()
        self.ready = asyncio.Event()
        # A failure of the surroundings (InfrastructureUnavailable, Kafka away) ends one consume loop; this starts
        # the next from the committed offset (ADR 0007), pausing longer while starting keeps failing.
        self.loop = Loop(
            f"consumer-{self.group_id}",
            self._consume,
            error_event="consumer_error",
            fields={"group": group_id},
        )

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def run(self) -> None:
        """The consumer in the caller's task, restarting as `start()` does, until `stop()`."""
        await self.loop.run()

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(
            **self.kafka,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )
        self._pending.clear()
        self._uncommitted = 0
        self._last_commit = time.monotonic()
        try:
            await consumer.start()
            consumer.subscribe(self.topics, listener=_CommitOnRevoke(self, consumer))
            self._consumer = consumer
            self.ready.set()
            self.loop.backoff.reset()
            while not self.loop.stopping:
                batches = await consumer.getmany(timeout_ms=500, max_records=self.batch_max_events)
                for tp, records in batches.items():
                    async with self._lock:
                        if tp not in consumer.assignment():
                            continue  # revoked since it was fetched: its new owner reads it from the committed offset
                        await self._apply_records(records)
                        self._pending[tp] = records[-1].offset + 1
                        self._uncommitted += len(records)
                await self._commit(consumer, due_only=True)
        finally:
            self._consumer = None
            # On stop too: what was applied is not read again by the next owner (bounded: Kafka may be the reason
            # this loop ends, and stopping must not hang on it).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._commit(consumer), timeout=5)
            producer, self._producer = self._producer, None
            if producer is not None:
                with contextlib.suppress(Exception):
                    await producer.stop()
            with contextlib.suppress(Exception):
                await consumer.stop()

    async def _commit(
        self,
        consumer: AIOKafkaConsumer,
        *,
        due_only: bool = False,
        only: Collection[TopicPartition] | None = None,
    ) -> None:
        """Commit the pending offsets (of `only` the given partitions); with `due_only`, only when the interval has
        passed, enough records wait, or a dead letter was sent (so it is not sent again after a crash)."""
        async with self._lock:
            if due_only and not (
                self._uncommitted >= self.commit_max_events
                or time.monotonic() - self._last_commit >= self.commit_interval_s
                or self._commit_soon
            ):
                return
            offsets = {tp: o for tp, o in self._pending.items() if only is None or tp in only}
            if not offsets:
                return
            try:
                await consumer.commit(offsets)
            except (CommitFailedError, IllegalStateError) as exc:
                # The partitions went to another member, which reads them from the last committed offset; what we
                # applied since is deduplicated there.
                log.warning("consumer_commit_failed", group=self.group_id, error=repr(exc))
            for tp, offset in offsets.items():
                del self._pending[tp]
                self._dead_lettered = {
                    d
                    for d in self._dead_lettered
                    if (d[0], d[1]) != (tp.topic, tp.partition) or d[2] >= offset
                }
            if only is None:
                self._uncommitted = 0
                self._last_commit = time.monotonic()
                self._commit_soon = False
            for tp in offsets:
                await self._report_lag(consumer, tp)

    async def _report_lag(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        highwater = consumer.highwater(tp)
        if highwater is None:
            return
        with contextlib.suppress(Exception):
            position = await consumer.position(tp)
            metrics.CONSUMER_LAG.labels(self.service, self.group_id, tp.topic, str(tp.partition)).set(
                max(0, highwater - position)
            )

    # -- applying a partition batch --

    async def _apply_records(self, records: Sequence[ConsumerRecord]) -> None:
        """Apply one partition's records in order, in transactions of at most `batch_max_events` events and about
        `batch_max_s` of work; records of other groups' types are passed over unread."""
        todo = []
        for record in records:
            if self._skips(record):
                metrics.CONSUMER_PROCESSED.labels(self.service, self.group_id, "skipped").inc()
            else:
                todo.append(record)
        start = 0
        while start < len(todo):
            start = await self._apply_batch(todo, start)

    def _skips(self, record: ConsumerRecord) -> bool:
        """Not this group's type, by the record's `ce_type` header and the upcasters alone (the body is not read,
        so a record this group cannot read but does not act on is not its concern either)."""
        if self.event_types is None:
            return False
        type_name = kafka_type(record.headers or ())
        return type_name is not None and newest_type(type_name) not in self.event_types

    async def _apply_batch(self, records: Sequence[ConsumerRecord], start: int) -> int:
        """Apply records from `start` in one transaction, tried again whole while the surroundings fail (then the
        consumer restarts from its committed offset, ADR 0007); the index after the last record applied.

        The first try takes no savepoint per event; when an event fails, its transaction is rolled back and the
        batch done again with one savepoint per event, so that the failing event alone is retried and then
        dead-lettered (ADR 0041, "Savepoints only after a failure")."""
        redo: _Redo | None = None
        attempt = 0
        while True:
            try:
                return await self._try_batch(records, start, redo)
            except _Redo as failed:
                # Raised only by a try without savepoints: the next one takes them.
                redo = failed
                log.warning(
                    "consumer_batch_redone",
                    group=self.group_id,
                    topic=records[failed.index].topic,
                    partition=records[failed.index].partition,
                    offset=records[failed.index].offset,
                    error=repr(failed.error),
                )
                continue
            except _Transient as failure:
                error = failure.error
                attempt += 1
                log.warning(
                    "consumer_batch_failed",
                    group=self.group_id,
                    topic=records[start].topic,
                    partition=records[start].partition,
                    offset=records[start].offset,
                    attempt=attempt,
                    error=repr(error),
                )
                if attempt >= self.max_attempts:
                    break
                await asyncio.sleep(self.retry_backoff_s * 2 ** (attempt - 1))
        # The events are fine; the database or a neighbour is not. Dead-lettering would lose them: instead the
        # consumer starts over from its last committed offset, and what it applied since is deduplicated.
        raise InfrastructureUnavailable(f"{self.group_id}: {error!r}") from error

    async def _try_batch(self, records: Sequence[ConsumerRecord], start: int, redo: _Redo | None) -> int:
        """One transaction over the records from `start`. Without `redo`, no savepoints: a failing event raises
        `_Redo`. With it, each event in a savepoint of its own, and the event that failed has had one attempt."""
        end = min(len(records), start + self.batch_max_events)
        # Read before a connection is taken: what cannot be read is dead-lettered, other types skipped.
        read = [await self._read(record) for record in records[start:end]]
        claims = [
            _processed_row(item, records[start + i])
            for i, item in enumerate(read)
            if isinstance(item, Envelope)
        ]
        outcomes: list[str] = []
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                deadline = time.monotonic() + self.batch_max_s
                # The events are recorded as processed first, in one statement, which answers which of them this
                # group applied before; another member of the group recording one at the same time (a rebalance
                # overlapping) waits for this transaction, then finds it done.
                todo: set[str] = (
                    set(await conn.fetchval(_CLAIM, self.group_id, *zip(*claims, strict=True)))
                    if claims
                    else set()
                )
                savepoint = _EventSavepoint(conn) if redo is not None else None
                index = start
                for item in read:
                    if index > start and time.monotonic() >= deadline:
                        break  # the rest in the next transaction: this one's locks are held until it commits
                    record = records[index]
                    index += 1
                    if isinstance(item, str):
                        outcomes.append(item)
                    elif item.id not in todo:
                        outcomes.append("duplicate")
                    elif savepoint is None:
                        todo.discard(item.id)
                        await self._process_at_once(conn, index - 1, record, item)
                        outcomes.append("applied")
                    else:
                        assert redo is not None
                        failed = redo.error if index - 1 == redo.index else None
                        outcome = await self._process(savepoint, record, item, failed=failed)
                        outcomes.append(outcome)
                        if outcome == "applied":
                            todo.discard(item.id)
                # Recorded but not applied (dead-lettered, or left for the next transaction): not processed.
                if todo:
                    await conn.execute(_UNCLAIM, self.group_id, list(todo))
        except TRANSIENT_ERRORS as exc:
            raise _Transient(exc) from exc
        # Counted once committed: a batch rolled back and tried again counts its events once.
        for outcome in outcomes:
            metrics.CONSUMER_PROCESSED.labels(self.service, self.group_id, outcome).inc()
        return index

    async def _process_at_once(
        self, conn: asyncpg.Connection, index: int, record: ConsumerRecord, received: Envelope
    ) -> None:
        """One event in the batch's transaction, without a savepoint: a failure of the surroundings propagates (the
        batch is tried again), any other failure is `_Redo` (the batch is done again with savepoints)."""
        with unit_of_work.joining(conn) as joined:
            try:
                await self._run_handler(conn, upcast_envelope(received), record)
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:
                raise _Redo(index, exc) from exc
        if joined.spoiled:
            # A unit of work left without committing, its writes still in the batch: done again with savepoints,
            # where it undoes them itself. Not a failure of the event: its attempts start afresh.
            raise _Redo(index, None)

    async def _read(self, record: ConsumerRecord) -> Envelope | str:
        """The record's envelope as received, or its outcome when there is nothing to apply: `dead_lettered`
        (unreadable: reading the same bytes again gives the same answer, so no retry) or `skipped`."""
        if (record.topic, record.partition, record.offset) in self._dead_lettered:
            return "dead_lettered"
        try:
            received = Envelope.from_kafka(record.key, record.value, list(record.headers or ()))
        except Exception as exc:
            await self._dead_letter(record, exc, attempts=1)
            return "dead_lettered"
        return received if self._handles(upcast_envelope(received)) else "skipped"

    async def _process(
        self,
        savepoint: _EventSavepoint,
        record: ConsumerRecord,
        received: Envelope,
        *,
        failed: BaseException | None = None,
    ) -> str:
        """One event inside the batch's transaction, in its savepoint: `applied` or `dead_lettered`. A failure of the
        surroundings propagates (the batch is tried again); any other failure of the event is tried again, then the
        event is dead-lettered and the batch goes on. `failed`: how its first attempt, without a savepoint, failed."""
        envelope = upcast_envelope(received)
        error = failed
        for attempt in range(1 if failed is None else 2, self.max_attempts + 1):
            if attempt == 2 and failed is not None:
                # After the first attempt's failure, as after any failed attempt.
                await asyncio.sleep(self.retry_backoff_s)
            await savepoint.begin()
            try:
                await self._run_handler(savepoint.conn, envelope, record)
                return "applied"
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:
                error = exc
                await savepoint.rollback()
                log.warning(
                    "consumer_attempt_failed",
                    group=self.group_id,
                    topic=record.topic,
                    offset=record.offset,
                    attempt=attempt,
                    error=repr(exc),
                )
                if attempt < self.max_attempts:
                    await asyncio.sleep(self.retry_backoff_s * 2 ** (attempt - 1))
        assert error is not None
        await self._dead_letter(record, error, attempts=self.max_attempts)
        return "dead_lettered"

    def _handles(self, envelope: Envelope) -> bool:
        return self.event_types is None or envelope.type in self.event_types

    async def apply_once(self, envelope: Envelope, record: Any) -> str:
        """Apply one event in its own transaction: `applied`, `duplicate` (seen before) or `skipped` (a type this
        group does not act on). `record` needs `topic`, `partition`, `offset` (a Kafka record, or a test's stand-in)."""
        # An older version is read as the newest before anything looks at its type (ADR 0027); the record keeps
        # the event as it was received, and a rebuild upcasts it again on reading.
        newest = upcast_envelope(envelope)
        if not self._handles(newest):
            # Not this group's business: nothing to apply, so nothing to remember (the offset still moves on).
            return "skipped"
        async with self.pool.acquire() as conn, conn.transaction():
            return await self._apply(conn, envelope, newest, record)

    async def _apply(
        self, conn: asyncpg.Connection, received: Envelope, envelope: Envelope, record: Any
    ) -> str:
        """`envelope` (upcast from `received`) applied and recorded as processed in `apply_once`'s transaction."""
        # The envelope is kept: the history this group's projection is rebuilt from (btkernel.rebuild).
        inserted = await conn.fetchval(
            "INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset,"
            " envelope) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING RETURNING 1",
            self.group_id,
            envelope.id,
            record.topic,
            record.partition,
            record.offset,
            received.to_json(),
        )
        if not inserted:
            return "duplicate"
        await self._run_handler(conn, envelope, record)
        return "applied"

    async def _run_handler(self, conn: asyncpg.Connection, envelope: Envelope, record: Any) -> None:
        """The handler with the event's own context and tracing span around it."""
        ctx = RequestContext(
            correlation_id=envelope.correlation_id or envelope.id,
            causation_id=envelope.id,
            actor=Actor.system(self.service),
        )
        token = context.bind(ctx)
        try:
            # The processing span, child of the record's trace context and current while the handler runs, so the
            # events it writes carry the same trace onward (btkernel.tracing, ADR 0028).
            async with tracing.consumer_span(
                envelope,
                topic=record.topic,
                group=self.group_id,
                partition=record.partition,
                offset=record.offset,
            ):
                await self.handler(conn, envelope, ctx)
        finally:
            context.unbind(token)

    async def _dead_letter(self, record: ConsumerRecord, error: BaseException, *, attempts: int) -> None:
        headers = [
            *(record.headers or ()),
            ("x-dlq-error", str(error)[:2000].encode()),
            ("x-dlq-error-type", type(error).__name__.encode()),
            ("x-dlq-traceback", "".join(traceback.format_exception(error))[-4000:].encode()),
            ("x-dlq-consumer-group", self.group_id.encode()),
            ("x-dlq-original-topic", record.topic.encode()),
            ("x-dlq-original-partition", str(record.partition).encode()),
            ("x-dlq-original-offset", str(record.offset).encode()),
            ("x-dlq-attempts", str(attempts).encode()),
        ]
        if self._producer is None:
            # Started on the first dead letter only: most consumers never send one (issue 13).
            producer = make_producer(self.kafka)
            await producer.start()
            self._producer = producer
        await self._producer.send_and_wait(
            topics.dead_letter_topic(record.topic), value=record.value, key=record.key, headers=headers
        )
        self._dead_lettered.add((record.topic, record.partition, record.offset))
        self._commit_soon = True
        log.error(
            "event_dead_lettered",
            group=self.group_id,
            topic=record.topic,
            offset=record.offset,
            error=repr(error),
        )


# The batch's events recorded as processed in one statement, each with its envelope as received (the rebuild's
# history, ADR 0027), before they are applied; the ids inserted are those this group had not applied before.
_CLAIM = (
    "WITH r AS (INSERT INTO processed_events"
    " (consumer_group, event_id, topic, kafka_partition, kafka_offset, envelope)"
    " SELECT $1, e, t, p, o, j::json"
    " FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[]) AS u(e, t, p, o, j)"
    " ON CONFLICT DO NOTHING RETURNING event_id) SELECT coalesce(array_agg(event_id), '{}') FROM r"
)
# Recorded but, in the end, not applied in the transaction: a dead letter, or an event left for the next one.
_UNCLAIM = "DELETE FROM processed_events WHERE consumer_group = $1 AND event_id = ANY($2::text[])"


def kept_envelope(received: Envelope) -> str:
    """The envelope as a consumer keeps it (`processed_events.envelope`, what a rebuild reads): serialised as the
    pool's JSON codec does (btkernel.db), so it reads back the same."""
    return json.dumps(received.to_json(), ensure_ascii=False, default=str)


def _processed_row(received: Envelope, record: ConsumerRecord) -> tuple[str, str, int, int, str]:
    return received.id, record.topic, record.partition, record.offset, kept_envelope(received)


class _Redo(Exception):
    """An event failed in a batch applied without savepoints: the batch is rolled back and done again with them."""

    def __init__(self, index: int, error: BaseException | None) -> None:
        super().__init__(repr(error) if error is not None else "a unit of work left without committing")
        self.index = index
        self.error = error


class _EventSavepoint:
    """The savepoint of the event being applied in a batch done again after a failure: a failing event is rolled
    back to it and the events before it stay. Releasing one event's savepoint travels with the next one's start, in one simple-query
    round trip (the per-event round trips are the batch's cost, issue 13); COMMIT releases the last."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._open = False

    async def begin(self) -> None:
        await self.conn.execute(
            "RELEASE SAVEPOINT bt_event; SAVEPOINT bt_event" if self._open else "SAVEPOINT bt_event"
        )
        self._open = True

    async def rollback(self) -> None:
        await self.conn.execute("ROLLBACK TO SAVEPOINT bt_event; RELEASE SAVEPOINT bt_event")
        self._open = False


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits what was applied of the partitions a rebalance takes away, before their next owner starts reading
    them (after the batch being applied ends: the commit takes the consumer's lock)."""

    def __init__(self, owner: IdempotentConsumer, consumer: AIOKafkaConsumer) -> None:
        self.owner = owner
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self.owner._commit(self.consumer, only=set(revoked))

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        return None
