"""P3 of `make bench` (issue 13): rebuilding a projection from its history beside a raw consumer of the topic, at
two sizes. Small: cases the load opened, registered now through the gateway (real events), rebuilt in the stack's
own databases (`bench_rebuild.measure`). At scale: a generated record history (`bench_rebuild_scale`) written
straight into scratch databases and onto a scratch topic on the same PostgreSQL and broker, since registering tens
of thousands of cases through the gateway would take hours.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from typing import Any

import asyncpg

from btdeploy import bench_kafka, bench_procs, bench_rebuild
from btdeploy import bench_rebuild_scale as scale
from btdeploy.stack import Stack
from btkernel import db
from btkernel.topics import TopicSpec


async def opened_applications(stack: Stack, limit: int) -> list[str]:
    conn = await asyncpg.connect(stack.database_url("registry"))
    try:
        rows = await conn.fetch(
            "SELECT application_id FROM cases WHERE completed_at IS NULL ORDER BY opened_at LIMIT $1", limit
        )
    finally:
        await conn.close()
    return [str(r["application_id"]) for r in rows]


async def small(stack: Stack, application_ids: list[str], opts: argparse.Namespace) -> dict[str, Any]:
    lines, figures = await bench_rebuild.measure(
        stack, application_ids[: opts.rebuild_events], opts.concurrency
    )
    return figures | {"lines": lines}


async def _scratch_databases(stack: Stack, suffix: str) -> tuple[str, str]:
    """A registry and an intake database of their own, migrated, for the history written straight into them."""
    dsns = []
    for service, package in (("registry", "registry.migrations"), ("intake", "intake.migrations")):
        name = f"bt_bench_{service}_{suffix}"
        await stack.postgres.create_database(name)
        conn = await db.connect(stack.postgres.owner_dsn(name))
        try:
            await db.migrate(conn, package)
        finally:
            await conn.close()
        dsns.append(stack.postgres.owner_dsn(name))
    return dsns[0], dsns[1]


# Each of the three measured again, alternating, and the median kept: a second of work each, on a shared machine.
ROUNDS = 3


def median_rate(rates: list[bench_rebuild.Rate]) -> bench_rebuild.Rate:
    return sorted(rates, key=lambda r: r.per_second)[len(rates) // 2]


async def at_scale(stack: Stack, opts: argparse.Namespace) -> dict[str, Any]:
    """P3 at a size that means something: `--rebuild-scale` record events (`bench_rebuild_scale.record_history`)
    written straight into scratch databases and onto a scratch topic on the same PostgreSQL and broker, then, once
    the platform is quiet, the raw consumer and the two rebuilds, as an operator runs them, ROUNDS times in turn;
    the median of each is the figure."""
    n = opts.rebuild_scale
    suffix = uuid.uuid4().hex[:8]
    topic = f"bench.record.{suffix}"
    admin = stack.kafka.admin()
    await asyncio.to_thread(admin.ensure_topics, [TopicSpec(topic, partitions=bench_kafka.PARTITIONS)])
    raws: list[bench_rebuild.Rate] = []
    owns: list[bench_rebuild.Rate] = []
    consumeds: list[bench_rebuild.Rate] = []
    skeletons: list[bench_rebuild.Rate] = []
    try:
        history = scale.record_history(n)
        registry_dsn, intake_dsn = await _scratch_databases(stack, suffix)
        kept = scale.kept_rows(history, bench_kafka.PARTITIONS)
        await scale.write_streams(registry_dsn, history)
        await scale.write_kept(intake_dsn, kept)
        applied = len(kept)
        await scale.produce(stack.kafka.admin_options(), topic, history)
        # The acts' and P3's own registrations still being projected would be noise in both rates.
        waited = await bench_procs.wait_until_quiet(stack.pids())
        for _ in range(ROUNDS):
            raws.append(
                await bench_rebuild.raw_read(stack.kafka.admin_options(), n, timeout_s=600, topic=topic)
            )
            owns.append(
                await asyncio.to_thread(
                    bench_rebuild.rebuild, registry_dsn, "registry.projections", "records"
                )
            )
            consumeds.append(
                await asyncio.to_thread(
                    bench_rebuild.rebuild, intake_dsn, "intake.projections", "known_records"
                )
            )
            skeletons.append(
                await asyncio.to_thread(bench_rebuild.replay_skeleton, intake_dsn, scale.INTAKE_GROUP)
            )
    finally:
        await asyncio.to_thread(admin.delete_topic, topic)
    raw, own, consumed = median_rate(raws), median_rate(owns), median_rate(consumeds)
    skeleton = median_rate(skeletons)
    return {
        "record_events": n,
        "generated_through": "straight into scratch databases and a scratch topic (bench_rebuild_scale)",
        "applied_by_intake": applied,
        "quiet_after_s": waited,
        "rounds": ROUNDS,
        "rebuild_known_records_per_s": consumed.per_second,
        "rebuild_known_records_events": consumed.events,
        "rebuild_known_records_all_per_s": [r.per_second for r in consumeds],
        "raw_consume_per_s": raw.per_second,
        "raw_consume_events": raw.events,
        "raw_consume_all_per_s": [r.per_second for r in raws],
        "rebuild_records_per_s": own.per_second,
        "rebuild_records_events": own.events,
        "rebuild_records_all_per_s": [r.per_second for r in owns],
        # How long each swap held the live table, each run in turn (ms): what requests waited at most.
        "rebuild_records_locked_ms": [r.locked_ms for r in owns],
        "rebuild_known_records_locked_ms": [r.locked_ms for r in consumeds],
        "skeleton_replay_per_s": skeleton.per_second,
        "skeleton_replay_all_per_s": [r.per_second for r in skeletons],
        "lines": [
            f"the platform quiet after {waited:.0f} s; each measured {ROUNDS} times in turn, the median kept",
            *_lines(n, applied, raw, own, consumed),
            _line("skeleton replay (intake.records)", skeleton, raw),
        ],
    }


def _line(name: str, r: bench_rebuild.Rate, raw: bench_rebuild.Rate) -> str:
    ratio = f"{r.per_second / raw.per_second:.2f}" if raw.per_second else "n/a"
    locked = f"   the live table locked {r.locked_ms:.0f} ms" if r.locked_ms is not None else ""
    return (
        f"{name:<32} {r.events:>8} events in {r.seconds:7.2f} s {r.per_second:9.0f} events/s   × raw {ratio}"
        f"{locked}"
    )


def _lines(
    n: int, applied: int, raw: bench_rebuild.Rate, own: bench_rebuild.Rate, consumed: bench_rebuild.Rate
) -> list[str]:
    return [
        f"{n} record events generated ({applied} of them applied by intake.records)",
        _line("raw consumer, scratch topic", raw, raw),
        _line("rebuild records (registry)", own, raw),
        _line("rebuild known_records (intake)", consumed, raw),
    ]
