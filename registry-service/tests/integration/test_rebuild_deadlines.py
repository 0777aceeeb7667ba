"""The legal terms (`deadlines`) rebuilt from the history (ADR 0027) equal, row for row and column for column, what
the live consumers, the scheduler and a decree wrote: cases through their steps, an extension and its delivered
notice, warnings and misses marked by the scheduler under the controllable clock, a decree moving running terms.
A rebuild announces nothing, runs while the consumers and the scheduler write, and existing marks of a running
platform get their kept warnings from the migration."""

from __future__ import annotations

import asyncio
import datetime as dt
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest

from btdeploy.samples import birth_application
from btkernel import db, rebuild
from btkernel.consumer import IdempotentConsumer
from btkernel.context import new_context
from btkernel.envelope import Envelope
from btkernel.eventstore import load
from btkernel.history import backfill
from btkernel.history.verify import verify
from btkernel.testing import actor_headers, serve
from civreg import topics
from civreg.calendar import ALMATY
from civreg.events.application import ApplicationForwarded
from civreg.events.notification import NotificationDelivered
from registry import migrations
from registry.adapters.deadline_rows import MARKS
from registry.adapters.unit_of_work import PgRegistryUnitOfWork
from registry.api import subscriptions
from registry.app import deadline_scheduler
from registry.app.cases import open_case
from registry.app.staff import StaffMember
from registry.main import build_app
from registry.projections import DEADLINE_GROUPS, PROJECTIONS
from registry.settings import RegistrySettings

pytestmark = pytest.mark.integration

DEADLINES = next(p for p in PROJECTIONS if p.name == "deadlines")
OFFICE = "almaty-almaly"
SUPERVISOR = actor_headers("supervisor", "supervisor")
CHANCELLERY = actor_headers("ch-almaly", "registry_chancellery", OFFICE)
HEAD = actor_headers("head-almaly", "registry_head", OFFICE)
EXEC = actor_headers("exec-almaly-1", "registry_executive", OFFICE)
MONDAY_10 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY)
TOPICS = {topics.CASE: "registry.deadlines", topics.COMPLAINT: "registry.complaint-deadlines"}


class Directory:
    async def member(self, username: str) -> StaffMember | None:
        return (
            StaffMember(username, "registry_executive", OFFICE, True) if username == "exec-almaly-1" else None
        )


class Registry:
    """The service (API only: no Kafka) and its consumers fed by hand from the outbox, as Kafka would."""

    def __init__(self, client: httpx.AsyncClient, dsn: str, pool: asyncpg.Pool) -> None:
        self.client, self.dsn, self.pool = client, dsn, pool
        self.consumers = {
            g.group: IdempotentConsumer(
                pool=pool,
                kafka={},  # type: ignore[typeddict-item]
                group_id=g.group,
                topics=[],
                handler=g.handler,
                service="registry",
                event_types=_types(g.group),
            )
            for g in DEADLINE_GROUPS
        }
        self.offsets: dict[str, int] = {}
        self.delivered: set[str] = set()

    async def deliver(self, topic: str, envelope: Envelope) -> str:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        record = SimpleNamespace(
            topic=topic, partition=zlib.crc32(envelope.subject.encode()) % 3, offset=offset
        )
        group = "registry.notices" if topic == topics.NOTIFICATION else TOPICS[topic]
        return await self.consumers[group].apply_once(envelope, record)

    async def relay(self) -> int:
        """Every queued case or complaint event not delivered yet, in the order queued (the relay and Kafka)."""
        rows = await self.pool.fetch(
            "SELECT topic, envelope FROM outbox WHERE topic = ANY($1::text[]) ORDER BY id", list(TOPICS)
        )
        n = 0
        for r in rows:
            env = Envelope.from_json(r["envelope"])
            if env.id in self.delivered:
                continue
            self.delivered.add(env.id)
            await self.deliver(r["topic"], env)
            n += 1
        return n

    async def tick(self, at: dt.datetime) -> tuple[int, int]:
        return await deadline_scheduler.tick(lambda: PgRegistryUnitOfWork(self.pool), at)


def _types(group: str) -> list[str]:
    return {
        "registry.deadlines": subscriptions.CASE_TYPES,
        "registry.complaint-deadlines": subscriptions.COMPLAINT_TYPES,
        "registry.notices": subscriptions.NOTIFICATION_TYPES,
    }[group]


@pytest.fixture
async def registry(make_database: Any, clock_at: Callable[[dt.datetime], None]) -> AsyncIterator[Registry]:
    dsn = await make_database("deadlines_rebuild")
    settings = RegistrySettings(
        database_url=dsn, relay_enabled=False, consumers_enabled=False, scheduler_enabled=False
    )
    pool = await db.create_pool(dsn, max_size=6)
    async with serve(lambda: build_app(settings, staff=Directory())) as client:
        clock_at(MONDAY_10)
        yield Registry(client, dsn, pool)
    await pool.close()


async def _open(reg: Registry, n: int, at: dt.datetime = MONDAY_10) -> str:
    body = birth_application(born=at.date() - dt.timedelta(days=1))
    forwarded = ApplicationForwarded(
        application_id=f"app-{n}",
        service_id="birth_registration",
        channel="state_corporation",
        centre_id="almaty-con-1",
        registry_office_id=OFFICE,
        submitted_at=at,
        forwarded_at=at,
        receipt_number=f"R-{n}",
        applicant=body["applicant"],
        details=body["details"],
        documents=[],
    )
    async with reg.pool.acquire() as conn, conn.transaction():
        case = await open_case(PgRegistryUnitOfWork.on(conn), forwarded, new_context(), at)
    return case.id


async def _steps(reg: Registry, case_id: str, *steps: str) -> None:
    calls: dict[str, tuple[str, dict[str, Any] | None, dict[str, str]]] = {
        "chancellery-registration": ("chancellery-registration", None, CHANCELLERY),
        "resolution": ("resolution", {"executive_id": "exec-almaly-1"}, HEAD),
        "extension": ("extension", {"reason": "a request to the archive", "days": 10}, HEAD),
        "registration": ("registration", {}, EXEC),
        "signature": ("signature", None, HEAD),
        "dispatch": ("dispatch", None, CHANCELLERY),
    }
    for step in steps:
        path, body, headers = calls[step]
        r = await reg.client.post(f"/api/v1/cases/{case_id}/{path}", json=body, headers=headers)
        assert r.status_code == 200, (step, r.text)


async def _notice_delivered(reg: Registry, application_id: str, at: dt.datetime) -> None:
    delivered = NotificationDelivered(
        notification_id=f"n-{application_id}",
        application_id=application_id,
        channel="email",
        recipient="a@example.kz",
        template="review_extended",
        delivered_at=at,
        attempts=1,
    )
    env = Envelope.new(
        type=delivered.TYPE,
        source="/notification",
        subject=delivered.notification_id,
        data=delivered.to_data(),
        correlation_id=None,
        causation_id=None,
        time=at,
    )
    assert await reg.deliver(topics.NOTIFICATION, env) == "applied"


async def _table(pool: asyncpg.Pool) -> dict[str, dict[str, Any]]:
    return {r["deadline_id"]: dict(r) for r in await pool.fetch("SELECT * FROM deadlines")}


async def _findings(dsn: str) -> list[Any]:
    conn = await db.connect(dsn)
    try:
        return (await verify(conn)).findings
    finally:
        await conn.close()


async def _counts(pool: asyncpg.Pool) -> tuple[int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM outbox"),
        await pool.fetchval("SELECT count(*) FROM events"),
    )


async def test_deadlines_rebuilt_equal_the_live_ones_under_the_same_calendar(
    registry: Registry, clock_at: Callable[[dt.datetime], None]
) -> None:
    reg = registry
    opened, reviewed, extended, late, early = [await _open(reg, n) for n in range(5)]
    await _steps(
        reg, early, "chancellery-registration", "resolution", "registration", "signature", "dispatch"
    )
    await _steps(reg, reviewed, "chancellery-registration", "resolution")
    await _steps(reg, extended, "chancellery-registration", "resolution", "extension")
    await _steps(reg, late, "chancellery-registration")
    # The consumer lags: it applies the case events a little later, on its own clock.
    clock_at(MONDAY_10 + dt.timedelta(minutes=7))
    assert await reg.relay() > 0
    await _notice_delivered(reg, "app-2", MONDAY_10 + dt.timedelta(hours=2))

    # The scheduler warns of terms 80 % run and reports the ones run out (the head's 2 working hours of `late`).
    approaching, missed = await reg.tick(MONDAY_10 + dt.timedelta(hours=6))
    assert approaching > 0
    assert missed > 0
    before = await _table(reg.pool)
    assert before[f"{late}:step:2"]["missed_emitted_at"] == MONDAY_10 + dt.timedelta(hours=6)

    # A decree makes Tuesday a day off: running working-day terms move a day, at once.
    r = await reg.client.post(
        "/api/v1/calendar/overrides",
        headers=SUPERVISOR,
        json={
            "country": "KZ",
            "day": "2026-11-24",
            "kind": "day_off",
            "reason": "transfer of a day off",
            "source": "Government decree (test)",
        },
    )
    assert r.status_code == 201, r.text
    await _steps(reg, reviewed, "registration")
    clock_at(MONDAY_10 + dt.timedelta(days=1))
    await reg.relay()
    assert sum(await reg.tick(MONDAY_10 + dt.timedelta(days=3))) > 0
    live = await _table(reg.pool)
    day = dt.timedelta(days=1)
    assert live[f"{opened}:review"]["due_at"] == before[f"{opened}:review"]["due_at"] + day
    assert live[f"{early}:review"]["due_at"] == before[f"{early}:review"]["due_at"]
    assert live[f"{extended}:extension_notice"]["status"] == "met"
    assert live[f"{extended}:review"]["status"] == "superseded"
    marked = [k for k, v in live.items() if v["approaching_emitted_at"] and v["missed_emitted_at"]]
    assert marked
    kept = await reg.pool.fetchval("SELECT count(*) FROM events WHERE stream_type = 'deadline'")
    assert kept == sum(
        (v["approaching_emitted_at"] is not None) + (v["missed_emitted_at"] is not None)
        for v in live.values()
    )
    outbox_before = await _counts(reg.pool)

    report = await rebuild.rebuild(reg.dsn, DEADLINES, batch=3)
    assert report.events > 0
    rebuilt = await _table(reg.pool)
    assert set(rebuilt) == set(live)
    # Nothing announced again, nothing appended.
    assert await _counts(reg.pool) == outbox_before
    # Closed before the decree (the completed case's review term and the executive's step that runs to it, the
    # review an extension superseded): the live rows kept the term of their day, the rebuilt ones count it on the
    # calendar now (ADR 0027, as the worklist's `cases`); nothing else differs.
    moved = {f"{early}:review", f"{early}:step:3", f"{extended}:review"}
    assert moved <= {k for k, v in before.items() if v["status"] != "running"}
    for deadline_id, row in live.items():
        if deadline_id not in moved:
            assert rebuilt[deadline_id] == row, deadline_id
    for deadline_id in moved:
        old, new = live[deadline_id], rebuilt[deadline_id]
        assert new["due_at"] == old["due_at"] + day, deadline_id
        terms = {"due_at": None, "approaching_at": None}
        assert new | terms == old | terms, deadline_id

    # The kept warnings are chained like every event (ADR 0030).
    assert await _findings(reg.dsn) == []

    # The consumers' checkpoints fit the new table: the next events apply once, the scheduler warns on.
    await _steps(reg, reviewed, "signature", "dispatch")
    assert await reg.relay() > 0
    after = await _table(reg.pool)
    assert after[f"{reviewed}:review"]["status"] in ("met", "met_late")


async def test_a_rebuild_while_the_consumers_and_the_scheduler_write(
    registry: Registry, clock_at: Callable[[dt.datetime], None]
) -> None:
    reg = registry
    for n in range(6):
        case_id = await _open(reg, n)
        await _steps(reg, case_id, "chancellery-registration")
    await reg.relay()
    await reg.tick(MONDAY_10 + dt.timedelta(minutes=30))
    outbox_live = await reg.pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topics.CASE)

    stop = asyncio.Event()
    written: list[str] = []

    async def live_traffic() -> None:
        n = 100
        while not stop.is_set():
            case_id = await _open(reg, n, MONDAY_10 + dt.timedelta(minutes=n - 99))
            await _steps(reg, case_id, "chancellery-registration", "resolution")
            await reg.relay()
            await reg.tick(MONDAY_10 + dt.timedelta(hours=3, minutes=n - 99))
            written.append(case_id)
            n += 1
            await asyncio.sleep(0)

    writer = asyncio.create_task(live_traffic())
    try:
        for _ in range(2):
            await rebuild.rebuild(reg.dsn, DEADLINES, batch=4)
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await writer
    await reg.relay()
    assert len(written) >= 1, written
    live = await _table(reg.pool)
    for case_id in written:
        assert {f"{case_id}:{kind}" for kind in ("review", "step:1", "step:2", "step:3")} <= set(live)
    # Each event kept once, the mark of each kept warning set: a build from the whole history gives the same table.
    kept = await reg.pool.fetch("SELECT stream_id, event_type FROM events WHERE stream_type = 'deadline'")
    assert len({(r["stream_id"], r["event_type"]) for r in kept}) == len(kept)
    for r in kept:
        assert live[r["stream_id"]][MARKS[r["event_type"]]] is not None, r
    await rebuild.rebuild(reg.dsn, DEADLINES, restart=True)
    assert await _table(reg.pool) == live
    # The rebuilds announced nothing: every case-topic row of the outbox is one the commands or the scheduler queued.
    assert await reg.pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topics.CASE) >= outbox_live
    queued = await reg.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE envelope->>'type' LIKE 'kz.civreg.deadline.%'"
    )
    assert queued == len(kept)


async def test_marks_of_a_running_platform_get_their_warnings_from_the_migration(registry: Registry) -> None:
    reg = registry
    case_id = await _open(reg, 1)
    await reg.relay()
    at = MONDAY_10 + dt.timedelta(days=2)
    # Marks set by the scheduler of before (no kept warning): as a platform migrated today has them.
    await reg.pool.execute(
        "UPDATE deadlines SET approaching_emitted_at = $2, missed_emitted_at = $3 WHERE deadline_id = $1",
        f"{case_id}:step:1",
        at,
        at + dt.timedelta(minutes=5),
    )
    await reg.pool.execute(
        "UPDATE deadlines SET approaching_emitted_at = $2 WHERE deadline_id = $1", f"{case_id}:review", at
    )
    live = await _table(reg.pool)
    outbox = await reg.pool.fetchval("SELECT count(*) FROM outbox")
    sql = (Path(migrations.__file__).parent / "036_deadline_history.sql").read_text()
    conn = await db.connect(reg.dsn)
    try:
        await conn.execute(sql)
        await conn.execute(sql)  # idempotent
        assert await backfill.backfill(conn) == 3
    finally:
        await conn.close()
    assert await _findings(reg.dsn) == []
    assert await reg.pool.fetchval("SELECT count(*) FROM outbox") == outbox
    kept = await reg.pool.fetch(
        "SELECT stream_id, version, event_type, recorded_at FROM events WHERE stream_type = 'deadline'"
        " ORDER BY stream_id, version"
    )
    assert [(r["stream_id"], r["version"], r["event_type"].split(".")[-2]) for r in kept] == [
        (f"{case_id}:review", 1, "approaching"),
        (f"{case_id}:step:1", 1, "approaching"),
        (f"{case_id}:step:1", 2, "missed"),
    ]
    # Their payloads read as the events they stand for, and the scheduler goes on after them without warning twice.
    conn = await db.connect(reg.dsn)
    try:
        for s in await load(conn, f"{case_id}:step:1"):
            assert s.event().deadline_id == f"{case_id}:step:1"  # type: ignore[attr-defined]
    finally:
        await conn.close()
    await rebuild.rebuild(reg.dsn, DEADLINES)
    assert await _table(reg.pool) == live
    assert await reg.tick(at) == (0, 1)  # only the review's miss was left to report
    heads = "SELECT stream_id, max(version) FROM events WHERE stream_type = 'deadline' GROUP BY stream_id"
    assert dict(await reg.pool.fetch(heads)) == {f"{case_id}:review": 2, f"{case_id}:step:1": 2}


async def test_a_decree_entered_while_the_build_runs_moves_its_rows_too(registry: Registry) -> None:
    """A decree is in no event: the terms the build had already projected follow it before the swap
    (`MergedHistory.settle`), as the live ones did."""
    reg = registry
    cases = [await _open(reg, n) for n in range(3)]
    for case_id in cases:
        await _steps(reg, case_id, "chancellery-registration")
    await reg.relay()
    conn = await rebuild._build_connection(reg.dsn, DEADLINES)
    try:
        assert await rebuild.prepare(conn, DEADLINES) is False
        assert await rebuild.replay_pending(conn, DEADLINES, batch=2) > 0
    finally:
        await conn.close()
    before = await _table(reg.pool)
    r = await reg.client.post(
        "/api/v1/calendar/overrides",
        headers=SUPERVISOR,
        json={
            "country": "KZ",
            "day": "2026-11-24",
            "kind": "day_off",
            "reason": "transfer of a day off",
            "source": "Government decree (test)",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["recomputed_deadlines"] >= len(cases)
    live = await _table(reg.pool)
    assert live[f"{cases[0]}:review"]["due_at"] == before[f"{cases[0]}:review"]["due_at"] + dt.timedelta(
        days=1
    )

    report = await rebuild.rebuild(reg.dsn, DEADLINES)
    assert report.resumed
    assert await _table(reg.pool) == live
