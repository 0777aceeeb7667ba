"""More than one machine, on one: a three-node Kafka cluster and two instances each of intake and registry behind
the gateway (docs/adr/0029-more-than-one-machine.md).

A burst of submissions goes through the gateway, each with its Idempotency-Key and retried after Retry-After on a
503, as the counter software does. In the middle of it one broker, the intake instance that leads the outbox relay
and the registry instance that leads its relay are killed with SIGKILL. Then: every accepted submission has exactly
one case in the registry, each event is once in `civreg.application`, no answer was a 5xx other than a 503 with
Retry-After, and the gateway answered throughout. What was killed is started again and /health turns ok.

Its own cluster and stack (own databases on the session's PostgreSQL), not the session's `stack`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from btdeploy import kafka as kafka_mod
from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.kafka_cluster import KafkaCluster
from btdeploy.postgres import ExternalPostgres, PostgresServer
from btdeploy.processes import ServiceProcess
from btdeploy.samples import birth_application
from btdeploy.smtp_sink import SmtpSink
from btdeploy.stack import PortPlan, Stack
from civreg import topics

pytestmark = pytest.mark.e2e

BURST = 60
CONCURRENCY = 8
# Accepted submissions before the kills, so they meet requests in flight.
BEFORE_KILLS = 15
# btkernel.outbox's relay lock: a session advisory lock on this key (classid 0, objid the key).
RELAY_LOCK = 0x42_54_52_4C


@pytest.fixture(scope="module")
def cluster_stack(
    bt_workdir: Path, postgres_server: PostgresServer | ExternalPostgres, smtp_sink: SmtpSink
) -> Iterator[Stack]:
    kafka_mod.fetch()
    run_dir = bt_workdir / "cluster"
    cluster = KafkaCluster(run_dir / "kafka")
    cluster.start()
    try:
        whole = Stack(
            run_dir,
            PortPlan.free(),
            env_name="test",
            fast=True,
            postgres=postgres_server,
            kafka=cluster,
            smtp=smtp_sink,
            instances={"intake": 2, "registry": 2},
            database_suffix="_cluster",
        )
        whole.start()
        try:
            yield whole
        finally:
            whole.stop()
    finally:
        cluster.stop()


async def test_a_broker_and_an_instance_of_each_killed_mid_burst_lose_nothing_and_repeat_nothing(
    cluster_stack: Stack,
) -> None:
    stack = cluster_stack
    cluster = stack.kafka
    assert isinstance(cluster, KafkaCluster)
    operator = dev_user("centre_operator", "almaty-con-1")
    run = uuid.uuid4().hex[:8]
    work = [
        (f"cluster-{run}-{i}", birth_application(email=f"cluster-{run}-{i}@example.kz")) for i in range(BURST)
    ]
    answers: list[httpx.Response] = []
    accepted: dict[str, str] = {}

    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30.0) as client:
        gateway = Gateway(client)
        await gateway.token(operator)
        queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        for item in work:
            queue.put_nowait(item)

        async def worker() -> None:
            while not queue.empty():
                key, body = queue.get_nowait()
                accepted[key] = await _submit(gateway, operator, key, body, answers)

        health_seen: list[dict[str, Any]] = []
        stop_watching = asyncio.Event()

        async def watch_health() -> None:
            # The gateway answers throughout: every probe gets an HTTP answer (an exception fails the test).
            while not stop_watching.is_set():
                r = await client.get("/health")
                health_seen.append(r.json())
                await asyncio.sleep(0.3)

        watcher = asyncio.create_task(watch_health())
        workers = [asyncio.create_task(worker()) for _ in range(CONCURRENCY)]
        await eventually(lambda: _at_least(accepted, BEFORE_KILLS), what="submissions before the kills")
        intake = await _relay_leader(stack, "intake")
        registry = await _relay_leader(stack, "registry")
        broker = cluster.nodes[0]
        broker.kill()
        intake.kill()
        registry.kill()
        await asyncio.gather(*workers)

        # The instance stays away, so its absence is reported sooner or later: wait for that rather than hope a
        # probe fell in the burst's last moments (which depends on the machine's speed).
        async def intake_reported_down() -> bool:
            return any(_reports_down(h, intake.url) for h in health_seen)

        await eventually(
            intake_reported_down, what="the gateway's /health reporting the killed intake instance"
        )
        stop_watching.set()
        await watcher

    # No 5xx but an actionable 503; every key accepted once.
    for r in answers:
        assert r.status_code == 201 or (r.status_code == 503 and int(r.headers["retry-after"]) > 0), (
            f"{r.status_code}: {r.text[:300]}"
        )
    ids = sorted(set(accepted.values()))
    assert len(ids) == BURST, "an Idempotency-Key produced two applications"
    # /health named the killed instance while it was away.
    assert any(_reports_down(h, intake.url) for h in health_seen), (
        "the gateway's /health never reported the killed intake instance"
    )

    await _assert_one_case_each(stack, ids)
    await _assert_each_event_once(cluster, ids)

    # Back: the broker and both instances; the gateway's /health turns ok, instance by instance.
    await asyncio.to_thread(broker.start)
    await asyncio.gather(asyncio.to_thread(intake.restart), asyncio.to_thread(registry.restart))
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=10.0) as client:

        async def healthy() -> dict[str, Any] | None:
            body: dict[str, Any] = (await client.get("/health")).json()
            return body if body["status"] == "ok" else None

        body = await eventually(healthy, timeout_s=90, what="the gateway's /health ok after the restarts")
    for service in ("intake", "registry"):
        instances = body["upstreams"][service]["instances"]
        assert set(instances) == set(stack.urls(service))
        assert all(i["status"] == "ok" for i in instances.values()), instances


async def _submit(
    gateway: Gateway, operator: Any, key: str, body: dict[str, Any], answers: list[httpx.Response]
) -> str:
    deadline = time.monotonic() + 150
    while True:
        r = await gateway.as_(
            operator, "POST", "/api/v1/applications", json=body, headers={"Idempotency-Key": key}
        )
        answers.append(r)
        if r.status_code == 201:
            return str(r.json()["application_id"])
        if r.status_code != 503 or time.monotonic() > deadline:
            raise AssertionError(f"{key}: {r.status_code} {r.text[:300]}")
        await asyncio.sleep(int(r.headers.get("retry-after", "5")))


async def _relay_leader(stack: Stack, service: str) -> ServiceProcess:
    """The instance whose outbox relay holds the lock: its database session's client port, found among the sockets
    of the instances' processes."""
    db = await asyncpg.connect(stack.database_url(service))
    try:

        async def leader_port() -> int | None:
            port: int | None = await db.fetchval(
                "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1"
                " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                RELAY_LOCK,
            )
            return port

        port = await eventually(leader_port, timeout_s=30, what=f"the {service} relay's leader")
    finally:
        await db.close()
    for process in stack.instances(service):
        if process.pid is not None and _owns_local_port(process.pid, port):
            return process
    raise AssertionError(f"no {service} instance owns the relay's session (port {port})")


def _owns_local_port(pid: int, port: int) -> bool:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    with contextlib.suppress(FileNotFoundError, PermissionError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return True
    return False


async def _assert_one_case_each(stack: Stack, ids: list[str]) -> None:
    db = await asyncpg.connect(stack.database_url("registry"))
    try:

        async def all_opened() -> bool:
            n = await db.fetchval("SELECT count(*) FROM cases WHERE application_id = ANY($1)", ids)
            return bool(n >= len(ids))

        await eventually(all_opened, timeout_s=90, what="a case for every accepted submission")
        per_app = await db.fetch(
            "SELECT application_id, count(*) AS n FROM cases WHERE application_id = ANY($1) GROUP BY 1", ids
        )
        assert sorted(r["application_id"] for r in per_app) == ids
        assert all(r["n"] == 1 for r in per_app), [dict(r) for r in per_app if r["n"] != 1]
    finally:
        await db.close()


async def _assert_each_event_once(cluster: KafkaCluster, ids: list[str]) -> None:
    """Read as the administrator, committed records only: every accepted application's events are there, each
    event id once (a relay taking over sends nothing its dead predecessor had sent: btkernel.outbox_takeover)."""
    consumer = AIOKafkaConsumer(
        topics.APPLICATION,
        **cluster.admin_options(),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        while not consumer.assignment():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        ends = await consumer.end_offsets(list(consumer.assignment()))
        events: Counter[str] = Counter()
        subjects: set[str] = set()
        deadline = time.monotonic() + 60
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            assert time.monotonic() < deadline, "civreg.application not read to its end in 60 s"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    events[dict(record.headers)["ce_id"].decode()] += 1
                    subjects.add(record.key.decode() if record.key else "")
    finally:
        await consumer.stop()
    assert set(ids) <= subjects, "an accepted application has no event in civreg.application"
    twice = {event_id: n for event_id, n in events.items() if n > 1}
    assert not twice, f"events published more than once: {twice}"


async def _at_least(done: dict[str, Any], n: int) -> bool:
    return len(done) >= n


def _reports_down(health: dict[str, Any], url: str) -> bool:
    instances = health.get("upstreams", {}).get("intake", {}).get("instances", {})
    return bool(instances.get(url, {}).get("status") == "down")
