"""Rebuilding a projection beside the live one and swapping it in (btkernel.rebuild, ADR 0027), on real PostgreSQL:
writers and readers keep going throughout, nothing is lost or applied twice, an interrupted build resumes, and
events written as an older version are upcast wherever they are read."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator, Sequence
from types import SimpleNamespace
from typing import Any, ClassVar

import asyncpg
import pytest

from btkernel import db, eventstore, rebuild
from btkernel.consumer import IdempotentConsumer
from btkernel.context import RequestContext, new_context
from btkernel.envelope import Envelope
from btkernel.events import upcast
from btkernel.events.base import Event, parse
from btkernel.eventstore import StoredEvent

pytestmark = pytest.mark.integration

V1 = "kz.test.rebuild.counter-moved.v1"


class CounterMoved(Event):
    """Test-only v2: `by` (v1) became `delta` with a `reason`."""

    TYPE: ClassVar[str] = "kz.test.rebuild.counter-moved.v2"
    TOPIC: ClassVar[str] = "test.rebuild"
    delta: int
    reason: str


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {"delta": data.pop("by"), "reason": "before v2"}


upcast.unregister(V1)
upcast.register(V1, CounterMoved.TYPE, _v1_to_v2)

TABLES = """
CREATE TABLE counters (stream_id text PRIMARY KEY, total integer NOT NULL, moves integer NOT NULL,
                       last_reason text NOT NULL);
CREATE INDEX counters_by_total ON counters (total);
CREATE TABLE seen (event_id text PRIMARY KEY, subject text NOT NULL, delta integer NOT NULL, type text NOT NULL);
"""


async def project_counter(conn: asyncpg.Connection, stream_id: str, event: Event) -> None:
    """The one projection code, live and in a rebuild: incremental, so an event applied twice or never shows."""
    assert isinstance(event, CounterMoved)
    await conn.execute(
        "INSERT INTO counters (stream_id, total, moves, last_reason) VALUES ($1, $2, 1, $3)"
        " ON CONFLICT (stream_id) DO UPDATE SET total = counters.total + $2, moves = counters.moves + 1,"
        " last_reason = $3",
        stream_id,
        event.delta,
        event.reason,
    )


async def replay_counter(conn: asyncpg.Connection, events: Sequence[StoredEvent], done: int) -> None:
    for stored in events:
        if stored.version > done:
            await project_counter(conn, stored.stream_id, stored.event())


async def on_seen(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    event = parse(envelope.type, envelope.data)
    assert isinstance(event, CounterMoved)
    await conn.execute(
        "INSERT INTO seen (event_id, subject, delta, type) VALUES ($1, $2, $3, $4)",
        envelope.id,
        envelope.subject,
        event.delta,
        envelope.type,
    )


# What the batch entry point was given, call by call: (stream, events, done) of each stream.
BATCHES: list[list[tuple[str, int, int]]] = []


async def replay_counters(
    conn: asyncpg.Connection, streams: Sequence[tuple[Sequence[StoredEvent], int]]
) -> None:
    """A batch entry point over the same per-stream code (the kernel's part: whole streams, in batches)."""
    BATCHES.append([(events[0].stream_id, len(events), done) for events, done in streams])
    for events, done in streams:
        await replay_counter(conn, events, done)


COUNTERS_IN_BATCHES = rebuild.Projection(
    name="counters",
    description="test",
    tables=("counters",),
    source=rebuild.OwnStreams(("counter",), replay_counter, replay_counters),
)
COUNTERS = rebuild.Projection(
    name="counters",
    description="test",
    tables=("counters",),
    source=rebuild.OwnStreams(("counter",), replay_counter),
)
SEEN = rebuild.Projection(
    name="seen",
    description="test",
    tables=("seen",),
    source=rebuild.ConsumedEvents("test.seen", on_seen, "test"),
    side_tables=("outbox",),
)


async def _move(pool: asyncpg.Pool, stream_id: str, delta: int) -> None:
    """A live command: append the event and update the projection in one transaction (ADR 3)."""
    async with pool.acquire() as conn, conn.transaction():
        version = await conn.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        event = CounterMoved(delta=delta, reason="live")
        await eventstore.append(
            conn,
            stream_id=stream_id,
            stream_type="counter",
            expected_version=version,
            events=[event],
            ctx=new_context(),
            source="/test",
        )
        await project_counter(conn, stream_id, event)


async def _move_v1(pool: asyncpg.Pool, stream_id: str, by: int) -> None:
    """An event written long ago as v1, with the row the code of that time wrote."""
    async with pool.acquire() as conn, conn.transaction():
        version = await conn.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        await conn.execute(
            "INSERT INTO events (stream_id, version, stream_type, event_id, event_type, data)"
            " VALUES ($1, $2, 'counter', gen_random_uuid(), $3, $4)",
            stream_id,
            version + 1,
            V1,
            {"by": by},
        )
        await project_counter(conn, stream_id, CounterMoved(delta=by, reason="before v2"))


async def _expected(pool: asyncpg.Pool) -> dict[str, tuple[int, int, str]]:
    """The counters as the history says, through the event store's reading (which upcasts)."""
    async with pool.acquire() as conn:
        ids = [r["stream_id"] for r in await conn.fetch("SELECT DISTINCT stream_id FROM events")]
        out: dict[str, tuple[int, int, str]] = {}
        for stream_id in ids:
            events = [s.event() for s in await eventstore.load(conn, stream_id)]
            assert all(isinstance(e, CounterMoved) for e in events)
            moves = [e for e in events if isinstance(e, CounterMoved)]
            out[stream_id] = (sum(e.delta for e in moves), len(moves), moves[-1].reason)
        return out


async def _table(pool: asyncpg.Pool) -> dict[str, tuple[int, int, str]]:
    rows = await pool.fetch("SELECT stream_id, total, moves, last_reason FROM counters")
    return {r["stream_id"]: (r["total"], r["moves"], r["last_reason"]) for r in rows}


@pytest.fixture
async def counters_db(kernel_db: tuple[str, asyncpg.Pool]) -> tuple[str, asyncpg.Pool]:
    _, pool = kernel_db
    await pool.execute(TABLES)
    return kernel_db


async def test_rebuild_while_writers_and_readers_go_on_loses_and_doubles_nothing(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    dsn, pool = counters_db
    rng = random.Random(7)
    streams = [f"c-{n}" for n in range(40)]
    for n in range(60):
        await _move_v1(pool, streams[n % 40], rng.randint(1, 9))
    for _ in range(300):
        await _move(pool, rng.choice(streams), rng.randint(1, 9))
    before = await _table(pool)
    stop = asyncio.Event()
    failures: list[BaseException] = []
    writes = reads = 0

    async def writer(seed: int) -> None:
        nonlocal writes
        r = random.Random(seed)
        while not stop.is_set():
            try:
                await _move(pool, r.choice(streams) if r.random() < 0.8 else f"new-{seed}-{writes}", 1)
                writes += 1
            except eventstore.ConcurrencyConflict:
                pass  # two writers on one stream: the loser retries, as a client would
            except BaseException as exc:  # pragma: no cover - the assertion below names it
                failures.append(exc)
                return

    async def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                await pool.fetchval("SELECT count(*) FROM counters WHERE total > 0")
                reads += 1
            except BaseException as exc:  # pragma: no cover
                failures.append(exc)
                return
            await asyncio.sleep(0.005)

    tasks = [asyncio.create_task(writer(s)) for s in range(3)] + [asyncio.create_task(reader())]
    await asyncio.sleep(0.2)
    writes_at_start = writes
    report = await rebuild.rebuild(dsn, COUNTERS, batch=25, keep_retired=True)
    await asyncio.sleep(0.3)  # live writes after the swap go to the new table
    stop.set()
    await asyncio.gather(*tasks)

    assert failures == []
    assert writes > writes_at_start, "the writers stood still during the rebuild"
    assert reads > 0
    assert report.events >= 360
    assert not report.resumed
    assert 0 < report.locked_s < report.seconds
    expected = await _expected(pool)
    assert await _table(pool) == expected
    assert before != expected  # the comparison saw the writes of the rebuild's time
    # The old table, as it was when swapped out, agreed with the new one on what it had.
    retired = {
        r["stream_id"]: (r["total"], r["moves"], r["last_reason"])
        for r in await pool.fetch("SELECT * FROM bt_retired_counters.counters")
    }
    assert retired
    assert all(expected[k][1] >= v[1] for k, v in retired.items())
    # The migrations' index names, not the ones LIKE would have given the copy.
    names = await pool.fetch(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'counters'"
    )
    assert {r["indexname"] for r in names} == {"counters_pkey", "counters_by_total"}
    assert await pool.fetchval("SELECT to_regnamespace('bt_rebuild_counters')") is None


async def test_an_interrupted_build_resumes_and_the_live_table_is_untouched_meanwhile(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    dsn, pool = counters_db
    for n in range(50):
        await _move(pool, f"s-{n % 7}", n)
    live = await _table(pool)
    # A build that stopped after its first batch (a crash: its connection gone mid-way).
    conn = await db.connect(dsn)
    await conn.execute("SET search_path TO bt_rebuild_counters, public")
    assert await rebuild.prepare(conn, COUNTERS) is False
    async with conn.transaction():
        await rebuild._replay_streams(conn, COUNTERS.source, 3, None, None)  # type: ignore[arg-type]
    await conn.close()
    assert await pool.fetchval("SELECT count(*) FROM bt_rebuild_counters.counters") == 3
    assert await _table(pool) == live
    await _move(pool, "s-1", 1000)

    report = await rebuild.rebuild(dsn, COUNTERS, batch=2)
    assert report.resumed
    # s-0, s-1, s-2 (8 + 7 + 7 events) were projected before the crash; only s-1's new event of theirs is replayed.
    assert report.events == 51 - 22
    assert await _table(pool) == await _expected(pool)


def _seen_consumer(pool: asyncpg.Pool) -> Callable[[int, str, dict[str, Any]], Awaitable[str]]:
    """`deliver(offset, type, data)`: an event applied by group `test.seen`'s consumer as if read from Kafka at
    `offset` (partition `offset % 3`), kept as it keeps what it applies; what `apply_once` answered."""
    consumer = IdempotentConsumer(
        pool=pool,
        kafka={},  # type: ignore[typeddict-item]
        group_id="test.seen",
        topics=["test.rebuild"],
        handler=on_seen,
        service="test",
        event_types=[CounterMoved.TYPE],
    )

    async def deliver(offset: int, type_name: str, data: dict[str, Any]) -> str:
        env = Envelope.new(
            type=type_name,
            source="/t",
            subject=f"k{offset % 3}",
            data=data,
            correlation_id=None,
            causation_id=None,
        )
        record = SimpleNamespace(topic="test.rebuild", partition=offset % 3, offset=offset)
        return await consumer.apply_once(env, record)

    return deliver


async def test_a_consumer_projection_is_rebuilt_from_what_the_consumer_kept(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    dsn, pool = counters_db
    deliver = _seen_consumer(pool)

    # v1 is upcast before the consumer looks at the type: the v2 handler applies it, no second handler.
    assert await deliver(0, V1, {"by": 5}) == "applied"
    for n in range(1, 40):
        assert await deliver(n, CounterMoved.TYPE, {"delta": n, "reason": "r"}) == "applied"
    assert await deliver(40, "kz.test.rebuild.other.v1", {}) == "skipped"
    first = await pool.fetchrow("SELECT * FROM seen WHERE delta = 5")
    assert first["type"] == CounterMoved.TYPE
    live = {r["event_id"]: dict(r) for r in await pool.fetch("SELECT * FROM seen")}

    report = await rebuild.rebuild(dsn, SEEN, batch=7)
    assert report.events == 40
    assert {r["event_id"]: dict(r) for r in await pool.fetch("SELECT * FROM seen")} == live
    # Applied after the swap: the consumer's checkpoint (processed_events) fits the new table.
    assert await deliver(41, CounterMoved.TYPE, {"delta": 1, "reason": "r"}) == "applied"
    assert await pool.fetchval("SELECT count(*) FROM seen") == 41

    # History from before consumers kept their envelopes cannot be replayed: refused, live table untouched.
    await pool.execute("UPDATE processed_events SET envelope = NULL WHERE kafka_offset = 3")
    with pytest.raises(rebuild.RebuildRefused, match="before consumers kept"):
        await rebuild.rebuild(dsn, SEEN, restart=True)
    assert await pool.fetchval("SELECT count(*) FROM seen") == 41


async def test_a_table_another_table_points_at_is_refused(counters_db: tuple[str, asyncpg.Pool]) -> None:
    dsn, pool = counters_db
    await pool.execute("CREATE TABLE notes (stream_id text REFERENCES counters (stream_id))")
    with pytest.raises(rebuild.RebuildRefused, match="foreign key"):
        await rebuild.rebuild(dsn, COUNTERS)
    assert await pool.fetchval("SELECT to_regnamespace('bt_rebuild_counters')") is None


async def test_the_services_own_role_is_told_to_use_the_owners(
    counters_db: tuple[str, asyncpg.Pool], make_database: Any
) -> None:
    dsn, pool = counters_db
    with pytest.raises(rebuild.RebuildRefused, match="owns the database"):
        await rebuild.rebuild(make_database.runtime_dsn(dsn), COUNTERS)
    assert await pool.fetchval("SELECT to_regnamespace('bt_rebuild_counters')") is None


async def test_the_first_pass_keeps_each_stream_whole_and_shards_on_processes_apply_each_event_once(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    dsn, pool = counters_db
    for n in range(90):
        await _move(pool, f"long-{n % 3}", n)  # three streams of 30 events, longer than a batch
    for n in range(40):
        await _move(pool, f"short-{n}", n)
    BATCHES.clear()
    report = await rebuild.rebuild(dsn, COUNTERS_IN_BATCHES, batch=7, workers=1)
    assert report.events == 130
    seen = [entry for call in BATCHES for entry in call]
    # Every stream once, whole from its first event, none projected before; a batch ends between streams.
    assert sorted(seen) == sorted(
        [(f"long-{k}", 30, 0) for k in range(3)] + [(f"short-{k}", 1, 0) for k in range(40)]
    )
    assert all(sum(n for _, n, _ in call[:-1]) < 7 for call in BATCHES)
    expected = await _expected(pool)
    assert await _table(pool) == expected

    # On two processes, a shard each: the counters add up, so an event applied twice or never would show.
    report = await rebuild.rebuild(dsn, COUNTERS_IN_BATCHES, batch=7, processes=2)
    assert report.events == 130
    assert await _table(pool) == expected


async def test_a_build_connection_reads_and_writes_json_as_the_live_code_does(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    """json and jsonb in their binary forms on a build's connections (issue 13): the same values both ways as
    `btkernel.db`'s."""
    dsn, _ = counters_db
    value = {"name": "Әлия Қасымова", "n": [1, 2.5, None, True], "nested": {"k": '\u2028 " \\'}}
    build = await rebuild._build_connection(dsn, COUNTERS)
    live = await db.connect(dsn)
    try:
        for writer, reader in ((build, live), (live, build), (build, build)):
            for typ in ("jsonb", "json"):
                text = await writer.fetchval(f"SELECT $1::{typ}::text", value)
                assert await reader.fetchval(f"SELECT $1::text::{typ}", text) == value
                assert await reader.fetchval(f"SELECT ARRAY[$1::text::{typ}]", text) == [value]
    finally:
        await build.close()
        await live.close()
    with pytest.raises(ValueError, match="unknown version"):
        rebuild._jsonb_value(b"\x02{}")


async def test_after_a_first_pass_on_processes_the_rounds_open_their_connections_only_for_what_arrived(
    counters_db: tuple[str, asyncpg.Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn, pool = counters_db
    for n in range(60):
        await _move(pool, f"s-{n % 12}", n)
    opened: list[int] = []
    helpers = rebuild._helpers

    async def counted(dsn: str, p: rebuild.Projection, workers: int) -> list[asyncpg.Connection]:
        opened.append(workers)
        return await helpers(dsn, p, workers)

    monkeypatch.setattr(rebuild, "_helpers", counted)
    report = await rebuild.rebuild(dsn, COUNTERS_IN_BATCHES, batch=7, processes=2)
    assert report.events == 60
    assert opened == []  # nothing arrived during the first pass: no round, no connections for one
    assert await _table(pool) == await _expected(pool)

    # Events appended once the first pass is done (after its snapshot): the rounds take them, on four shards.
    bulk = rebuild._bulk_in_processes

    async def then_more(*args: Any, **kwargs: Any) -> list[int]:
        counts = await bulk(*args, **kwargs)
        for n in range(60, 100):
            await _move(pool, f"s-{n % 20}", n)  # streams projected already and new ones
        return counts

    monkeypatch.setattr(rebuild, "_bulk_in_processes", then_more)
    report = await rebuild.rebuild(dsn, COUNTERS_IN_BATCHES, batch=7, processes=2)
    assert opened == [4]
    assert report.events == 100
    assert await _table(pool) == await _expected(pool)


async def test_the_first_pass_on_processes_reads_what_was_appended_while_the_build_was_prepared(
    counters_db: tuple[str, asyncpg.Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events appended before the horizon are the first pass's to read, since the rounds look only at what was
    journaled after it: the processes take their snapshots after the horizon."""
    dsn, pool = counters_db
    for n in range(30):
        await _move(pool, f"s-{n % 6}", n)
    prepare = rebuild.prepare

    async def appending(conn: asyncpg.Connection, p: rebuild.Projection, *, restart: bool = False) -> bool:
        resumed = await prepare(conn, p, restart=restart)
        for n in range(30, 70):
            await _move(pool, f"s-{n % 10}", n)  # streams begun already and new ones
        return resumed

    monkeypatch.setattr(rebuild, "prepare", appending)
    report = await rebuild.rebuild(dsn, COUNTERS_IN_BATCHES, batch=7, processes=2)
    assert report.events == 70
    assert await _table(pool) == await _expected(pool)


def _introspections(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """What asyncpg asks the server about types from now on, call by call (the type oids, sorted)."""
    asked: list[list[int]] = []
    introspect = asyncpg.Connection._introspect_types

    async def spied(self: asyncpg.Connection, typeoids: Any, *args: Any) -> Any:
        asked.append(sorted(typeoids))
        return await introspect(self, typeoids, *args)

    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", spied)
    return asked


async def test_preparing_a_build_costs_its_fresh_connection_no_type_introspection(
    counters_db: tuple[str, asyncpg.Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncpg asks the server what an array type it does not know is (int8[] and regclass[], not text[]), once per
    connection: ~13 ms of a fresh server process's time (issue 13 P3). Preparing a build makes it ask nothing."""
    dsn, _ = counters_db
    asked = _introspections(monkeypatch)
    conn = await rebuild._build_connection(dsn, COUNTERS)
    try:
        assert await rebuild.prepare(conn, COUNTERS, restart=True) is False
        await conn.fetchval("SELECT $1::int8[]", [1])  # the spy sees what it should
    finally:
        await conn.close()
    assert asked == [[1016]]


async def test_a_builds_batches_on_fresh_connections_cost_no_type_introspection(
    counters_db: tuple[str, asyncpg.Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each first-pass process writes on fresh connections of its own, and asyncpg asks a fresh connection's
    server process what int4[] and int8[] are before it first sends one: each process waited 12–18 ms on it at its
    first batch (issue 13 P3). A batch's progress and a round's stream heads travel as text[], cast by the server,
    so nothing is asked: own streams' first pass and rounds, a consumed history's first pass (its partitions'
    reach) and rounds."""
    dsn, pool = counters_db
    for n in range(20):
        await _move(pool, f"s-{n % 5}", n)
    deliver = _seen_consumer(pool)
    moved = CounterMoved.TYPE
    for n in range(12):
        assert await deliver(n, moved, {"delta": n, "reason": "r"}) == "applied"
    asked = _introspections(monkeypatch)
    bulk = rebuild.bulk_replay
    arrived = iter(range(12, 20))

    async def then_more(*args: Any, **kwargs: Any) -> int:
        count = await bulk(*args, **kwargs)
        # Arriving after the first pass: the rounds' to take.
        await _move(pool, "s-0", 100)
        assert await deliver(next(arrived), moved, {"delta": 100, "reason": "r"}) == "applied"
        return count

    monkeypatch.setattr(rebuild, "bulk_replay", then_more)
    own = await rebuild.rebuild(dsn, COUNTERS_IN_BATCHES, batch=4, workers=1, processes=1)
    consumed = await rebuild.rebuild(dsn, SEEN, batch=4, workers=1, processes=1)
    assert (own.events, consumed.events) == (21, 14)
    assert asked == []
    fresh = await rebuild._build_connection(dsn, SEEN)
    try:
        await fresh.fetchval("SELECT $1::int8[]", [1])  # the spy sees what it should
    finally:
        await fresh.close()
    assert asked == [[1016]]


# What the deferring build's batch entry point found on its copy: the indexes there, call by call.
COPY_INDEXES: list[int] = []


async def replay_counters_seeing_indexes(
    conn: asyncpg.Connection, streams: Sequence[tuple[Sequence[StoredEvent], int]]
) -> None:
    COPY_INDEXES.append(
        await conn.fetchval(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'bt_rebuild_counters' AND tablename = 'counters'"
        )
    )
    await replay_counters(conn, streams)


DEFERRING = rebuild.Projection(
    name="counters",
    description="test",
    tables=("counters",),
    source=rebuild.OwnStreams(("counter",), replay_counter, replay_counters_seeing_indexes),
    defer_indexes=True,
)


async def _indexes(pool: asyncpg.Pool) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """public.counters' indexes and constraints, by name, as defined."""
    indexes = await pool.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'counters'"
        " ORDER BY indexname"
    )
    constraints = await pool.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint"
        " WHERE conrelid = 'public.counters'::regclass ORDER BY conname"
    )
    return [(r["indexname"], r["indexdef"]) for r in indexes], [(r["conname"], r["def"]) for r in constraints]


async def test_a_deferring_build_writes_its_first_pass_without_secondary_indexes_and_swaps_in_all_of_them(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    dsn, pool = counters_db
    await pool.execute(
        "ALTER TABLE counters ADD CONSTRAINT counters_moves_once UNIQUE (stream_id, moves);"
        " CREATE INDEX counters_large ON counters (total) WHERE total > 100"
    )
    for n in range(60):
        await _move(pool, f"s-{n % 9}", n)
    before = await _indexes(pool)
    assert len(before[0]) == 4  # the primary key, counters_by_total, the constraint's, counters_large
    # Prepared, then the build stopped: the run that resumes it adds what it deferred all the same.
    conn = await db.connect(dsn)
    await conn.execute("SET search_path TO bt_rebuild_counters, public")
    assert await rebuild.prepare(conn, DEFERRING) is False
    await conn.close()
    COPY_INDEXES.clear()

    report = await rebuild.rebuild(dsn, DEFERRING, batch=7, workers=2)
    assert report.resumed
    assert report.events == 60
    assert COPY_INDEXES
    assert set(COPY_INDEXES) == {1}  # the primary key only, while the first pass wrote
    assert await _indexes(pool) == before
    expected = await _expected(pool)
    assert await _table(pool) == expected
    # Again on two processes (their calls are not seen here), from the rebuilt table: the same again.
    await rebuild.rebuild(dsn, DEFERRING, batch=7, processes=2)
    assert await _indexes(pool) == before
    assert await _table(pool) == expected


async def _first_pass_with_a_horizon(
    dsn: str, p: rebuild.Projection, events: int
) -> tuple[asyncpg.Connection, rebuild.Horizon]:
    """A build prepared, its horizon taken and its first pass run (`events` projected, nothing pending after it), as
    `rebuild.rebuild` does; the build's connection (the caller closes it) and the horizon."""
    conn = await rebuild._build_connection(dsn, p)
    try:
        assert await rebuild.prepare(conn, p) is False
        since = await rebuild.horizon(conn, p)
        assert since is not None
        reader = await rebuild._reading_connection(dsn, p)
        try:
            assert await rebuild.bulk_replay(reader, conn, p) == events
        finally:
            await reader.close()
        assert not await rebuild._anything_pending(conn, p, since)
    except BaseException:
        await conn.close()
        raise
    return conn, since


async def test_the_catch_up_looks_only_at_streams_journaled_since_the_first_passs_horizon(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    dsn, pool = counters_db
    for n in range(30):
        await _move(pool, f"s-{n % 5}", n + 1)
    conn, since = await _first_pass_with_a_horizon(dsn, COUNTERS, 30)
    try:
        # Appended after the horizon: its stream is in the journal since then.
        await _move(pool, "s-1", 100)
        # Pending but appended before the horizon, which no real pass leaves behind: made so by forgetting that s-2
        # was projected. Only a scan of the whole history finds it, and a catch-up from the horizon does not.
        await conn.execute("DELETE FROM bt_rebuild_counters.bt_progress WHERE stream_id = 's-2'")
        await conn.execute("DELETE FROM bt_rebuild_counters.counters WHERE stream_id = 's-2'")
        assert await rebuild._anything_pending(conn, COUNTERS, since)
        assert await rebuild.replay_pending(conn, COUNTERS, since=since) == 1  # s-1's new event, no more
        assert not await rebuild._anything_pending(conn, COUNTERS, since)
        assert await rebuild._anything_pending(conn, COUNTERS)
        assert await rebuild.replay_pending(conn, COUNTERS) == 6  # s-2 whole, found by the scan
        swapped = await rebuild.swap(conn, COUNTERS, since=since)
        assert swapped.events == 0
        assert swapped.locked_s > 0
    finally:
        await conn.close()
    assert await _table(pool) == await _expected(pool)
    # Swapped out, then dropped once the live table was free again.
    assert await pool.fetchval("SELECT to_regnamespace('bt_retired_counters')") is None


async def test_a_merged_history_takes_no_horizon_and_a_later_horizon_is_later(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    _, pool = counters_db
    merged = rebuild.Projection(
        name="merged",
        description="test",
        tables=("seen",),
        source=rebuild.MergedHistory(groups=(SEEN.source,)),
    )
    async with pool.acquire() as conn:
        assert await rebuild.horizon(conn, merged) is None
        assert await rebuild.horizon(conn, SEEN) is not None
        first = await rebuild.horizon(conn, COUNTERS)
        await _move(pool, "s-9", 1)
        later = await rebuild.horizon(conn, COUNTERS)
        assert first is not None
        assert later is not None
        assert int(later.xmin) > int(first.xmin)


async def test_a_consumer_projections_catch_up_looks_only_at_envelopes_kept_since_the_horizon(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    dsn, pool = counters_db
    deliver = _seen_consumer(pool)
    moved = CounterMoved.TYPE

    for n in range(20):
        assert await deliver(n, moved, {"delta": n, "reason": "r"}) == "applied"
    conn, since = await _first_pass_with_a_horizon(dsn, SEEN, 20)
    try:
        assert await deliver(20, moved, {"delta": 20, "reason": "r"}) == "applied"  # kept after the horizon
        # Kept before the horizon and pending, which no real pass leaves behind: made so by forgetting it was
        # projected. Only a read of the group's whole record finds it.
        old = await conn.fetchval("SELECT event_id FROM processed_events WHERE kafka_offset = 4")
        await conn.execute("DELETE FROM bt_rebuild_seen.bt_progress WHERE event_id = $1", old)
        await conn.execute("DELETE FROM bt_rebuild_seen.seen WHERE event_id = $1", old)
        assert await rebuild._anything_pending(conn, SEEN, since)
        assert await rebuild.replay_pending(conn, SEEN, since=since) == 1
        assert not await rebuild._anything_pending(conn, SEEN, since)
        assert await rebuild._anything_pending(conn, SEEN)
        assert await rebuild.replay_pending(conn, SEEN) == 1
        await rebuild.swap(conn, SEEN, since=since)
    finally:
        await conn.close()
    assert await pool.fetchval("SELECT count(*) FROM seen") == 21


async def _temporary_progress(conn: asyncpg.Connection) -> None:
    """A consumed history's progress tables, as a build has them, for this connection only (`pg_temp`)."""
    await conn.execute(f"CREATE TEMP TABLE {rebuild.PROGRESS} (event_id text PRIMARY KEY)")
    await conn.execute(rebuild._CREATE_PASSED.format(schema="pg_temp"))


async def test_a_first_pass_reads_kept_envelopes_in_the_replay_index_order_not_by_a_sort(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    """Issue 13 P3: with its statistics, the planner would sort a group's kept envelopes (spilling ~1 KB rows to
    disk) before the first pass got its first row; the pass reads them through `processed_events_replay` instead,
    in the same order, as a resumed pass (progress looked up per envelope) does too."""
    _, pool = counters_db
    await pool.execute(
        "INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset, envelope)"
        " SELECT 'g', 'e-' || n, 't', n % 6, n / 6, json_build_object('pad', repeat('x', 1000))"
        " FROM generate_series(1, 6000) n"
    )
    await pool.execute("ANALYZE processed_events")

    async def plan(conn: asyncpg.Connection, not_projected: str) -> list[str]:
        query = "EXPLAIN " + rebuild._BULK_CONSUMED.format(not_projected)
        return [r[0] for r in await conn.fetch(query, "g", 0, 2, None)]

    async with pool.acquire() as conn:
        await _temporary_progress(conn)
        sorted_ids = [
            r["event_id"] for r in await conn.fetch(rebuild._BULK_CONSUMED.format(""), "g", 0, 2, None)
        ]
        async with conn.transaction():
            chosen = await plan(conn, "")
            await rebuild._kept_in_index_order(conn)
            fresh, resumed = await plan(conn, ""), await plan(conn, rebuild._NOT_PROJECTED)
            read_ids = [
                r["event_id"] for r in await conn.fetch(rebuild._BULK_CONSUMED.format(""), "g", 0, 2, None)
            ]
        after = await plan(conn, "")
    assert any("Sort" in line for line in chosen), chosen  # what the planner does by itself
    for read in (fresh, resumed):
        assert any("Index Scan using processed_events_replay" in line for line in read), read
        assert not any("Sort" in line for line in read), read
    assert any("Sort" in line for line in after), after  # for the transaction only
    assert read_ids == sorted_ids
    assert len(read_ids) == 3000
    assert read_ids[:2] == ["e-6", "e-12"]


async def test_a_batch_entry_point_takes_each_kept_event_as_it_is_read_not_the_batch_read_first(
    counters_db: tuple[str, asyncpg.Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 P3: a batch's 2,000 events built before the entry point took any were built in fresh memory, and
    validating cost ~40 % more an event than building each in the memory the one before it freed. The entry point
    gets an iterator, and an envelope is read only when it takes the event; what it gets is every event, in order."""
    dsn, pool = counters_db
    deliver = _seen_consumer(pool)
    for n in range(12):
        assert await deliver(n, CounterMoved.TYPE, {"delta": n, "reason": "r"}) == "applied"

    read = 0
    real_event = rebuild._kept_events.event

    def counted(raw: str | bytes) -> Event:
        nonlocal read
        read += 1
        return real_event(raw)

    monkeypatch.setattr(rebuild._kept_events, "event", counted)
    # For each event the entry point takes: how many envelopes had been read by then.
    read_when_taken: list[int] = []
    taken: list[int] = []

    async def apply_many(conn: asyncpg.Connection, events: Iterator[Event]) -> None:
        for event in events:
            read_when_taken.append(read)
            assert isinstance(event, CounterMoved)
            taken.append(event.delta)

    lazy = rebuild.Projection(
        name="seen",
        description="test",
        tables=("seen",),
        source=rebuild.ConsumedEvents("test.seen", on_seen, "test", apply_many=apply_many),
    )
    report = await rebuild.rebuild(dsn, lazy, batch=5, workers=1)
    assert report.events == 12
    # Each partition (offset % 3) in order; batches of 5 across them.
    assert taken == [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]
    # Each event was taken as soon as its own envelope was read: no batch's envelopes were all read first.
    assert read_when_taken == list(range(1, 13))


async def test_a_batch_entry_point_that_leaves_events_untaken_fails_the_batch_and_records_nothing(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    """The entry point's events are read as it takes them, and the batch's progress is recorded after it returns:
    one that stopped early would have the build call events projected that it never applied."""
    dsn, pool = counters_db
    deliver = _seen_consumer(pool)
    for n in range(6):
        assert await deliver(n, CounterMoved.TYPE, {"delta": n, "reason": "r"}) == "applied"
    live = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM seen")}

    async def first_only(conn: asyncpg.Connection, events: Iterator[Event]) -> None:
        event = next(events)
        assert isinstance(event, CounterMoved)
        await conn.execute(
            "INSERT INTO seen (event_id, subject, delta, type) VALUES ($1, 'k', $2, $3)",
            f"x-{event.delta}",
            event.delta,
            CounterMoved.TYPE,
        )

    stopping = rebuild.Projection(
        name="seen",
        description="test",
        tables=("seen",),
        source=rebuild.ConsumedEvents("test.seen", on_seen, "test", apply_many=first_only),
    )
    with pytest.raises(RuntimeError, match="took 1 of its 6 events"):
        await rebuild.rebuild(dsn, stopping, batch=10, workers=1)
    # Nothing of the batch was kept: neither its rows nor its progress; the live table is untouched.
    assert await pool.fetchval("SELECT count(*) FROM bt_rebuild_seen.seen") == 0
    assert await pool.fetchval(f"SELECT count(*) FROM bt_rebuild_seen.{rebuild.PROGRESS}") == 0
    assert {r["event_id"] for r in await pool.fetch("SELECT event_id FROM seen")} == live


async def test_the_catch_up_finds_envelopes_kept_since_the_horizon_by_their_index_not_by_reading_the_group(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    """Issue 13 P3: the rounds after a first pass, and the swap's locked one, found the envelopes kept since the
    horizon by `age(xmin)` over every envelope of the group (the swap held its lock 49 ms at 95,000). Each envelope now
    carries its keeping transaction (`processed_events.xid`, kernel migration 007), found by its index, also in a
    database whose statistics do not cover the column yet (the horizon takes them)."""
    _, pool = counters_db
    kept = (
        "INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset, envelope)"
        " SELECT 'g', 'e-' || n, 't', n % 6, n / 6, json_build_object('pad', repeat('x', 500))"
        " FROM generate_series($1::int, $2::int) n"
    )
    # A database just loaded: no statistics yet, and autovacuum not to take them meanwhile.
    await pool.execute("ALTER TABLE processed_events SET (autovacuum_enabled = false)")
    await pool.execute(kept, 1, 6000)
    stats = "SELECT count(*) FROM pg_stats WHERE schemaname = 'public' AND tablename = 'processed_events'"
    group = rebuild.Projection(
        name="g", description="test", tables=("seen",), source=rebuild.ConsumedEvents("g", on_seen, "test")
    )
    async with pool.acquire() as conn:
        await _temporary_progress(conn)
        assert await pool.fetchval(stats) == 0
        since = await rebuild.horizon(conn, group)
        assert since is not None
        assert await pool.fetchval(stats + " AND attname = 'xid'") == 1  # taken with the horizon
        await pool.execute(kept, 6001, 6002)  # kept after the horizon
        written, since_arg = rebuild._written_since(since, 2, kept=True)
        plan = [
            r[0]
            for r in await conn.fetch("EXPLAIN " + rebuild._KEPT_PENDING.format(written), "g", *since_arg)
        ]
        assert any("using processed_events_xid" in line for line in plan), plan
        assert not any("Seq Scan on processed_events" in line for line in plan), plan

        assert await rebuild._anything_pending(conn, group, since)
        await conn.execute(f"INSERT INTO {rebuild.PROGRESS} VALUES ('e-6001'), ('e-6002')")
        # Only what was kept since is looked at: the 6,000 before it are the first pass's.
        assert not await rebuild._anything_pending(conn, group, since)
        assert await rebuild._anything_pending(conn, group)
    # Each envelope carries the transaction that kept it: older than the horizon, or not.
    xid = {
        r["event_id"]: int(r["xid"])
        for r in await pool.fetch("SELECT event_id, xid::text FROM processed_events")
    }
    assert len({xid["e-1"], xid["e-6000"]}) == 1
    assert xid["e-1"] < int(since.xmin) <= xid["e-6001"] == xid["e-6002"]


async def _passed(conn: asyncpg.Connection) -> dict[int, int]:
    """How far the build's first passes read each partition of `test.rebuild` (of what was kept before their
    horizons), and that they read no other topic."""
    rows = await conn.fetch(f"SELECT topic, kafka_partition, below FROM bt_rebuild_seen.{rebuild.PASSED}")
    assert {r["topic"] for r in rows} <= {"test.rebuild"}
    return {r["kafka_partition"]: r["below"] for r in rows}


async def _offsets_recorded(conn: asyncpg.Connection) -> list[tuple[int, int]]:
    """The (partition, offset) of each envelope the build recorded as projected by its id."""
    rows = await conn.fetch(
        "SELECT pe.kafka_partition, pe.kafka_offset FROM processed_events pe"
        f" JOIN bt_rebuild_seen.{rebuild.PROGRESS} a ON a.event_id = pe.event_id ORDER BY 1, 2"
    )
    return [(r["kafka_partition"], r["kafka_offset"]) for r in rows]


async def _seen_holds_each_kept_envelope(pool: asyncpg.Pool, kept: int) -> None:
    """The swapped-in `seen` has a row for each of the `kept` envelopes the consumer kept, and no other."""
    ids = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM processed_events")}
    assert len(ids) == kept
    assert {r["event_id"] for r in await pool.fetch("SELECT event_id FROM seen")} == ids


async def test_a_first_pass_records_how_far_it_read_each_partition_and_ids_only_where_offsets_do_not_speak(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    """Issue 13 P3: recording each projected envelope's id was about a quarter of the server's work in a build. A
    first pass records the offset each batch reached in each partition, which stands for what was kept before its
    horizon below it, and ids only for what was kept since and for the envelopes at the offset reached."""
    dsn, pool = counters_db
    deliver = _seen_consumer(pool)
    moved = CounterMoved.TYPE
    for n in range(30):
        assert await deliver(n, moved, {"delta": n, "reason": "r"}) == "applied"
    conn = await rebuild._build_connection(dsn, SEEN)
    try:
        assert await rebuild.prepare(conn, SEEN) is False
        since = await rebuild.horizon(conn, SEEN)
        assert since is not None
        # Kept after the horizon, before the pass's snapshot: the pass projects it, and only its id says so.
        assert await deliver(30, moved, {"delta": 30, "reason": "r"}) == "applied"
        reader = await rebuild._reading_connection(dsn, SEEN)
        try:
            assert await rebuild.bulk_replay(reader, conn, SEEN, batch=4, since=since) == 31
        finally:
            await reader.close()
        assert await _passed(conn) == {0: 30, 1: 28, 2: 29}
        horizons = await conn.fetch(f"SELECT DISTINCT horizon::text FROM bt_rebuild_seen.{rebuild.PASSED}")
        assert [r["horizon"] for r in horizons] == [since.xmin]
        # Read in (partition, offset) order, four at a time: each batch's last envelope of each partition in it,
        # and offset 30, kept since the horizon (partition 0's last, too). 10 of the 31.
        order = sorted(range(31), key=lambda n: (n % 3, n))
        expected = {30}
        for b in range(0, 31, 4):
            expected |= {
                max(n for n in order[b : b + 4] if n % 3 == k) for k in {n % 3 for n in order[b : b + 4]}
            }
        assert await _offsets_recorded(conn) == sorted((n % 3, n) for n in expected)
        assert len(expected) == 10
        # Nothing is pending, asked of the whole history or of what was kept since the horizon.
        assert not await rebuild._anything_pending(conn, SEEN)
        assert not await rebuild._anything_pending(conn, SEEN, since)
        assert await rebuild.replay_pending(conn, SEEN) == 0

        # The topic made again while the build runs: a new envelope at offset 3, below partition 0's reach, kept
        # after the horizon. The reach does not speak for it: it is pending, and the rounds project it.
        assert await deliver(3, moved, {"delta": 103, "reason": "r"}) == "applied"
        assert await rebuild._anything_pending(conn, SEEN)
        assert await rebuild._anything_pending(conn, SEEN, since)
        assert await rebuild.replay_pending(conn, SEEN, since=since) == 1
        assert (await rebuild.swap(conn, SEEN, since=since)).events == 0
    finally:
        await conn.close()
    await _seen_holds_each_kept_envelope(pool, 32)


async def test_a_first_pass_stopped_between_two_envelopes_at_one_offset_resumes_with_each_projected_once(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    """A topic made again repeats its offsets, so a batch may end between two envelopes at one offset. The offset
    reached stands only for those below it; those at it are recorded by id. `seen` has the event id as its key,
    so an envelope projected twice fails the build, and one never projected is missing from it."""
    dsn, pool = counters_db
    deliver = _seen_consumer(pool)
    for made in range(2):
        for n in range(12):
            assert await deliver(n, CounterMoved.TYPE, {"delta": n, "reason": f"topic {made}"}) == "applied"
    applied = 0

    async def stops_after_three(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
        nonlocal applied
        applied += 1
        if applied > 3:
            raise RuntimeError("the build's process is gone")
        await on_seen(conn, envelope, ctx)

    stopping = rebuild.Projection(
        name="seen",
        description="test",
        tables=("seen",),
        source=rebuild.ConsumedEvents("test.seen", stops_after_three, "test"),
    )
    with pytest.raises(RuntimeError, match="process is gone"):
        await rebuild.rebuild(dsn, stopping, batch=3, workers=1, processes=1)
    # One batch committed: partition 0's two envelopes at offset 0 and one of its two at offset 3.
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM bt_rebuild_seen.seen") == 3
        assert await _passed(conn) == {0: 3}
        assert await _offsets_recorded(conn) == [(0, 3)]

    report = await rebuild.rebuild(dsn, SEEN, batch=3, workers=1, processes=1)
    assert report.resumed
    assert report.events == 24 - 3
    await _seen_holds_each_kept_envelope(pool, 24)


async def test_a_build_prepared_before_first_passes_recorded_partitions_resumes_with_them(
    counters_db: tuple[str, asyncpg.Pool],
) -> None:
    """A build left unfinished by the code before gets the table when it resumes (every query of its progress
    reads it), empty: its progress stays by id."""
    _, pool = counters_db
    async with pool.acquire() as conn:
        await conn.execute("SET search_path TO bt_rebuild_seen, public")
        assert await rebuild.prepare(conn, SEEN) is False
        await conn.execute(f"DROP TABLE bt_rebuild_seen.{rebuild.PASSED}")
        assert await rebuild.prepare(conn, SEEN) is True
        assert await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"bt_rebuild_seen.{rebuild.PASSED}")
