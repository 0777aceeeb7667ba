"""Transactional outbox and its relay to Kafka.

Why the relay marks rows instead of tailing the id: ids come from a sequence at insert time, so a transaction
holding id 10 can commit after one holding id 11. A relay that remembered "published up to 11" would skip 10
forever. Marking each row published loses nothing. Order within an aggregate holds because a stream's next event
can only be inserted after the previous one committed (optimistic concurrency on the stream), so it always gets
the larger id; the relay publishes in id order, one relay at a time (an advisory lock), with the idempotent
producer (acks=all), which keeps per-partition order across retries.

Why each round is a Kafka transaction (ADR 0029): a send can fail after the broker appended it (a broker killed
before it answered, a leader killed before it marked), and such a record surfaces later, when the partition's
replicas agree again. A round's records are committed or aborted together, and read_committed readers (every
consumer, the takeover's read-back) never see an aborted one. The transactional id is the database's, so a relay
that becomes leader fences its predecessor's producer (`init_transactions`): what that one left in flight is
aborted or committed before the new leader reads back what was published (btkernel.outbox_takeover), not after.

Why one event cannot stall the others (ADR 0009): `enqueue` refuses, inside the caller's transaction, an event
that could never be published (larger than `BT_MAX_EVENT_BYTES`, or not encodable), so it is never committed. A
row the broker still refuses for the record's own sake (too large, invalid), or that fails `BT_RELAY_MAX_ATTEMPTS`
times for an unknown reason, is *parked* with its error and an ERROR log line and `bt_outbox_parked`; the relay
goes on with other subjects (the round's transaction is aborted and the round sent again without it), while
later rows of the parked row's subject (the Kafka key, the aggregate) wait behind it, so order per aggregate
holds. Transient errors (broker or network away) are retried for ever, never parked. An operator releases or
discards a parked row with `python -m btkernel.outbox list|release|discard`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import json
import sys
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, Literal

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors

from btkernel import db, metrics, outbox_retention, outbox_takeover, problems, tracing
from btkernel import logging as btlog
from btkernel.envelope import Envelope
from btkernel.kafka_client import KafkaOptions
from btkernel.loops import Loop
from btkernel.settings import ServiceSettings

log = btlog.get(__name__)

# One relay per database publishes at a time; a second one waits as a hot standby.
_RELAY_LOCK = 0x42_54_52_4C
_NOTIFY_CHANNEL = "bt_outbox"
# How long aborting a round's transaction may take before the relay starts over (and its next producer aborts it).
ABORT_TIMEOUT_S = 30.0
# The backlog gauges are read at most this often at a round's start (issue 13: counting the pending rows was one
# of a round's four database round trips, and a busy relay runs a round per commit); a parking still reports at
# once. Scraped every 15 s, a gauge a second old says the same.
BACKLOG_REPORT_INTERVAL_S = 1.0


class Unpublishable(problems.Problem):
    """An event Kafka could never take. Raised by `enqueue` inside the request's transaction, so nothing of the
    request is committed; rendered as a problem naming `body`, the only thing the client can change."""

    status = 422
    title = "Invalid input"


class EventTooLarge(Unpublishable):
    status = 413
    title = "Payload too large"


@functools.cache
def max_event_bytes() -> int:
    """BT_MAX_EVENT_BYTES of this process, read once."""
    return ServiceSettings().max_event_bytes


def encoded_size(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> int:
    """What the record carries: key, value and every header's name and value (the batch overhead is the margin
    between BT_MAX_EVENT_BYTES and the broker's limit)."""
    return len(key) + len(value) + sum(len(name.encode()) + len(v) for name, v in headers)


def encode(envelope: Envelope, limit: int) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """The Kafka record of `envelope`, or `Unpublishable` saying why there can never be one."""
    try:
        # Both forms: the outbox's JSON (what PostgreSQL stores) and the record (what the broker gets).
        json.dumps(envelope.to_json(), ensure_ascii=False).encode("utf-8")
        key, value, headers = envelope.to_kafka()
    except (TypeError, ValueError, UnicodeError) as exc:
        raise Unpublishable(
            f"the event {envelope.type} cannot be encoded: {exc}",
            field="body",
            code="event_not_encodable",
        ) from exc
    size = encoded_size(key, value, headers)
    if size > limit:
        raise EventTooLarge(
            f"the event {envelope.type} would be {size} bytes, more than the {limit} bytes an event may carry;"
            " shorten the longest text of the request",
            field="body",
            code="event_too_large",
            size=size,
            limit=limit,
        )
    return key, value, headers


async def enqueue(
    conn: asyncpg.Connection, topic: str, envelope: Envelope, *, limit: int | None = None
) -> None:
    """Write `envelope` to the outbox in the caller's transaction, or raise `Unpublishable` (which rolls the
    transaction back) when no broker would ever take it: refused now, it cannot stall the relay later."""
    encode(envelope, max_event_bytes() if limit is None else limit)
    await conn.execute(
        "INSERT INTO outbox (topic, event_id, envelope) VALUES ($1, $2, $3)",
        topic,
        envelope.id,
        envelope.to_json(),
    )
    # Delivered at commit only, so the relay wakes when the row is visible; polling covers a lost notify.
    await conn.execute(f"NOTIFY {_NOTIFY_CHANNEL}")


NOTIFY_CHANNEL = _NOTIFY_CHANNEL


def enqueue_write(rows: Sequence[tuple[str, Envelope]], *, limit: int | None = None) -> db.Statement:
    """`enqueue` of several (topic, envelope) pairs as one write, ids in the given order (a stream's events keep
    theirs, ADR 0009's order per aggregate); `Unpublishable` as `enqueue`. For `db.execute_together` with
    NOTIFY_CHANNEL: a submission's outbox rows go in the round trip of its events (issue 13)."""
    bound = max_event_bytes() if limit is None else limit
    for _, envelope in rows:
        encode(envelope, bound)
    return (
        "INSERT INTO outbox (topic, event_id, envelope) SELECT t, i, e"
        " FROM unnest($1::text[], $2::uuid[], $3::jsonb[]) WITH ORDINALITY AS u(t, i, e, n) ORDER BY n",
        ([t for t, _ in rows], [e.id for _, e in rows], [e.to_json() for _, e in rows]),
    )


def make_producer(kafka: KafkaOptions, transactional_id: str | None = None) -> AIOKafkaProducer:
    """The idempotent producer; transactional (the relay's) when `transactional_id` is given."""
    # enable_idempotence implies acks=all and keeps order within a partition on retries. The broker allows the
    # idempotent producer to any principal that may WRITE some topic (KIP-679): no cluster-wide ACL needed; a
    # transactional id needs its own grant (btdeploy.kafka_access).
    # No linger (issue 13, ADR 0043): a relay's round appends all its records before its AddPartitionsToTxn comes
    # back, so they leave in one produce request anyway, and a linger only held that request back (~0.7 ms of the
    # way to a consumer, measured). A dead-letter producer sends one record at a time.
    return AIOKafkaProducer(
        **kafka,
        enable_idempotence=True,
        acks="all",
        linger_ms=0,
        request_timeout_ms=30000,
        transactional_id=transactional_id,
    )


def pause_before_next_round(published: int, batch_size: int, elapsed_s: float, interval_s: float) -> float:
    """How long a relay waits after a round that took `elapsed_s` before it looks for rows again: until
    `interval_s` after the round began when the round published something but not a full batch, else not at all.
    Each round is a Kafka transaction (ADR 0029), ~4 ms of the broker's CPU however few its records (ADR 0043), and
    a busy relay's rounds are started by its service's commits one by one, one or two rows each: waiting out the
    interval gathers the commits made meanwhile into the next round. A row committed after a quiet interval goes at
    once, and so does the next round after a full one: a backlog (the broker back after an outage) drains at the
    relay's own speed."""
    return max(0.0, interval_s - elapsed_s) if 0 < published < batch_size else 0.0


class CommitRate:
    """Whether a relay's service is busy enough for its relay to wait out a round interval: at least
    `busy_per_s` commits with outbox rows were notified within the last second (the `busy_per_s`-th latest is less
    than a second old). Intake's relay pays for a round per commit at a steady rate (one submission each), but its
    events open the registry's cases (issue 13's P2, at ~5 a second): above this rate a commit waiting out the
    interval is outweighed by the transactions saved; below it the next row goes at once. 0: always busy.
    PostgreSQL delivers a transaction's notifications on one channel as one, so a commit is one notification."""

    def __init__(self, busy_per_s: int) -> None:
        self.busy_per_s = busy_per_s
        self._notified: deque[float] = deque(maxlen=max(busy_per_s, 1))  # time.monotonic() of the latest

    def notified(self, now: float) -> None:
        self._notified.append(now)

    def busy(self, now: float) -> bool:
        if self.busy_per_s == 0:
            return True
        return len(self._notified) == self.busy_per_s and now - self._notified[0] < 1.0


# The relay's transactional ids begin with `<service>.outbox.` (the ACL's prefix); one per database, so that only
# the relays of one outbox fence each other.
TRANSACTIONAL_SUFFIX = ".outbox."


def relay_transactional_id(service: str, database: str) -> str:
    return f"{service}{TRANSACTIONAL_SUFFIX}{database}"


# The record itself is at fault: sending it again can only fail again.
RECORD_FAULTS: tuple[type[BaseException], ...] = (
    Unpublishable,
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidMessageError,
    kafka_errors.CorruptRecordException,
    kafka_errors.InvalidTimestampError,
    kafka_errors.InvalidTopicError,
    kafka_errors.UnsupportedForMessageFormatError,
)

Fault = Literal["record", "transient", "unknown"]


def classify(exc: BaseException) -> Fault:
    """`record`: park now. `transient`: the surroundings (broker, network) are away, retry for ever. `unknown`:
    count it against the row and park it after `BT_RELAY_MAX_ATTEMPTS`."""
    if isinstance(exc, RECORD_FAULTS):
        return "record"
    if isinstance(
        exc, (OSError, TimeoutError, kafka_errors.KafkaConnectionError, kafka_errors.KafkaTimeoutError)
    ):
        return "transient"
    if getattr(exc, "retriable", False):
        return "transient"
    return "unknown"


_PENDING = """
SELECT o.id, o.topic, o.event_id, o.envelope, o.envelope->>'subject' AS subject
FROM outbox o
WHERE o.published_at IS NULL AND o.parked_at IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM outbox p
      WHERE p.parked_at IS NOT NULL AND p.published_at IS NULL
        AND p.envelope->>'subject' = o.envelope->>'subject' AND p.id < o.id)
ORDER BY o.id
LIMIT $1
"""


async def relay_connection(dsn: str) -> asyncpg.Connection:
    """The relay's own session, whose queries read the pending rows through the partial index `outbox_pending`, in
    its order, never as a bitmap or by reading the whole table (issue 13). A row marked published leaves its entry in
    that index until vacuum removes it. A plain index scan that passes such an entry marks it dead, and later scans
    skip it. A bitmap scan cannot, so every round visited every row published since the last vacuum (~1,000 a round
    in `make bench`, and up to a fifth of an outbox that is never emptied). And statistics taken during a backlog
    make the planner read the whole table in every round until the next ANALYZE. The session runs only the relay's
    few queries, each of which has an index made for it. The marks are the index's, so /health's count gains too."""
    conn = await db.connect(dsn)
    await conn.execute("SET enable_bitmapscan = off; SET enable_seqscan = off")
    return conn


class OutboxRelay:
    """Publishes pending outbox rows to Kafka in id order and marks them published; parks a row Kafka can never
    take, holding back only the later rows of its subject. While commits keep coming (at least `busy_commits_per_s`,
    `CommitRate`), a round starts at most every `round_interval_s` (`pause_before_next_round`). When it has
    nothing left to publish, it deletes published rows older than `retention` (`btkernel.outbox_retention`)."""

    def __init__(
        self,
        dsn: str,
        kafka: KafkaOptions,
        service: str,
        *,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
        max_event_bytes: int | None = None,
        max_attempts: int = 10,
        round_interval_s: float = 0.0,
        busy_commits_per_s: int = 0,
        retention: dt.timedelta | None = None,
    ) -> None:
        self.dsn = dsn
        self.kafka = kafka
        self.service = service
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.round_interval_s = round_interval_s
        self.commits = CommitRate(busy_commits_per_s)
        self.max_event_bytes = max_event_bytes
        self.max_attempts = max_attempts
        self.pruning = outbox_retention.Pruning(service, retention)
        self._wake = asyncio.Event()
        self._reported_at = float("-inf")  # time.monotonic(): a rate, not a time of the domain
        # Broker or database away: the leader's session ends (and with it the lock), and the relay starts over,
        # pausing longer while it cannot even connect.
        self.loop = Loop(f"outbox-relay-{service}", self._run_as_leader, error_event="outbox_relay_error")

    @classmethod
    def from_settings(cls, settings: ServiceSettings, kafka: KafkaOptions) -> OutboxRelay:
        """The relay as a service's settings describe it (in the service's process, or its own: btkernel.relay)."""
        return cls(
            settings.database_url,
            kafka,
            settings.service_name,
            batch_size=settings.relay_batch_size,
            poll_interval_s=settings.relay_poll_interval_s,
            max_event_bytes=settings.max_event_bytes,
            max_attempts=settings.relay_max_attempts,
            round_interval_s=settings.relay_round_interval_s,
            busy_commits_per_s=settings.relay_busy_commits_per_s,
            retention=outbox_retention.retention_of(settings.outbox_retention_days),
        )

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        self._wake.set()
        await self.loop.stop()

    async def run(self) -> None:
        """The relay in the caller's task (its own process, `btkernel.relay`), restarting as `start()` does."""
        await self.loop.run()

    async def _run_as_leader(self) -> None:
        conn = await relay_connection(self.dsn)
        producer: AIOKafkaProducer | None = None
        try:
            await self._become_leader(conn)
            await conn.add_listener(_NOTIFY_CHANNEL, self._notified)
            database = await conn.fetchval("SELECT current_database()")
            producer = make_producer(self.kafka, relay_transactional_id(self.service, database))
            # Starting it fences the previous leader's producer (and this relay's own before a restart): what that
            # one left in flight is committed or aborted now, so the read-back below sees all of it.
            await producer.start()
            # What a leader that died between sending and marking already published is not sent again (ADR 0029).
            await outbox_takeover.mark_already_published(conn, self.kafka)
            log.info("outbox_relay_started")
            self.loop.backoff.reset()
            while not self.loop.stopping:
                # Cleared before reading, so a commit notified while we publish wakes the next round at once
                # instead of waiting out the poll interval.
                self._wake.clear()
                began = time.monotonic()
                published = await self.publish_pending(conn, producer)
                now = time.monotonic()
                interval_s = self.round_interval_s if self.commits.busy(now) else 0.0
                if pause := pause_before_next_round(published, self.batch_size, now - began, interval_s):
                    await asyncio.sleep(pause)
                if published < self.batch_size:
                    # Nothing waiting: the time for old rows. A commit notified meanwhile ends the pass after its
                    # page (a few milliseconds) and wakes the next round.
                    if self.pruning.due(moment := time.monotonic()):
                        await self.pruning.run(conn, moment, wanted=self._wake.is_set)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval_s)
        finally:
            if producer is not None:
                with contextlib.suppress(Exception):
                    await producer.stop()
            with contextlib.suppress(Exception):
                await conn.close()

    def _notified(self, *_: object) -> None:
        self.commits.notified(time.monotonic())
        self._wake.set()

    async def _become_leader(self, conn: asyncpg.Connection) -> None:
        # A standby relay polls for the lock; the leader's session holding it is what keeps order.
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK):  # noqa: ASYNC110
            await asyncio.sleep(self.poll_interval_s * 2)

    async def publish_pending(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int:
        """One round: send the pending rows not held back by a parked row, in id order and in one transaction of
        `producer` (transactional); mark them once it is committed, park what the broker can never take. Returns
        how many rows were published."""
        while True:
            published = await self._round(conn, producer)
            if published is not None:
                return published

    async def _round(self, conn: asyncpg.Connection, producer: AIOKafkaProducer) -> int | None:
        """None when a row was parked after sending began: the transaction is aborted, so nothing of the round is
        visible to read_committed readers, and the round goes again without the row (and its subject's later
        rows, which wait behind it). Any other failure is raised; the relay starts over, and its new producer
        aborts what this one left open."""
        rows = await conn.fetch(_PENDING, self.batch_size)
        if time.monotonic() - self._reported_at >= BACKLOG_REPORT_INTERVAL_S:
            await self._report_backlog(conn)
        if not rows:
            return 0
        limit = self.max_event_bytes if self.max_event_bytes is not None else max_event_bytes()
        # Subjects with a row parked before sending: their later rows wait behind it, as the query makes them wait
        # in the next rounds.
        held: set[str | None] = set()
        futures: list[tuple[asyncpg.Record, Any]] = []
        in_transaction = False
        current: asyncpg.Record | None = None
        try:
            for row in rows:
                if row["subject"] in held:
                    continue
                span = tracing.NO_SPAN
                try:
                    # The send span (btkernel.tracing, ADR 0028): the record carries its context, a child of the
                    # context the event was written in.
                    span, envelope = tracing.send_span(
                        Envelope.from_json(_as_dict(row["envelope"])), row["topic"]
                    )
                    key, value, headers = encode(envelope, limit)
                except (Unpublishable, KeyError, TypeError, ValueError) as exc:
                    span.end()
                    # Checked again here: rows written before the check existed, or by hand, or with another limit.
                    await self._park(conn, row, exc)
                    held.add(row["subject"])
                    continue
                if not in_transaction:
                    await producer.begin_transaction()
                    in_transaction = True
                current = row
                try:
                    futures.append(
                        (row, await producer.send(row["topic"], value=value, key=key, headers=headers))
                    )
                finally:
                    # Ends once the record is in the producer's batch; the broker's acknowledgement is the metric's.
                    span.end()
            for row, fut in futures:
                current = row
                await fut
            current = None
            if in_transaction:
                await producer.commit_transaction()
        except Exception as exc:
            if current is None or not await self._settle_failure(conn, row=current, exc=exc):
                raise
            # Parked: the rest of the round is not committed (a later row of its subject may be in it), but sent
            # again in the next round.
            await asyncio.wait_for(producer.abort_transaction(), ABORT_TIMEOUT_S)
            return None
        done = [row["id"] for row, _ in futures]
        if done:
            await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", done)
            metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(done))
        if held:
            await self._report_backlog(conn)
        return len(done)

    async def _settle_failure(
        self, conn: asyncpg.Connection, row: asyncpg.Record, exc: BaseException
    ) -> bool:
        """True when the row is parked (the round goes on without its subject); False when the round must stop
        and the relay retry: transient errors always, unknown ones until the row has used its attempts."""
        fault = classify(exc)
        if fault == "transient":
            return False
        if fault == "unknown":
            attempts = await conn.fetchval(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1 RETURNING attempts",
                row["id"],
                _describe(exc),
            )
            if attempts is None or attempts < self.max_attempts:
                return False
        await self._park(conn, row, exc, counted=fault == "unknown")
        return True

    async def _park(
        self, conn: asyncpg.Connection, row: asyncpg.Record, exc: BaseException, *, counted: bool = False
    ) -> None:
        await conn.execute(
            "UPDATE outbox SET parked_at = now(), last_error = $2, attempts = attempts + $3 WHERE id = $1",
            row["id"],
            _describe(exc),
            0 if counted else 1,
        )
        metrics.OUTBOX_PARKED_TOTAL.labels(self.service, type(exc).__name__).inc()
        # The alert: nothing of this subject moves until an operator releases or discards the row.
        log.error(
            "outbox_event_parked",
            outbox_id=row["id"],
            event_id=str(row["event_id"]),
            topic=row["topic"],
            subject=row["subject"],
            error=_describe(exc),
            remedy=f"python -m btkernel.outbox release|discard {row['id']}",
        )

    async def _report_backlog(self, conn: asyncpg.Connection) -> None:
        stats = await conn.fetchrow(BACKLOG_SQL)
        self._reported_at = time.monotonic()
        metrics.OUTBOX_BACKLOG.labels(self.service).set(stats["pending"])
        metrics.OUTBOX_PARKED.labels(self.service).set(stats["parked"])
        metrics.OUTBOX_OLDEST_PENDING.labels(self.service).set(stats["oldest_s"] or 0.0)


# Also what /health reads (btkernel.health): one scan of the pending index.
BACKLOG_SQL = """
SELECT count(*) AS pending,
       count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked,
       extract(epoch FROM now() - min(created_at))::float8 AS oldest_s
FROM outbox WHERE published_at IS NULL
"""


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded: dict[str, Any] = json.loads(value)
        return loaded
    return dict(value)


# -- the operator's side: what is parked, release it after a fix, or discard it -----------------------------------


async def parked(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Parked rows, oldest first, with how many later rows of the same subject wait behind each."""
    rows = await conn.fetch(
        """
        SELECT p.id, p.topic, p.event_id, p.envelope->>'type' AS type, p.envelope->>'subject' AS subject,
               p.created_at, p.parked_at, p.attempts, p.last_error,
               (SELECT count(*) FROM outbox w WHERE w.published_at IS NULL AND w.id > p.id
                  AND w.envelope->>'subject' = p.envelope->>'subject') AS waiting
        FROM outbox p WHERE p.parked_at IS NOT NULL AND p.published_at IS NULL ORDER BY p.id
        """
    )
    return [dict(r) for r in rows]


async def release(conn: asyncpg.Connection, outbox_id: int) -> bool:
    """Put a parked row back in line (after the cause was fixed, e.g. the broker's limit raised); its subject's
    waiting rows follow it. False when no such parked row exists."""
    released = await conn.fetchval(
        "UPDATE outbox SET parked_at = NULL, attempts = 0 WHERE id = $1 AND parked_at IS NOT NULL"
        " AND published_at IS NULL RETURNING id",
        outbox_id,
    )
    if released is None:
        return False
    await conn.execute(f"NOTIFY {_NOTIFY_CHANNEL}")
    log.warning("outbox_event_released", outbox_id=outbox_id)
    return True


async def discard(conn: asyncpg.Connection, outbox_id: int, *, by: str, reason: str) -> bool:
    """Give up on a parked row: it moves to `outbox_discarded` (who, when, why) and is never published; its
    subject's waiting rows flow on. False when no such parked row exists."""
    async with conn.transaction():
        moved = await conn.fetchval(
            """
            WITH gone AS (
                DELETE FROM outbox WHERE id = $1 AND parked_at IS NOT NULL AND published_at IS NULL
                RETURNING id, topic, event_id, envelope, created_at, parked_at, last_error, attempts)
            INSERT INTO outbox_discarded
                (id, topic, event_id, envelope, created_at, parked_at, last_error, attempts, discarded_by, reason)
            SELECT id, topic, event_id, envelope, created_at, parked_at, last_error, attempts, $2, $3 FROM gone
            RETURNING id
            """,
            outbox_id,
            by,
            reason,
        )
        if moved is None:
            return False
        await conn.execute(f"NOTIFY {_NOTIFY_CHANNEL}")
    log.warning("outbox_event_discarded", outbox_id=outbox_id, by=by, reason=reason)
    return True


async def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m btkernel.outbox",
        description="Parked outbox events of one service (its database from BT_DATABASE_URL or --dsn).",
    )
    parser.add_argument("--dsn", help="PostgreSQL DSN; default BT_DATABASE_URL")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="parked events, oldest first, as JSON lines")
    rel = sub.add_parser("release", help="publish a parked event again (after fixing its cause)")
    rel.add_argument("id", type=int)
    dis = sub.add_parser("discard", help="never publish a parked event; later events of its subject flow on")
    dis.add_argument("id", type=int)
    dis.add_argument("--by", required=True, help="who decides (kept with the discarded event)")
    dis.add_argument("--reason", required=True, help="why (kept with the discarded event)")
    args = parser.parse_args(argv)
    conn = await db.connect(args.dsn or ServiceSettings().database_url)
    try:
        if args.command == "list":
            for row in await parked(conn):
                print(json.dumps(row, default=str, ensure_ascii=False))
            return 0
        if args.command == "release":
            ok = await release(conn, args.id)
        else:
            ok = await discard(conn, args.id, by=args.by, reason=args.reason)
        done = {"release": "released", "discard": "discarded"}[args.command]
        print(f"{done} {args.id}" if ok else f"no parked outbox event {args.id}", file=sys.stderr)
        return 0 if ok else 1
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(_cli(sys.argv[1:])))
