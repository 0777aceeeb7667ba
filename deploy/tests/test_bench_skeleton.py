"""The card's skeleton of `make bench` (btdeploy.bench_skeleton) on a real PostgreSQL and broker: what the endpoint
accepts through the bare proxy is kept once by each of the three consumers, with a submission → kept delay; the
processes' pids are what the bench counts CPU by. P3's skeleton replay reads its group's kept events and nothing
else. No timing: a delay is only checked to be one."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import httpx
import pytest

from btdeploy.bench_bare import ROUTE
from btdeploy.bench_rebuild import replay_skeleton
from btdeploy.bench_replay_skeleton import shard_table
from btdeploy.bench_skeleton import (
    APPLICATIONS,
    GUARANTEED_APPLICATIONS,
    OUTBOX,
    ROLES,
    SkeletonProcesses,
    table_of,
    wait_consumed,
)
from btdeploy.bench_skeleton_measure import Skeleton
from btdeploy.kafka import KafkaServer
from btdeploy.samples import birth_application
from btdeploy.stack import Stack
from btdeploy.testing import DatabaseFactory, TopicFactory
from btkernel import db

pytestmark = pytest.mark.integration


async def test_each_consumer_keeps_every_accepted_application_once(
    make_database: DatabaseFactory,
    make_topic: TopicFactory,
    kafka_options: dict[str, Any],
    bt_workdir: Path,
) -> None:
    dsn = await make_database("bench_skeleton")
    topic = make_topic("bench.skeleton", partitions=3, dead_letters=False)
    with SkeletonProcesses(bt_workdir / "bench-skeleton-test", dsn, kafka_options, topic) as skeleton:
        assert set(skeleton.pids()) == {
            "skeleton proxy",
            "skeleton endpoint",
            *(f"skeleton {role} consumer" for role in ROLES),
        }
        async with httpx.AsyncClient(base_url=skeleton.proxy.url, timeout=30.0) as http:
            answers = [await http.post(ROUTE, json=birth_application()) for _ in range(5)]
            wrong = birth_application()
            del wrong["applicant"]["iin"]
            refused = await http.post(ROUTE, json=wrong)
        assert [a.status_code for a in answers] == [201] * 5, [a.text for a in answers]
        assert refused.status_code == 422
        ids = [a.json()["application_id"] for a in answers]
        kept = await wait_consumed(dsn, ids, 60.0)
    assert {role: sorted(found) for role, found in kept.items()} == {role: sorted(ids) for role in ROLES}
    assert all(0 < d < 60.0 for found in kept.values() for d in found.values())
    conn = await asyncpg.connect(dsn)
    try:
        # The refused body was neither kept nor published.
        assert await conn.fetchval(f"SELECT count(*) FROM {APPLICATIONS}") == 5
        for role in ROLES:
            assert await conn.fetchval(f"SELECT count(*) FROM {table_of(role)}") == 5
    finally:
        await conn.close()


async def test_the_guaranteed_skeleton_numbers_without_gaps_and_each_consumer_keeps_every_application_once(
    make_database: DatabaseFactory,
    make_topic: TopicFactory,
    kafka_options: dict[str, Any],
    bt_workdir: Path,
) -> None:
    dsn = await make_database("bench_guaranteed")
    topic = make_topic("bench.guaranteed", partitions=3, dead_letters=False)
    workdir = bt_workdir / "bench-guaranteed-test"
    with SkeletonProcesses(workdir, dsn, kafka_options, topic, guarantees=True) as skeleton:
        assert set(skeleton.pids()) == {
            "guaranteed proxy",
            "guaranteed endpoint",
            *(f"guaranteed {role} consumer" for role in ROLES),
        }
        async with httpx.AsyncClient(base_url=skeleton.proxy.url, timeout=30.0) as http:
            first = [await http.post(ROUTE, json=birth_application()) for _ in range(3)]
            wrong = birth_application()
            wrong["applicant"]["iin"] = "12345"
            refused = await http.post(ROUTE, json=wrong)
            # Concurrent ones take the centre's counter row in turn.
            rest = await asyncio.gather(*(http.post(ROUTE, json=birth_application()) for _ in range(6)))
        answers = [*first, *rest]
        assert [a.status_code for a in answers] == [201] * 9, [a.text for a in answers]
        assert refused.status_code == 422
        ids = [a.json()["application_id"] for a in answers]
        kept = await wait_consumed(dsn, ids, 60.0)
    assert {role: sorted(found) for role, found in kept.items()} == {role: sorted(ids) for role in ROLES}
    conn = await asyncpg.connect(dsn)
    try:
        numbers = await conn.fetch(
            f"SELECT application_id::text AS id, receipt_number FROM {GUARANTEED_APPLICATIONS}"
            " ORDER BY receipt_number"
        )
        assert [r["receipt_number"] for r in numbers] == list(range(1, 10))
        assert sorted(r["id"] for r in numbers) == sorted(ids)
        # Every event went through the outbox, and the relay marked each once it was committed on the topic.
        assert await conn.fetchval(f"SELECT count(*) FROM {OUTBOX} WHERE published_at IS NOT NULL") == 9
        assert await conn.fetchval(f"SELECT count(*) FROM {OUTBOX}") == 9
    finally:
        await conn.close()
    # No relay round failed on the way (a failed one is printed to the log and tried again).
    assert "Traceback" not in (workdir / "guaranteed-endpoint.log").read_text()


async def test_the_replay_skeleton_reads_every_kept_event_of_its_group_and_leaves_no_table(
    make_database: DatabaseFactory,
) -> None:
    dsn = await make_database("bench_replay_skeleton")
    migrating = await db.connect(dsn)
    try:
        await db.migrate(migrating)
    finally:
        await migrating.close()
    # A plain connection, as `bench_rebuild_scale.write_kept`: COPY sends the envelopes' JSON text as it is.
    conn = await asyncpg.connect(dsn)
    try:
        kept = [
            (
                group,
                f"e-{group}-{i}",
                "civreg.record",
                i % 2,
                i,
                json.dumps({"id": f"e-{group}-{i}", "subject": "r", "type": "t"}),
            )
            for group in ("intake.records", "other.group")
            for i in range(5)
        ]
        await conn.copy_records_to_table(
            "processed_events",
            records=kept,
            columns=("consumer_group", "event_id", "topic", "kafka_partition", "kafka_offset", "envelope"),
        )
        # As `make bench` runs it: a process of its own, a shard per core (partitions 0 and 1 here).
        rate = await asyncio.to_thread(replay_skeleton, dsn, "intake.records")
        assert rate.events == 5
        assert rate.seconds > 0
        for shard in range(4):
            assert await conn.fetchval("SELECT to_regclass($1)", shard_table(shard)) is None
    finally:
        await conn.close()


async def test_p2s_open_loop_through_the_skeleton_counts_what_each_consumer_kept_and_stops_what_it_started(
    make_database: DatabaseFactory, kafka_server: KafkaServer, bt_workdir: Path
) -> None:
    dsn = await make_database("bench_skeleton_open")
    # Only the broker of the stack is used to start the skeleton.
    skeleton = Skeleton(
        cast(Stack, SimpleNamespace(kafka=kafka_server)), dsn, bt_workdir / "bench-skeleton-open"
    )
    try:
        found = await skeleton.open_loop(20.0, 0.5)
        processes = skeleton.processes
        assert processes is not None
    finally:
        await skeleton.close()
    assert found["accepted"] == 10
    assert found["not_kept"] == {role: 0 for role in ROLES}
    assert all(found["kept"][role]["p99_ms"] > 0 for role in ROLES)
    assert skeleton.processes is None
    assert not any(p.running for p in processes.processes())
