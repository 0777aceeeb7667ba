"""The consumer's costs beside their floors, in one run (issue 13, ADR 0041): printed, never asserted.

    python -m btkernel.consumer_bench [--dsn postgresql://…] [--events 2000] [--decodes 20000]

* decoding: records read raw (the JSON body parsed, the least any consumer does), by `Envelope.from_kafka`, and
  by the cloudevents library as before issue 13 — records per second and the ratios to raw;
* applying (with a database: `--dsn` or BT_DATABASE_URL): events per second through the consumer's own code with a
  trivial handler (one INSERT), one transaction per event (`apply_once`, the consumer before ADR 0041) beside
  partition batches (`_apply_records`, as the consume loop calls it) — the same records, Kafka left out so that
  only the database work is compared. The database gets the kernel's migrations and a scratch table, dropped after;
  the bench's own processed_events rows are deleted.

Timings are noisy on a shared machine: compare the ratios of one run, not figures across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

from btkernel import clock, db
from btkernel.consumer import IdempotentConsumer
from btkernel.context import RequestContext
from btkernel.envelope import Envelope

TYPE = "kz.civreg.bench.applied.v1"
# What one fetch of the consume loop returns at most (its `max_records`, the default `batch_max_events`).
FETCH_MAX_RECORDS = 200


@dataclass
class BenchRecord:
    """The part of an aiokafka ConsumerRecord the consumer reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def sample_records(n: int, topic: str = "bench.consumer", partitions: int = 6) -> list[BenchRecord]:
    """`n` records as the relay writes them: a forwarded application's size of data, traced, with every extension."""
    out = []
    for offset in range(n):
        env = Envelope(
            id=str(uuid.uuid4()),
            type=TYPE,
            source="/intake",
            subject=f"app-{offset % 97}",
            time=clock.now(),
            data={
                "application_id": str(uuid.uuid4()),
                "kind": "birth",
                "centre": "almaty-01",
                "details": {
                    "child": {"surname": "Қасымова", "name": "Әлия", "birth_date": "2026-01-01", "sex": "F"},
                    "parents": [{"iin": "900101400123", "surname": "Қасымов"}, {"iin": "920202500456"}],
                },
            },
            correlation_id=str(uuid.uuid4()),
            causation_id=str(uuid.uuid4()),
            actor="operator-7",
            traceparent=f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01",
        )
        key, value, headers = env.to_kafka()
        out.append(BenchRecord(topic, offset % partitions, offset, key, value, headers))
    return out


def _rate(n: int, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def decode_rates(records: Sequence[BenchRecord]) -> dict[str, float]:
    """Records per second: raw JSON body, `Envelope.from_kafka`, the cloudevents library's reading."""
    library = Envelope._from_kafka_by_library
    n = len(records)

    def raw() -> None:
        for r in records:
            json.loads(r.value)

    def direct() -> None:
        for r in records:
            Envelope.from_kafka(r.key, r.value, r.headers)

    def by_library() -> None:
        for r in records:
            library(r.key, r.value, r.headers)

    # Interleaved rounds, best of each: the machine's noise hits all three alike.
    rates: dict[str, float] = {}
    for _ in range(5):
        for name, fn in (("raw", raw), ("from_kafka", direct), ("library", by_library)):
            rates[name] = max(rates.get(name, 0.0), _rate(n, fn))
    return rates


async def apply_rates(
    dsn: str, n: int, batch_sizes: Sequence[int] = (200, 30), rounds: int = 5
) -> dict[str, float]:
    """Events per second into PostgreSQL: one transaction per event, then partition batches of each size."""
    pool = await db.create_pool(dsn, max_size=2)
    table = f"consumer_bench_{uuid.uuid4().hex[:8]}"
    group = f"bench.{table}"
    try:
        await db.migrate(pool)
        await pool.execute(f"CREATE TABLE {table} (n int)")

        async def handler(conn: asyncpg.Connection, env: Envelope, ctx: RequestContext) -> None:
            await conn.execute(f"INSERT INTO {table} VALUES ($1)", 1)

        def consumer(batch: int) -> IdempotentConsumer:
            return IdempotentConsumer(
                pool=pool,
                kafka={},
                group_id=group,
                topics=["bench.consumer"],
                handler=handler,
                service="bench",
                event_types=[TYPE],
                batch_max_events=batch,
                batch_max_s=60.0,
            )

        # Rounds with every mode in each, so that the machine's noise falls on all of them alike.
        modes: dict[str, IdempotentConsumer] = {"per_event": consumer(1)}
        modes.update({f"batch_{size}": consumer(size) for size in batch_sizes})
        spent = dict.fromkeys(modes, 0.0)
        per_round = max(1, n // rounds)
        for _ in range(rounds):
            for name, c in modes.items():
                # One partition: a catching-up consumer's fetches, so the batch bound is what is compared.
                records = sample_records(per_round, partitions=1)
                start = time.perf_counter()
                if name == "per_event":
                    for r in records:
                        await c.apply_once(Envelope.from_kafka(r.key, r.value, r.headers), r)
                else:
                    for i in range(0, len(records), FETCH_MAX_RECORDS):
                        # As the consume loop hands over one partition's fetch.
                        await c._apply_records(records[i : i + FETCH_MAX_RECORDS])
                spent[name] += time.perf_counter() - start
        total = per_round * rounds
        rates = {name: total / seconds for name, seconds in spent.items()}
        applied = await pool.fetchval(f"SELECT count(*) FROM {table}")
        if applied != total * len(modes):
            raise RuntimeError(f"the bench applied {applied} events, not {total * len(modes)}")
        return rates
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS {table}")
        await pool.execute("DELETE FROM processed_events WHERE consumer_group = $1", group)
        await pool.close()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m btkernel.consumer_bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--dsn", default=os.environ.get("BT_DATABASE_URL"), help="PostgreSQL (BT_DATABASE_URL)"
    )
    parser.add_argument("--events", type=int, default=2000, help="events applied per mode")
    parser.add_argument("--decodes", type=int, default=20000, help="records decoded per mode")
    args = parser.parse_args(argv)

    rates = decode_rates(sample_records(args.decodes))
    print(f"decode, records/s ({args.decodes} records):")
    for name, rate in rates.items():
        print(f"  {name:<12} {rate:>10,.0f}   raw/this {rates['raw'] / rate:5.1f}×")
    if not args.dsn:
        print("apply: no database (--dsn or BT_DATABASE_URL), skipped")
        return
    applied = asyncio.run(apply_rates(args.dsn, args.events))
    print(f"apply into PostgreSQL, events/s ({args.events} events per mode, trivial handler):")
    for name, rate in applied.items():
        print(f"  {name:<12} {rate:>10,.0f}   this/per_event {rate / applied['per_event']:5.1f}×")


if __name__ == "__main__":
    main()
