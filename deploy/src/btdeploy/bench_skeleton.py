"""The design card's skeleton for `make bench` (issue 13): what the card's shape costs on this machine before any of
the platform's own work, so the platform's figures can be read against the least that shape allows, not only
against a single insert.

The card fixes the shape (docs/adr/0043, "the card's skeleton"): a request comes through the gateway; intake keeps
the application and publishes an event to Kafka; the registry, the fee service and the notification service each
consume that event independently and keep what they need in PostgreSQL. The skeleton is that path and nothing more:

* the bare proxy (`bench_bare.proxy_app`) in front of
* `endpoint_app`: `bench_bare`'s pydantic body and one INSERT, then one record to Kafka (acks=all, idempotent, no
  transaction, no outbox: an application whose record is lost in a crash stays unpublished, which no real intake
  may allow);
* `consumer_app`, three processes (as registry, fee, notification), a consumer group each: every batch of records
  decoded and inserted in one transaction (keyed, so a record read twice is kept once), then its offsets committed.

The guaranteed skeleton is the same shape held to the guarantees the issue says nothing may be bought with, and to
ADR 0029's: `guaranteed_endpoint_app` takes a receipt number without gaps per centre and year and keeps the
application and its event (an outbox row) in one statement, and answers once that has committed; an outbox relay in
the same process sends the pending rows (acks=all), a round a Kafka transaction, and marks them; its consumers read
read_committed. It is the least an implementation of the card that keeps the platform's promises can cost.

No sign-in, idempotency, event store, history chain, case, deadline or fee logic in either: the platform's figures
over the skeletons' are what those cost. Every part runs as its own process on a free port (the consumers answer
/health once their group has its partitions) so that its CPU is measured by pid, like the platform's. Settings from
the environment: `BT_BENCH_BARE_DSN`, `BT_BENCH_SKELETON_TOPIC`, `BT_BENCH_KAFKA_*`, `BT_BENCH_SKELETON_ROLE` (a
consumer's), `BT_BENCH_SKELETON_TRANSACTIONS` (the guaranteed skeleton's; "0" leaves the transactions out).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI, Response

from btdeploy.bench_bare import ROUTE, Accepted, BirthApplication, app_with_health, applications_pool
from btdeploy.bench_kafka import raw_producer
from btdeploy.ports import free_ports
from btdeploy.processes import ServiceProcess
from btkernel.kafka_client import sasl_options

APPLICATIONS = "skeleton_applications"
ROLES = ("registry", "fee", "notification")  # the card's three consumers of the submission's event
MAX_RECORDS = 500  # records per batch at most, as a consumer of the platform takes them


def table_of(role: str) -> str:
    return f"skeleton_{role}"


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _kafka_options() -> dict[str, Any]:
    return sasl_options(
        os.environ["BT_BENCH_KAFKA_BOOTSTRAP"],
        os.environ["BT_BENCH_KAFKA_USERNAME"],
        os.environ["BT_BENCH_KAFKA_PASSWORD"],
    )


def endpoint_app() -> FastAPI:
    """The application kept, then its event published; 201 once the broker has it (acks=all)."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state["topic"] = os.environ["BT_BENCH_SKELETON_TOPIC"]
        state["db"] = await applications_pool(APPLICATIONS)
        state["kafka"] = raw_producer(_kafka_options(), state["topic"], transactional=False)
        await state["kafka"].start()
        yield
        await state["kafka"].stop()
        await state["db"].close()

    app = app_with_health(lifespan)

    @app.post(ROUTE, status_code=201)
    async def submit(body: BirthApplication) -> Accepted:
        application_id = uuid.uuid4()
        document = body.model_dump_json()
        received_at = await state["db"].fetchval(
            f"INSERT INTO {APPLICATIONS} (application_id, service_id, applicant_iin, body)"
            " VALUES ($1, $2, $3, $4::jsonb) RETURNING received_at",
            application_id,
            body.service_id,
            body.applicant.iin,
            document,
        )
        event = {
            "application_id": str(application_id),
            "submitted_at": received_at.isoformat(),
            "application": json.loads(document),
        }
        await state["kafka"].send_and_wait(
            state["topic"], json.dumps(event).encode(), key=application_id.bytes
        )
        return Accepted(application_id=str(application_id))

    return app


# The guaranteed skeleton's relay commits each round as a Kafka transaction and its consumers read read_committed,
# as the platform's relays do (ADR 0029: no record twice on a topic after a takeover). "0": without, for a one-off.
TRANSACTIONS = os.environ.get("BT_BENCH_SKELETON_TRANSACTIONS", "1") == "1"
GUARANTEED_APPLICATIONS = "skeleton_guaranteed_applications"
COUNTERS = "skeleton_receipt_counters"
OUTBOX = "skeleton_outbox"
CENTRE = "skeleton-centre"  # one centre, as P1's submissions all come from one (`bench_load.CENTRE`)
RELAY_BATCH = 500  # rows a relay round takes at most, as the platform's relay (`BT_RELAY_BATCH_SIZE`)

# One statement, so one round trip and its own transaction: the centre's counter row taken (held until the commit,
# so numbers have no gaps: a failed submission rolls its number back), the application kept, its event written
# to the outbox with the number and the moment it was kept.
_SUBMIT_GUARANTEED = f"""
WITH n AS (
    INSERT INTO {COUNTERS} (centre_id, year, last) VALUES ($1, extract(year FROM now())::int, 1)
    ON CONFLICT (centre_id, year) DO UPDATE SET last = {COUNTERS}.last + 1 RETURNING last
), a AS (
    INSERT INTO {GUARANTEED_APPLICATIONS} (application_id, service_id, applicant_iin, receipt_number, body)
    SELECT $2, $3, $4, n.last, $5::jsonb FROM n RETURNING received_at, receipt_number
)
INSERT INTO {OUTBOX} (application_id, event)
SELECT $2, jsonb_build_object('application_id', $2::text, 'receipt_number', a.receipt_number,
                              'submitted_at', a.received_at, 'application', $5::jsonb)::text
FROM a
"""


async def _guaranteed_tables(pool: asyncpg.Pool) -> None:
    await pool.execute(
        f"CREATE TABLE IF NOT EXISTS {COUNTERS} (centre_id text, year int, last bigint NOT NULL,"
        " PRIMARY KEY (centre_id, year));"
        f" CREATE TABLE IF NOT EXISTS {GUARANTEED_APPLICATIONS} (application_id uuid PRIMARY KEY,"
        " service_id text NOT NULL, applicant_iin text NOT NULL, receipt_number bigint NOT NULL,"
        " body jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now());"
        f" CREATE TABLE IF NOT EXISTS {OUTBOX} (id bigserial PRIMARY KEY, application_id uuid NOT NULL,"
        " event text NOT NULL, published_at timestamptz);"
        f" CREATE INDEX IF NOT EXISTS {OUTBOX}_pending ON {OUTBOX} (id) WHERE published_at IS NULL"
    )


async def _relay(pool: asyncpg.Pool, producer: Any, topic: str, wake: asyncio.Event) -> None:
    """The least outbox relay: pending rows in id order, sent (idempotent, acks=all) in one Kafka transaction,
    marked once it is committed. One process, so no leader lock or read-back. The consumers' keyed insert keeps an
    event once in every projection even without the transaction."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), 0.5)
        wake.clear()
        try:
            await _relay_round(pool, producer, topic, wake)
        except Exception:
            # In the process's log; the rows stay pending and the next round sends them (a bench's skeleton).
            traceback.print_exc()
            await asyncio.sleep(1.0)


async def _relay_round(pool: asyncpg.Pool, producer: Any, topic: str, wake: asyncio.Event) -> None:
    rows = await pool.fetch(
        f"SELECT id, application_id, event FROM {OUTBOX} WHERE published_at IS NULL ORDER BY id LIMIT $1",
        RELAY_BATCH,
    )
    if not rows:
        return
    async with producer.transaction() if TRANSACTIONS else contextlib.nullcontext():
        acks = [
            await producer.send(topic, row["event"].encode(), key=row["application_id"].bytes) for row in rows
        ]
        await asyncio.gather(*acks)
    await pool.execute(
        f"UPDATE {OUTBOX} SET published_at = now() WHERE id = ANY($1::bigint[])", [row["id"] for row in rows]
    )
    if len(rows) == RELAY_BATCH:
        wake.set()


def guaranteed_endpoint_app() -> FastAPI:
    """The skeleton held to the issue's guarantees ("nothing may be bought with a guarantee"): a receipt number
    without gaps per centre and year, the event kept with the application in one transaction (an outbox), so no
    crash loses it, published by a relay after the commit (acks=all); the consumers' keyed insert keeps each
    event once. 201 once committed, as intake answers with its receipt before the event is sent."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        topic = os.environ["BT_BENCH_SKELETON_TOPIC"]
        state["db"] = db = await applications_pool(APPLICATIONS)
        await _guaranteed_tables(db)
        producer = raw_producer(_kafka_options(), topic, transactional=TRANSACTIONS)
        await producer.start()
        state["wake"] = wake = asyncio.Event()
        relay = asyncio.create_task(_relay(db, producer, topic, wake))
        yield
        await _cancel(relay)
        await producer.stop()
        await db.close()

    app = app_with_health(lifespan)

    @app.post(ROUTE, status_code=201)
    async def submit(body: BirthApplication) -> Accepted:
        application_id = uuid.uuid4()
        await state["db"].execute(
            _SUBMIT_GUARANTEED,
            CENTRE,
            application_id,
            body.service_id,
            body.applicant.iin,
            body.model_dump_json(),
        )
        state["wake"].set()
        return Accepted(application_id=str(application_id))

    return app


def consumer_app() -> FastAPI:
    """One of the card's consumers: each batch of events kept in one transaction, offsets committed after it. The
    row's `consumed_at` is its transaction's start, as a case's `opened_at` in the registry."""
    role = os.environ.get("BT_BENCH_SKELETON_ROLE", "registry")
    table = table_of(role)
    state: dict[str, Any] = {}

    async def consume(consumer: AIOKafkaConsumer, conn: asyncpg.Connection) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=MAX_RECORDS)
            rows = []
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value or b"{}")
                    rows.append(
                        (
                            uuid.UUID(event["application_id"]),
                            event["submitted_at"],
                            json.dumps(event["application"]),
                        )
                    )
            if not rows:
                continue
            async with conn.transaction():
                await conn.executemany(
                    f"INSERT INTO {table} (application_id, submitted_at, application)"
                    " VALUES ($1, $2::text::timestamptz, $3::jsonb) ON CONFLICT DO NOTHING",
                    rows,
                )
            await consumer.commit()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        conn = await asyncpg.connect(os.environ["BT_BENCH_BARE_DSN"])
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (application_id uuid PRIMARY KEY,"
            " submitted_at timestamptz NOT NULL, application jsonb NOT NULL,"
            " consumed_at timestamptz NOT NULL DEFAULT now())"
        )
        topic = os.environ["BT_BENCH_SKELETON_TOPIC"]
        consumer = AIOKafkaConsumer(
            topic,
            **_kafka_options(),
            group_id=f"{topic}.{role}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            isolation_level="read_committed" if TRANSACTIONS else "read_uncommitted",
        )
        await consumer.start()
        state["consumer"] = consumer
        task = asyncio.create_task(consume(consumer, conn))
        yield
        await _cancel(task)
        await consumer.stop()
        await conn.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> Response:
        # Ready once the group has given this consumer its partitions: a record sent before that would still be
        # read (earliest), but the load's first latencies would include the group's join.
        ready = bool(state.get("consumer") and state["consumer"].assignment())
        return Response(status_code=200 if ready else 503)

    return app


# What `btkernel.serve` runs ("<module>:<attribute>"); their settings are read at start (lifespan), not here.
endpoint = endpoint_app()
guaranteed_endpoint = guaranteed_endpoint_app()
consumer = consumer_app()


class SkeletonProcesses:
    """The skeleton's five processes on free ports, stopped by pid: the bare proxy, the endpoint, three consumers;
    with `guarantees`, the endpoint held to the issue's guarantees (`guaranteed_endpoint_app`)."""

    def __init__(
        self,
        log_dir: Path,
        dsn: str,
        kafka_options: Mapping[str, Any],
        topic: str,
        *,
        guarantees: bool = False,
    ) -> None:
        endpoint_port, proxy_port, *consumer_ports = free_ports(2 + len(ROLES))
        self.name = "guaranteed" if guarantees else "skeleton"
        common = {
            "BT_BENCH_SKELETON_TRANSACTIONS": os.environ.get("BT_BENCH_SKELETON_TRANSACTIONS", "1")
            if guarantees
            else "0",
            "BT_BENCH_BARE_DSN": dsn,
            "BT_BENCH_SKELETON_TOPIC": topic,
            "BT_BENCH_KAFKA_BOOTSTRAP": str(kafka_options["bootstrap_servers"]),
            "BT_BENCH_KAFKA_USERNAME": str(kafka_options["sasl_plain_username"]),
            "BT_BENCH_KAFKA_PASSWORD": str(kafka_options["sasl_plain_password"]),
        }
        self.endpoint = ServiceProcess(
            f"{self.name}-endpoint",
            "btdeploy.bench_skeleton:" + ("guaranteed_endpoint" if guarantees else "endpoint"),
            endpoint_port,
            {"BT_SERVICE_NAME": f"{self.name}-endpoint", **common},
            log_dir / f"{self.name}-endpoint.log",
        )
        self.proxy = ServiceProcess(
            f"{self.name}-proxy",
            "btdeploy.bench_bare:proxy",
            proxy_port,
            {"BT_SERVICE_NAME": f"{self.name}-proxy", "BT_BENCH_UPSTREAM": self.endpoint.url},
            log_dir / f"{self.name}-proxy.log",
        )
        self.consumers = {
            role: ServiceProcess(
                f"{self.name}-{role}",
                "btdeploy.bench_skeleton:consumer",
                port,
                {"BT_SERVICE_NAME": f"{self.name}-{role}", "BT_BENCH_SKELETON_ROLE": role, **common},
                log_dir / f"{self.name}-{role}.log",
            )
            for role, port in zip(ROLES, consumer_ports, strict=True)
        }

    def processes(self) -> list[ServiceProcess]:
        return [self.endpoint, self.proxy, *self.consumers.values()]

    def pids(self) -> dict[str, list[int]]:
        """By part, named as `make bench` prints them."""
        found = {f"{self.name} proxy": self.proxy.pid, f"{self.name} endpoint": self.endpoint.pid}
        found |= {f"{self.name} {role} consumer": p.pid for role, p in self.consumers.items()}
        return {name: [pid] for name, pid in found.items() if pid is not None}

    def __enter__(self) -> SkeletonProcesses:
        try:
            for process in self.processes():
                process.start()
            for process in self.processes():
                process.wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        for process in reversed(self.processes()):
            process.stop()


async def consumed(dsn: str, application_ids: list[str]) -> dict[str, dict[str, float]]:
    """Per consumer, submission → the event kept, in seconds, for each of `application_ids` it has kept."""
    conn = await asyncpg.connect(dsn)
    try:
        found: dict[str, dict[str, float]] = {}
        for role in ROLES:
            rows = await conn.fetch(
                f"SELECT application_id::text AS id, extract(epoch FROM consumed_at - submitted_at) AS d"
                f" FROM {table_of(role)} WHERE application_id = ANY($1::uuid[])",
                application_ids,
            )
            found[role] = {r["id"]: float(r["d"]) for r in rows}
    finally:
        await conn.close()
    return found


async def wait_consumed(
    dsn: str, application_ids: list[str], timeout_s: float
) -> dict[str, dict[str, float]]:
    """`consumed` once every consumer has kept every one, or when `timeout_s` has passed."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = await consumed(dsn, application_ids)
        done = all(len(kept) >= len(application_ids) for kept in found.values())
        if done or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)
