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

from btdeploy import bench_kafka, bench_rebuild
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


async def at_scale(stack: Stack, opts: argparse.Namespace) -> dict[str, Any]:
    """P3 at a size that means something: `--rebuild-scale` record events (`bench_rebuild_scale.record_history`)
    written straight into scratch databases and onto a scratch topic on the same PostgreSQL and broker, then the
    raw consumer and the two rebuilds, as an operator runs them."""
    n = opts.rebuild_scale
    suffix = uuid.uuid4().hex[:8]
    topic = f"bench.record.{suffix}"
    admin = stack.kafka.admin()
    await asyncio.to_thread(admin.ensure_topics, [TopicSpec(topic, partitions=bench_kafka.PARTITIONS)])
    try:
        history = scale.record_history(n)
        registry_dsn, intake_dsn = await _scratch_databases(stack, suffix)
        kept = scale.kept_rows(history, bench_kafka.PARTITIONS)
        await scale.write_streams(registry_dsn, history)
        await scale.write_kept(intake_dsn, kept)
        applied = len(kept)
        await scale.produce(stack.kafka.admin_options(), topic, history)
        raw = await bench_rebuild.raw_read(stack.kafka.admin_options(), n, timeout_s=600, topic=topic)
    finally:
        await asyncio.to_thread(admin.delete_topic, topic)
    own = await asyncio.to_thread(bench_rebuild.rebuild, registry_dsn, "registry.projections", "records")
    consumed = await asyncio.to_thread(
        bench_rebuild.rebuild, intake_dsn, "intake.projections", "known_records"
    )
    return {
        "record_events": n,
        "generated_through": "straight into scratch databases and a scratch topic (bench_rebuild_scale)",
        "applied_by_intake": applied,
        "rebuild_known_records_per_s": consumed.per_second,
        "rebuild_known_records_events": consumed.events,
        "raw_consume_per_s": raw.per_second,
        "raw_consume_events": raw.events,
        "rebuild_records_per_s": own.per_second,
        "rebuild_records_events": own.events,
        "lines": _lines(n, applied, raw, own, consumed),
    }


def _lines(
    n: int, applied: int, raw: bench_rebuild.Rate, own: bench_rebuild.Rate, consumed: bench_rebuild.Rate
) -> list[str]:
    def line(name: str, r: bench_rebuild.Rate) -> str:
        ratio = f"{r.per_second / raw.per_second:.2f}" if raw.per_second else "n/a"
        return f"{name:<32} {r.events:>8} events in {r.seconds:7.2f} s {r.per_second:9.0f} events/s   × raw {ratio}"

    return [
        f"{n} record events generated ({applied} of them applied by intake.records)",
        line("raw consumer, scratch topic", raw),
        line("rebuild records (registry)", own),
        line("rebuild known_records (intake)", consumed),
    ]
