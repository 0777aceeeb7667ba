"""Transactional outbox and its relay to Kafka.

Why the relay marks rows instead of tailing the id: ids come from a sequence at insert time, so a transaction
holding id 10 can commit after one holding id 11. A relay that remembered "published up to 11" would skip 10
forever. Marking each row published loses nothing. Order within an aggregate holds because a stream's next event
can only be inserted after the previous one committed (optimistic concurrency on the stream), so it always gets
the larger id; the relay publishes in id order, one relay at a time (an advisory lock), with the idempotent
producer (acks=all), which keeps per-partition order across retries.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from btkernel import db, metrics
from btkernel import logging as btlog
from btkernel.envelope import Envelope

log = btlog.get(__name__)

# One relay per database publishes at a time; a second one waits as a hot standby.
_RELAY_LOCK = 0x42_54_52_4C
_NOTIFY_CHANNEL = "bt_outbox"


async def enqueue(conn: asyncpg.Connection, topic: str, envelope: Envelope) -> None:
    await conn.execute(
        "INSERT INTO outbox (topic, event_id, envelope) VALUES ($1, $2, $3)",
        topic,
        envelope.id,
        envelope.to_json(),
    )
    # Delivered at commit only, so the relay wakes when the row is visible; polling covers a lost notify.
    await conn.execute(f"NOTIFY {_NOTIFY_CHANNEL}")


def make_producer(bootstrap: str) -> AIOKafkaProducer:
    # enable_idempotence implies acks=all and keeps order within a partition on retries.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        request_timeout_ms=30000,
    )


class OutboxRelay:
    """Publishes pending outbox rows to Kafka in id order and marks them published."""

    def __init__(
        self, dsn: str, bootstrap: str, service: str, *, batch_size: int = 500, poll_interval_s: float = 0.5
    ) -> None:
        self.dsn = dsn
        self.bootstrap = bootstrap
        self.service = service
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.service}")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self._run_as_leader()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database away: log, back off, start over
                log.warning("outbox_relay_error", error=repr(exc))
                await asyncio.sleep(1.0)

    async def _run_as_leader(self) -> None:
        conn = await db.connect(self.dsn)
        producer = make_producer(self.bootstrap)
        try:
            await self._become_leader(conn)
            await conn.add_listener(_NOTIFY_CHANNEL, lambda *_: self._wake.set())
            await producer.start()
            log.info("outbox_relay_started")
            while not self._stopping:
                # Cleared before reading, so a commit notified while we publish wakes the next round at once
                # instead of waiting out the poll interval.
                self._wake.clear()
                published = await self.publish_pending(conn, producer)
                if published < self.batch_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
        finally:
            with contextlib.suppress(Exception):
                await producer.stop()
            with contextlib.suppress(Exception):
                await conn.close()

    async def _become_leader(self, conn: asyncpg.Connection) -> None:
        # A standby relay polls for the lock; the leader's session holding it is what keeps order.
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK):  # noqa: ASYNC110
            await asyncio.sleep(self.poll_interval_s * 2)

    async def publish_pending(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int:
        rows = await conn.fetch(
            "SELECT id, topic, envelope FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
            self.batch_size,
        )
        backlog = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        metrics.OUTBOX_BACKLOG.labels(self.service).set(backlog)
        if not rows:
            return 0
        futures: list[tuple[int, Any]] = []
        for row in rows:
            env = Envelope.from_json(_as_dict(row["envelope"]))
            key, value, headers = env.to_kafka()
            futures.append(
                (row["id"], await producer.send(row["topic"], value=value, key=key, headers=headers))
            )
        done: list[int] = []
        failure: BaseException | None = None
        for row_id, fut in futures:
            try:
                await fut
            except Exception as exc:
                # Only the prefix before the first failure counts as published: the rest go again, in order,
                # and consumers drop the duplicates by event id.
                failure = exc
                break
            done.append(row_id)
        if done:
            await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", done)
            metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(done))
        if failure is not None:
            raise failure
        return len(done)


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        import json

        loaded: dict[str, Any] = json.loads(value)
        return loaded
    return dict(value)
