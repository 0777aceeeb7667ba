"""What a service's GET /health says, and why it can be believed (ADR 0009).

`ok`, `degraded` or `unavailable`, with one entry per check in `checks` and a sentence per problem in `reasons`:

* **unavailable** (503): the database does not answer, or a consumer has not started yet. Process launchers
  wait for a 200, so a service that cannot serve is not reported ready.
* **degraded** (200, the service still serves requests, something needs a person):
  - the outbox holds a parked event, or its oldest unpublished event is older than `BT_HEALTH_OUTBOX_MAX_AGE_S`
    (the relay is stuck or the broker is away: receipts are issued but nothing reaches the registry);
  - a consumer group's lag grew across the last `BT_HEALTH_LAG_SAMPLES` samples (taken every
    `BT_HEALTH_SAMPLE_INTERVAL_S`, from Kafka's committed offsets, so a consumer that is stuck is seen too);
  - a dead-letter topic `<topic>.dlq` of a topic this service consumes holds dead letters nobody reviewed yet
    (`python -m btkernel.health review-dlq <topic>.dlq` marks them reviewed, once a person has looked; run it as
    the Kafka administrator: a service may only read the review group's offsets, ADR 0023);
  - Kafka cannot be asked (the two checks above would otherwise be silently skipped).

Kafka is asked at most every `BT_HEALTH_KAFKA_CACHE_S`, however often /health is called, and every probe is bounded
by `BT_HEALTH_PROBE_TIMEOUT_S`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

from btkernel import logging as btlog
from btkernel import metrics, topics
from btkernel.consumer import IdempotentConsumer
from btkernel.kafka_client import KafkaOptions, client_options
from btkernel.outbox import BACKLOG_SQL
from btkernel.settings import ServiceSettings

log = btlog.get(__name__)

Status = Literal["ok", "degraded", "unavailable"]
_RANK: dict[str, int] = {"ok": 0, "degraded": 1, "unavailable": 2}

# The consumer group whose committed offsets on a `.dlq` topic mean "a person has looked at these". One for all
# services: a dead letter is looked at once. Services may DESCRIBE it (read its offsets), only the administrator
# commits to it (ADR 0023).
DLQ_REVIEWED_GROUP = "bt.dlq-reviewed"


def worst(statuses: Iterable[str]) -> Status:
    """The worst of `ok` < `degraded` < `unavailable` (anything unknown counts as unavailable)."""
    rank = max((_RANK.get(s, 2) for s in statuses), default=0)
    return ("ok", "degraded", "unavailable")[rank]


@dataclass(frozen=True)
class Check:
    status: Status
    reason: str | None = None

    def render(self) -> str:
        return "ok" if self.reason is None else f"{self.status}: {self.reason}"


OK = Check("ok")


class KafkaOffsets:
    """End offsets of topics and committed offsets of groups, through one admin client and one consumer without a
    group (it never subscribes, so it fetches nothing)."""

    def __init__(self, kafka: KafkaOptions, timeout_s: float) -> None:
        self.kafka = kafka
        self.timeout_s = timeout_s
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None
        # /health's calls and the lag sampler ask at once while the clients start: without it each started a pair
        # and all but the last were dropped unclosed (intake's "Unclosed AIOKafkaConsumer" at start-up).
        self._starting = asyncio.Lock()

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        async with self._starting:
            if self._admin is None or self._consumer is None:
                ms = int(self.timeout_s * 1000)
                admin = AIOKafkaAdminClient(**self.kafka, request_timeout_ms=ms)
                consumer = AIOKafkaConsumer(**self.kafka, group_id=None, request_timeout_ms=ms)
                try:
                    await admin.start()
                    await consumer.start()
                except BaseException:
                    await _close(admin, consumer)
                    raise
                self._admin, self._consumer = admin, consumer
            return self._admin, self._consumer

    async def end_offsets(self, names: Sequence[str]) -> dict[TopicPartition, int]:
        """End offset of every partition of the topics that exist (a missing topic has nothing in it)."""
        admin, consumer = await self._clients()
        described = await admin.describe_topics(list(names))
        tps = [
            TopicPartition(t["topic"], p["partition"])
            for t in described
            if t.get("error_code", 0) == 0
            for p in t["partitions"]
        ]
        if not tps:
            return {}
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        return ends

    async def committed(self, group: str) -> dict[TopicPartition, int]:
        admin, _ = await self._clients()
        offsets: dict[TopicPartition, OffsetAndMetadata] = await admin.list_consumer_group_offsets(group)
        return {tp: om.offset for tp, om in offsets.items() if om.offset >= 0}

    async def backlog(self, group: str, names: Sequence[str]) -> dict[str, int]:
        """Per topic: messages after `group`'s committed offsets (all of them where it committed nothing)."""
        ends = await self.end_offsets(names)
        done = await self.committed(group)
        out = dict.fromkeys(names, 0)
        for tp, end in ends.items():
            out[tp.topic] = out.get(tp.topic, 0) + max(0, end - done.get(tp, 0))
        return out

    async def close(self) -> None:
        admin, consumer = self._admin, self._consumer
        self._admin = self._consumer = None
        await _close(admin, consumer)

    async def reset(self) -> None:
        """After a failed call: start over with fresh connections next time."""
        await self.close()


async def _close(admin: AIOKafkaAdminClient | None, consumer: AIOKafkaConsumer | None) -> None:
    if consumer is not None:
        with contextlib.suppress(Exception):
            await consumer.stop()
    if admin is not None:
        with contextlib.suppress(Exception):
            await admin.close()


@dataclass
class LagHistory:
    """The last samples of one consumer group's total lag; `growing` when each was larger than the one before."""

    size: int
    samples: deque[int] = field(default_factory=deque)

    def add(self, lag: int) -> None:
        self.samples.append(lag)
        while len(self.samples) > self.size:
            self.samples.popleft()

    @property
    def growing(self) -> bool:
        s = list(self.samples)
        return len(s) >= max(2, self.size) and all(b > a for a, b in itertools.pairwise(s))


class HealthMonitor:
    """The checks behind one service's /health, and the background task that samples consumer lag."""

    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        settings: ServiceSettings,
        consumers: Sequence[IdempotentConsumer] = (),
    ) -> None:
        self.service = service
        self.pool = pool
        self.settings = settings
        self.consumers = list(consumers)
        self.kafka = KafkaOffsets(client_options(settings), settings.health_probe_timeout_s)
        self.lag: dict[str, LagHistory] = {
            c.group_id: LagHistory(settings.health_lag_samples) for c in self.consumers
        }
        self._kafka_error: str | None = None
        self._dlq: dict[str, int] = {}
        self._dlq_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # A service's own checks of its own background work (the registry's partner feeds), by name; each
        # answers at once from what the work already knows (no I/O).
        self.extra_checks: dict[str, Callable[[], Check]] = {}

    @property
    def dead_letter_topics(self) -> list[str]:
        consumed = sorted({t for c in self.consumers for t in c.topics})
        return [topics.dead_letter_topic(t) for t in consumed]

    def start(self) -> None:
        if self.consumers:
            self._task = asyncio.create_task(self._sample_forever(), name=f"health-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.kafka.close()

    async def _sample_forever(self) -> None:
        while True:
            await self.sample_lag()
            await asyncio.sleep(self.settings.health_sample_interval_s)

    async def sample_lag(self) -> None:
        """One sample of every consumer group's lag (end offsets minus the group's committed offsets)."""
        try:
            for c in self.consumers:
                per_topic = await self._bounded(self.kafka.backlog(c.group_id, c.topics))
                self.lag[c.group_id].add(sum(per_topic.values()))
            self._kafka_error = None
        except Exception as exc:
            await self._kafka_failed(exc)

    async def _dead_letters(self) -> dict[str, int]:
        """Unreviewed dead letters per `.dlq` topic, asked of Kafka at most every BT_HEALTH_KAFKA_CACHE_S."""
        async with self._lock:
            fresh = (
                self._dlq_at is not None
                and time.monotonic() - self._dlq_at < self.settings.health_kafka_cache_s
            )
            if not fresh and self.dead_letter_topics:
                try:
                    self._dlq = await self._bounded(
                        self.kafka.backlog(DLQ_REVIEWED_GROUP, self.dead_letter_topics)
                    )
                    self._kafka_error = None
                except Exception as exc:
                    await self._kafka_failed(exc)
                self._dlq_at = time.monotonic()
            return self._dlq

    async def _kafka_failed(self, exc: BaseException) -> None:
        self._kafka_error = f"{type(exc).__name__}: {exc}"
        log.warning("health_kafka_probe_failed", error=self._kafka_error)
        await self.kafka.reset()

    async def _bounded(self, awaitable: Any) -> Any:
        return await asyncio.wait_for(awaitable, self.settings.health_probe_timeout_s * 3)

    # -- the checks --

    async def checks(self) -> dict[str, Check]:
        out: dict[str, Check] = {}
        try:
            backlog = await asyncio.wait_for(self._outbox(), self.settings.health_probe_timeout_s)
            out["database"] = OK
            out["outbox"] = backlog
        except Exception as exc:
            out["database"] = Check(
                "unavailable", f"the database does not answer ({type(exc).__name__}: {exc})"
            )
        for c in self.consumers:
            out[f"consumer:{c.group_id}"] = self._consumer_check(c)
        dead = await self._dead_letters() if self.consumers else {}
        for name in self.dead_letter_topics:
            n = dead.get(name, 0)
            out[f"dlq:{name}"] = (
                OK
                if n == 0
                else Check(
                    "degraded",
                    f"{n} dead letter(s) not yet reviewed; read them, then"
                    f" `python -m btkernel.health review-dlq {name}`",
                )
            )
        for name, extra in self.extra_checks.items():
            out[name] = extra()
        if self._kafka_error is not None:
            out["kafka"] = Check(
                "degraded", f"offsets cannot be read, lag and dead letters unknown: {self._kafka_error}"
            )
        for name, check in out.items():
            metrics.HEALTH_STATUS.labels(self.service, name).set(0 if check.status == "ok" else 1)
        return out

    async def _outbox(self) -> Check:
        async with self.pool.acquire() as conn:
            stats = await conn.fetchrow(BACKLOG_SQL)
            if stats["parked"]:
                first = await conn.fetchrow(
                    "SELECT id, envelope->>'type' AS type, envelope->>'subject' AS subject, last_error FROM outbox"
                    " WHERE parked_at IS NOT NULL AND published_at IS NULL ORDER BY id LIMIT 1"
                )
                return Check(
                    "degraded",
                    f"{stats['parked']} event(s) parked, later events of their subjects wait; first: outbox id"
                    f" {first['id']} ({first['type']}, subject {first['subject']}): {first['last_error']};"
                    f" fix, then `python -m btkernel.outbox release|discard {first['id']}`",
                )
        oldest = stats["oldest_s"] or 0.0
        limit = self.settings.health_outbox_max_age_s
        if oldest > limit:
            return Check(
                "degraded",
                f"the oldest unpublished event waits {oldest:.0f} s (more than {limit:g} s):"
                f" {stats['pending']} event(s) not reaching Kafka",
            )
        return OK

    def _consumer_check(self, c: IdempotentConsumer) -> Check:
        if not c.ready.is_set():
            return Check("unavailable", "starting")
        history = self.lag[c.group_id]
        if history.growing:
            trail = " → ".join(str(n) for n in history.samples)
            return Check(
                "degraded",
                f"lag grew across the last {len(history.samples)} samples ({trail} messages):"
                " events arrive faster than they are applied, or the consumer is stuck",
            )
        return OK

    async def report(self) -> tuple[int, dict[str, Any]]:
        """HTTP status and body of /health: 503 only when unavailable; degraded is a 200 that says why."""
        checks = await self.checks()
        status = worst(c.status for c in checks.values())
        body: dict[str, Any] = {
            "status": status,
            "service": self.service,
            "checks": {name: c.render() for name, c in checks.items()},
        }
        reasons = [f"{name}: {c.reason}" for name, c in checks.items() if c.status != "ok"]
        if reasons:
            body["reasons"] = reasons
        return (503 if status == "unavailable" else 200), body


async def review_dead_letters(kafka: KafkaOptions, dlq_topic: str) -> int:
    """Mark every dead letter now in `dlq_topic` as reviewed (commits its end offsets for DLQ_REVIEWED_GROUP).
    Returns how many were not reviewed before."""
    offsets = KafkaOffsets(kafka, 10.0)
    try:
        before = (await offsets.backlog(DLQ_REVIEWED_GROUP, [dlq_topic])).get(dlq_topic, 0)
        ends = await offsets.end_offsets([dlq_topic])
    finally:
        await offsets.close()
    if not ends:
        return 0
    # A consumer of the review group with partitions assigned by hand commits without joining the group.
    committer = AIOKafkaConsumer(**kafka, group_id=DLQ_REVIEWED_GROUP, enable_auto_commit=False)
    await committer.start()
    try:
        committer.assign(list(ends))
        await committer.commit({tp: end for tp, end in ends.items()})
    finally:
        await committer.stop()
    return before


async def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m btkernel.health")
    parser.add_argument("--bootstrap", help="Kafka bootstrap; default BT_KAFKA_BOOTSTRAP")
    # The login is BT_KAFKA_USERNAME/BT_KAFKA_PASSWORD: the administrator's, for review-dlq (ADR 0023).
    sub = parser.add_subparsers(dest="command", required=True)
    review = sub.add_parser("review-dlq", help="mark the dead letters now in a .dlq topic as reviewed")
    review.add_argument("topic")
    args = parser.parse_args(argv)
    if not args.topic.endswith(topics.DLQ_SUFFIX):
        parser.error(f"{args.topic} is not a dead-letter topic (…{topics.DLQ_SUFFIX})")
    kafka = client_options(ServiceSettings())
    if args.bootstrap:
        kafka["bootstrap_servers"] = args.bootstrap
    n = await review_dead_letters(kafka, args.topic)
    print(f"{n} dead letter(s) of {args.topic} marked reviewed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_cli(sys.argv[1:])))
