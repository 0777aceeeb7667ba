"""Idempotent Kafka consumer: each event is applied once, in the transaction that records it as processed.

Offsets are committed only after the transaction, so a crash means redelivery, never loss; redelivered events
are recognised by their CloudEvents id and skipped. A failing event is retried a bounded number of times, then
sent to the topic's dead-letter topic with the error in headers, so one bad event cannot stall a partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import traceback
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from btkernel import context, metrics, topics, tracing
from btkernel import logging as btlog
from btkernel.context import Actor, RequestContext
from btkernel.envelope import Envelope
from btkernel.events.upcast import upcast
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


class InfrastructureUnavailable(RuntimeError):
    """Raised out of the consume loop so the consumer restarts from its committed offset."""


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
        self._consumer: AIOKafkaConsumer | None = None
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
            *self.topics,
            **self.kafka,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        producer = make_producer(self.kafka)
        await consumer.start()
        await producer.start()
        self._consumer = consumer
        self.ready.set()
        self.loop.backoff.reset()
        try:
            while not self.loop.stopping:
                batches = await consumer.getmany(timeout_ms=500, max_records=200)
                for tp, records in batches.items():
                    for record in records:
                        await self._process(record, producer)
                    # Commit once per partition batch, after every event of it was applied (or dead-lettered): a
                    # crash redelivers at most this batch, and the processed-events record turns those into no-ops.
                    await consumer.commit({tp: records[-1].offset + 1})
                    await self._report_lag(consumer, tp)
        finally:
            self._consumer = None
            with contextlib.suppress(Exception):
                await producer.stop()
            with contextlib.suppress(Exception):
                await consumer.stop()

    async def _report_lag(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        highwater = consumer.highwater(tp)
        if highwater is None:
            return
        with contextlib.suppress(Exception):
            position = await consumer.position(tp)
            metrics.CONSUMER_LAG.labels(self.service, self.group_id, tp.topic, str(tp.partition)).set(
                max(0, highwater - position)
            )

    async def _process(self, record: ConsumerRecord, producer: object) -> None:
        error: BaseException | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                envelope = Envelope.from_kafka(record.key, record.value, list(record.headers or ()))
                outcome = await self.apply_once(envelope, record)
                metrics.CONSUMER_PROCESSED.labels(self.service, self.group_id, outcome).inc()
                return
            except Exception as exc:
                error = exc
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
        if isinstance(error, TRANSIENT_ERRORS):
            # The event is fine; the database or a neighbour is not. Dead-lettering would lose it: instead the
            # consumer starts over from its last committed offset, and what it applied since is deduplicated.
            raise InfrastructureUnavailable(f"{self.group_id}: {error!r}") from error
        await self._dead_letter(record, error, producer)

    async def apply_once(self, envelope: Envelope, record: Any) -> str:
        """Apply one event in its own transaction: `applied`, `duplicate` (seen before) or `skipped` (a type this
        group does not act on). `record` needs `topic`, `partition`, `offset` (a Kafka record, or a test's stand-in)."""
        # An older version is read as the newest before anything looks at its type (ADR 0027); the record keeps
        # the event as it was received, and a rebuild upcasts it again on reading.
        received, envelope = envelope, upcast_envelope(envelope)
        if self.event_types is not None and envelope.type not in self.event_types:
            # Not this group's business: nothing to apply, so nothing to remember (the offset still moves on).
            return "skipped"
        ctx = RequestContext(
            correlation_id=envelope.correlation_id or envelope.id,
            causation_id=envelope.id,
            actor=Actor.system(self.service),
        )
        token = context.bind(ctx)
        try:
            # The processing span, child of the record's trace context and current while the handler runs, so the
            # events it writes carry the same trace onward (btkernel.tracing, ADR 0028).
            async with (
                tracing.consumer_span(
                    envelope,
                    topic=record.topic,
                    group=self.group_id,
                    partition=record.partition,
                    offset=record.offset,
                ),
                self.pool.acquire() as conn,
                conn.transaction(),
            ):
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
                await self.handler(conn, envelope, ctx)
                return "applied"
        finally:
            context.unbind(token)

    async def _dead_letter(self, record: ConsumerRecord, error: BaseException, producer: object) -> None:
        headers = [
            *(record.headers or ()),
            ("x-dlq-error", str(error)[:2000].encode()),
            ("x-dlq-error-type", type(error).__name__.encode()),
            ("x-dlq-traceback", "".join(traceback.format_exception(error))[-4000:].encode()),
            ("x-dlq-consumer-group", self.group_id.encode()),
            ("x-dlq-original-topic", record.topic.encode()),
            ("x-dlq-original-partition", str(record.partition).encode()),
            ("x-dlq-original-offset", str(record.offset).encode()),
            ("x-dlq-attempts", str(self.max_attempts).encode()),
        ]
        await producer.send_and_wait(  # type: ignore[attr-defined]
            topics.dead_letter_topic(record.topic), value=record.value, key=record.key, headers=headers
        )
        metrics.CONSUMER_PROCESSED.labels(self.service, self.group_id, "dead_lettered").inc()
        log.error(
            "event_dead_lettered",
            group=self.group_id,
            topic=record.topic,
            offset=record.offset,
            error=repr(error),
        )
