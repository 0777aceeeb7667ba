"""The rebuild rate at scale (issue 13 P3, ADR 0027): N record events written straight into scratch databases — the
registry's record streams and what intake's consumer kept of them — and onto a scratch topic, then, on the same
PostgreSQL (fsync on) and broker in one run, a raw aiokafka consumer reading the topic and the two rebuilds as an
operator runs them. Rates and ratios printed, never asserted.

    python -m btdeploy.bench_rebuild_scale --events 20000 100000 1000000 [--workers N] [--batch N]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import resource
import tempfile
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from btdeploy import kafka as kafka_mod
from btdeploy.aio import run_sync
from btdeploy.bench_rebuild import OFFICE, RECORD_TOPIC, Rate, raw_read, rebuild
from btdeploy.kafka import KafkaServer
from btdeploy.ports import free_port, free_ports
from btdeploy.postgres import PostgresServer
from btkernel import db
from btkernel.consumer import kept_envelope
from btkernel.envelope import Envelope
from btkernel.topics import TopicSpec
from civreg.events.record import BirthRegistered, RecordAmended, RecordAnnulled, RecordRegistered
from civreg.events.values import Person, PersonName

SCALE_OFFICES = ("almaty-almaly", "almaty-bostandyk", "astana-esil", "shymkent-al-farabi", "karaganda-city")
REGISTERED_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _templates() -> dict[str, dict[str, Any]]:
    """One event of each record type, through the event classes (so the data is what the registry stores); the
    generator varies only the ids, numbers, moments and IINs."""
    name = PersonName(surname="Ахметова", first_name="Айгерим", patronymic="Серікқызы")
    mother = Person(iin="900101400123", name=name, birth_date=dt.date(1990, 1, 1))
    father = Person(
        iin="880202300456",
        name=PersonName(surname="Ахметов", first_name="Нұрлан", patronymic="Серікұлы"),
        birth_date=dt.date(1988, 2, 2),
    )
    child = PersonName(surname="Ахметов", first_name="Әлихан", patronymic="Нұрланұлы")
    return {
        "birth": BirthRegistered(
            record_id="r",
            record_number="n",
            registry_office_id=OFFICE,
            registered_at=REGISTERED_AT,
            case_id="c",
            child_name=child,
            child_sex="male",
            child_birth_date=dt.date(2026, 2, 27),
            child_birth_place="Алматы",
            child_iin="260227500001",
            mother=mother,
            father=father,
        ).to_data(),
        "death": RecordRegistered(
            record_id="r",
            kind="death",
            record_number="n",
            registry_office_id=OFFICE,
            registered_at=REGISTERED_AT,
            case_id="c",
            subject=father,
            parties=[mother],
            facts={"death_date": "2026-02-28", "death_place": "Алматы"},
        ).to_data(),
        "amended": RecordAmended(
            record_id="r",
            case_id="c",
            amended_at=REGISTERED_AT,
            amended_by="exec-almaly-1",
            change="correction",
            changes={"child_birth_place": "Алматы, Алмалинский район"},
            reason="ошибка в записи",
            previous={"child_birth_place": "Алматы"},
        ).to_data(),
        "annulled": RecordAnnulled(
            record_id="r",
            case_id="c",
            annulled_at=REGISTERED_AT,
            annulled_by="head-almaly",
            reason="решение суда",
        ).to_data(),
    }


TYPES = {
    "birth": BirthRegistered.TYPE,
    "death": RecordRegistered.TYPE,
    "amended": RecordAmended.TYPE,
    "annulled": RecordAnnulled.TYPE,
}


@dataclass(frozen=True)
class GeneratedEvent:
    stream_id: str
    version: int
    event_id: str
    type: str
    data: dict[str, Any]
    recorded_at: dt.datetime


def record_history(n: int, seed: int = 13) -> list[GeneratedEvent]:
    """`n` events of record streams as the registry appends them: 85 % births, 8 % other acts (deaths), 5 %
    amendments and 2 % annulments of active records registered before."""
    rng = random.Random(seed)
    t = _templates()
    out: list[GeneratedEvent] = []
    versions: dict[str, int] = {}
    active: list[str] = []
    seqs: dict[tuple[str, str], int] = {}
    for i in range(n):
        roll = rng.random()
        at = REGISTERED_AT + dt.timedelta(seconds=i)
        kind = (
            "birth"
            if roll < 0.85 or not active
            else "death"
            if roll < 0.93
            else "amended"
            if roll < 0.98
            else "annulled"
        )
        if kind in ("birth", "death"):
            office = SCALE_OFFICES[i % len(SCALE_OFFICES)]
            seq = seqs[(office, kind)] = seqs.get((office, kind), 0) + 1
            record_id = f"rec-{i:08d}"
            data = {
                **t[kind],
                "record_id": record_id,
                "record_number": f"{office}/{kind}/2026/{seq:06d}",
                "registry_office_id": office,
                "case_id": f"case-{i:08d}",
                "registered_at": at.isoformat(),
            }
            if kind == "birth":
                data["child_iin"] = f"26{i:010d}"
            active.append(record_id)
        else:
            picked = rng.randrange(len(active))
            record_id = active[picked]
            data = {**t[kind], "record_id": record_id, "case_id": f"case-{i:08d}"}
            data["amended_at" if kind == "amended" else "annulled_at"] = at.isoformat()
            if kind == "annulled":
                active[picked] = active[-1]
                active.pop()
        versions[record_id] = version = versions.get(record_id, 0) + 1
        event_id = str(uuid.UUID(int=rng.getrandbits(128)))
        out.append(GeneratedEvent(record_id, version, event_id, TYPES[kind], data, at))
    return out


INTAKE_GROUP = "intake.records"
# What the consumer of intake.records applies (the rest of the topic it skips, and keeps nothing of).
INTAKE_TYPES = frozenset({BirthRegistered.TYPE, RecordRegistered.TYPE, RecordAnnulled.TYPE})


def _envelope(e: GeneratedEvent) -> Envelope:
    return Envelope(
        id=e.event_id,
        type=e.type,
        source="/registry",
        subject=e.stream_id,
        time=e.recorded_at,
        data=e.data,
        correlation_id=e.event_id,
        causation_id=None,
        actor="exec-almaly-1",
    )


def kept_rows(history: list[GeneratedEvent], partitions: int = 6) -> list[tuple[Any, ...]]:
    """What intake's consumer keeps of `history` (`processed_events` rows), partitions and offsets as the topic
    gives them: a subject's events in one partition, in order."""
    offsets = [0] * partitions
    kept = []
    for e in history:
        if e.type not in INTAKE_TYPES:
            continue
        partition = zlib.crc32(e.stream_id.encode()) % partitions
        # As the consumer writes it: its text (UTF-8, not ASCII escapes) is what a rebuild reads and decodes.
        envelope = kept_envelope(_envelope(e))
        kept.append((INTAKE_GROUP, e.event_id, RECORD_TOPIC, partition, offsets[partition], envelope))
        offsets[partition] += 1
    return kept


async def write_streams(dsn: str, history: list[GeneratedEvent]) -> None:
    """The registry's record streams (`events`), by COPY."""
    # A plain connection: asyncpg's own jsonb codec takes JSON text, which COPY sends as it is.
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "events",
            records=(
                (
                    e.stream_id,
                    e.version,
                    "record",
                    uuid.UUID(e.event_id),
                    e.type,
                    json.dumps(e.data),
                    e.recorded_at,
                )
                for e in history
            ),
            columns=("stream_id", "version", "stream_type", "event_id", "event_type", "data", "recorded_at"),
        )
        await conn.execute("ANALYZE events")
    finally:
        await conn.close()


async def write_kept(dsn: str, kept: list[tuple[Any, ...]]) -> None:
    """Rows of `kept_rows` into intake's `processed_events`, by COPY."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "processed_events",
            records=kept,
            columns=("consumer_group", "event_id", "topic", "kafka_partition", "kafka_offset", "envelope"),
        )
        await conn.execute("ANALYZE processed_events")
    finally:
        await conn.close()


async def produce(kafka_options: dict[str, Any], topic: str, history: list[GeneratedEvent]) -> None:
    """The same events on `topic` in the platform's wire form (CloudEvents binary mode, key = subject)."""
    producer = AIOKafkaProducer(**kafka_options, linger_ms=20, max_batch_size=512 * 1024, acks="all")
    await producer.start()
    try:
        pending = []
        for e in history:
            key, value, headers = _envelope(e).to_kafka()
            pending.append(await producer.send(topic, value=value, key=key, headers=headers))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _scratch_databases(server: PostgresServer, suffix: str) -> tuple[str, str]:
    dsns = []
    for name, package in (("registry", "registry.migrations"), ("intake", "intake.migrations")):
        await server.create_database(f"{name}_{suffix}")
        dsn = server.owner_dsn(f"{name}_{suffix}")
        conn = await db.connect(dsn)
        try:
            await db.migrate(conn, package)
        finally:
            await conn.close()
        dsns.append(dsn)
    return dsns[0], dsns[1]


def tree_cpu(pid: int | None) -> float:
    """CPU seconds of process `pid` and its descendants, the finished ones included (a parent's reaped children
    count in its cutime/cstime): a broker's or a database server's work, whatever else the machine runs."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime, stime, cutime, cstime
    return own + sum(tree_cpu(int(c)) for c in children)


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Measured:
    """A rate (wall clock: what an operator waits) and the CPU it took, all processes involved."""

    rate: Rate
    cpu_s: float
    # Of which the broker's (raw read) or the database server's (rebuild).
    server_cpu_s: float

    @property
    def cpu_us_per_event(self) -> float:
        return self.cpu_s / self.rate.events * 1e6 if self.rate.events else float("nan")


def measure_scale(
    server: PostgresServer,
    kafka: KafkaServer,
    n: int,
    *,
    workers: int | None = None,
    batch: int | None = None,
    processes: int | None = None,
) -> list[str]:
    """One size: generate, write, produce, then time the raw read and the two rebuilds (each in a process of its
    own, as an operator runs it) on the same PostgreSQL and broker. Besides the wall clock, the CPU each took:
    the raw read's own and the broker's; a rebuild's own (its processes) and the database server's. On a machine
    shared with other work the rates follow the load, the CPU per event much less."""
    suffix = f"{n}_{uuid.uuid4().hex[:6]}"
    topic = f"bench.record.{suffix}"
    kafka.admin().ensure_topics([TopicSpec(topic, partitions=6)], replication_factor=1)
    history = record_history(n)
    registry_dsn, intake_dsn = run_sync(_scratch_databases(server, suffix))
    kept = kept_rows(history)
    run_sync(write_streams(registry_dsn, history))
    run_sync(write_kept(intake_dsn, kept))
    run_sync(produce(kafka.admin_options(), topic, history))
    own_before, broker_before = _self_cpu(), tree_cpu(kafka.pid)
    raw_rate = run_sync(raw_read(kafka.admin_options(), n, timeout_s=1200, topic=topic))
    broker = tree_cpu(kafka.pid) - broker_before
    raw = Measured(raw_rate, _self_cpu() - own_before + broker, broker)
    extra = [
        *(["--workers", str(workers)] if workers else []),
        *(["--batch", str(batch)] if batch else []),
        *(["--processes", str(processes)] if processes else []),
    ]

    def timed(dsn: str, target: str, projection: str) -> Measured:
        own_before, server_before = _children_cpu(), tree_cpu(server.pid)
        rate = rebuild(dsn, target, projection, extra)
        server_cpu = tree_cpu(server.pid) - server_before
        return Measured(rate, _children_cpu() - own_before + server_cpu, server_cpu)

    own = timed(registry_dsn, "registry.projections", "records")
    consumed = timed(intake_dsn, "intake.projections", "known_records")
    return scale_lines(n, len(kept), raw, own, consumed)


def scale_lines(n: int, applied: int, raw: Measured, own: Measured, consumed: Measured) -> list[str]:
    def line(name: str, m: Measured) -> str:
        r = m.rate
        ratio = r.per_second / raw.rate.per_second if raw.rate.per_second else float("nan")
        cpu_ratio = raw.cpu_us_per_event / m.cpu_us_per_event if m.cpu_us_per_event else float("nan")
        return (
            f"  {name:<30} {r.events:>8} events in {r.seconds:7.2f} s {r.per_second:9.0f} events/s"
            f"   × raw {ratio:5.2f}   CPU {m.cpu_us_per_event:6.0f} µs/event"
            f" ({m.server_cpu_s / r.events * 1e6 if r.events else 0:5.0f} of it the server's)"
            f"   raw's CPU/event ÷ this {cpu_ratio:5.2f}"
            + (f"   the live table locked {r.locked_ms:.0f} ms" if r.locked_ms is not None else "")
        )

    return [
        f"{n} record events ({applied} of them applied by intake.records), load average {os.getloadavg()[0]:.1f}"
        f" on {os.cpu_count()} cores",
        line("raw consumer (+ broker CPU)", raw),
        line("rebuild records (+ PostgreSQL)", own),
        line("rebuild known_records (+ PG)", consumed),
    ]


def scale_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m btdeploy.bench_rebuild",
        description="Rebuild rates at scale beside a raw consumer (issue 13 P3); PostgreSQL with fsync on.",
    )
    parser.add_argument("--events", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--workers", type=int)
    parser.add_argument("--batch", type=int)
    parser.add_argument("--processes", type=int)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bt-bench-rebuild-") as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)  # the postgres OS user must enter it
        kafka_mod.fetch(quiet=True)
        port, controller = free_ports(2)
        kafka = KafkaServer(workdir / "kafka", port, controller)
        server = PostgresServer(workdir / "postgres", free_port(), fast=False)
        kafka.launch()
        try:
            server.start()
            try:
                kafka.wait_ready()
                for n in args.events:
                    print(
                        "\n".join(
                            measure_scale(
                                server,
                                kafka,
                                n,
                                workers=args.workers,
                                batch=args.batch,
                                processes=args.processes,
                            )
                        ),
                        flush=True,
                    )
            finally:
                server.stop()
                server.remove()
        finally:
            kafka.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(scale_main())
