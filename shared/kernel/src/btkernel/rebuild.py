"""Rebuilding a projection from its history beside the live one, and swapping it in without stopping the service
(ADR 0027).

A build writes into its own schema, `bt_rebuild_<projection>`, which holds a copy of each of the projection's
tables (`CREATE TABLE … (LIKE … INCLUDING ALL)`, indexes renamed to the live ones' names, grants copied) and its
progress. The build's connection puts that schema first on its `search_path`, so the projection's own code — the
very functions the live path calls — writes the copies while reading everything else where it always is: no
second implementation, no table names passed around.

The history is the projection's source of truth:

* `OwnStreams` — the service's own event store (`events`), every stream of the given types from its first event.
  Progress is the version projected per stream, committed with the rows it produced.
* `ConsumedEvents` — what a consumer group applied, as the consumer kept it (`processed_events.envelope`, in the
  transaction that applied it). The topics of other services keep seven days; this record keeps what the
  projection is made of, no more, no less. Progress is the set of event ids projected, and how far each first
  pass read each partition of what was kept before its horizon (`PASSED`).

Phases: **prepare** (one transaction: schema, copies, progress table — a crash leaves all or nothing; a second run
finds it and resumes), **replay** (batches, each one transaction with its progress, until nothing is pending —
live traffic keeps adding to the history meanwhile; a projection that defers its indexes has its copies' secondary
ones added after the first pass, `Projection.defer_indexes`), **swap** (one transaction: an ACCESS EXCLUSIVE lock on
the live tables — writers and readers wait, nobody fails — the last pending events applied, the live tables moved to
`bt_retired_<projection>` and the copies to `public`, the build's schema dropped; the retired tables are dropped
after it, once the live ones are free, unless `--keep-retired`). The catch-up rounds and the swap's locked one look
only at what was written since the first pass's horizon (`Horizon`), not at the whole history. A live
transaction that appended an event but had not yet written the projection when the lock was taken writes the new
table after the swap (PostgreSQL resolves the name again once it gets its lock), and the build did not see its
uncommitted event: each event lands in the new table exactly once. The consumer's checkpoint — its processed-events
record and committed Kafka offsets — stays as it is and is right for the new table, which holds exactly the events
it names.

A source may also offer a batch entry point (`OwnStreams.replay_many`, `ConsumedEvents.apply_many`): the same live
function decides the rows of many events, and they are written a statement per table (`btkernel.rebuild_rows`).
The first pass reads the history once per shard by a cursor, on `--processes` processes (ADR 0027, "Batches").

    python -m btkernel.rebuild registry.projections                 # the service's projections
    python -m btkernel.rebuild registry.projections records [--dsn …] [--batch 2000] [--processes N] [--restart]
        [--keep-retired]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncpg
import pydantic_core

from btkernel import context, db
from btkernel import logging as btlog
from btkernel.consumer import Handler, upcast_envelope
from btkernel.context import Actor, RequestContext
from btkernel.envelope import Envelope
from btkernel.events.base import Event
from btkernel.events.kept import KeptEvents
from btkernel.eventstore import StoredEvent, stored_event
from btkernel.rebuild_rows import insert_rows

log = btlog.get(__name__)

# One stream's events from its first (`version` 1) in order, and how many of them the build has projected already:
# the function folds them all and writes what the events after `done` produce.
StreamReplay = Callable[[asyncpg.Connection, Sequence[StoredEvent], int], Awaitable[None]]
# The batch entry point (ADR 0027, "Batches"): many streams at once, each as `StreamReplay` takes one; the rows
# decided by the same live function, written with a statement per table (`btkernel.rebuild_rows`).
StreamsReplay = Callable[[asyncpg.Connection, Sequence[tuple[Sequence[StoredEvent], int]]], Awaitable[None]]
# The events of many kept envelopes at once, in the order the consumer applied them, each as its live handler
# applies it (read from the kept JSON in one pass, `btkernel.events.kept`). An iterator, taken once: each event is
# read from its envelope as it is taken, so a batch's events are never all held at once (see `_project_consumed`).
ConsumedApply = Callable[[asyncpg.Connection, Iterator[Event]], Awaitable[None]]


@dataclass(frozen=True)
class OwnStreams:
    """The service's own event store: every stream of `stream_types`, replayed from its first event."""

    stream_types: tuple[str, ...]
    replay: StreamReplay
    replay_many: StreamsReplay | None = None


@dataclass(frozen=True)
class ConsumedEvents:
    """What consumer group `group` applied, kept by the consumer; replayed through its live `handler`."""

    group: str
    handler: Handler
    service: str
    # The batch entry point: for a handler that needs no context (it appends nothing, so nothing carries ids).
    apply_many: ConsumedApply | None = None


# One event of the service's own store, folded into rows another part of the history wrote; False when those rows
# are not projected yet: the build takes the event again on its next round (`MergedHistory`).
EventReplay = Callable[[asyncpg.Connection, StoredEvent], Awaitable[bool]]


@dataclass(frozen=True)
class MergedHistory:
    """A table several consumer groups write, and own streams fold into (the registry's `deadlines`: case events,
    complaints, delivered notices, and the scheduler's kept warnings). The groups' kept envelopes are replayed merged
    in the order they were applied (`processed_at`, the applying transaction's start, then topic, partition,
    offset), through each group's live handler; then the events of `stream_types`, each by `replay_event`, which
    may answer "not yet". One worker: events of different groups about one subject are keyed differently (a case
    and its notice), so no hash of a key shards them apart safely. Progress is the set of events projected (a kept
    one by group and id: two groups may apply one event)."""

    groups: tuple[ConsumedEvents, ...]
    stream_types: tuple[str, ...] = ()
    replay_event: EventReplay | None = None
    # Reference data the replay reads beside the history (the working calendar), which live writers apply to the
    # table when it changes, in no event (a decree moving running terms): `reference` gives its fingerprint, and when
    # it changed since the build began, `settle` brings the build's rows up to it — checked as each pass begins, last
    # under the swap's lock, so usually it costs one query.
    reference: Callable[[asyncpg.Connection], Awaitable[str]] | None = None
    settle: Callable[[asyncpg.Connection], Awaitable[object]] | None = None


@dataclass(frozen=True)
class Projection:
    name: str
    description: str
    # The tables swapped in together.
    tables: tuple[str, ...]
    source: OwnStreams | ConsumedEvents | MergedHistory
    # Tables the live code writes besides the projection (the outbox row of an event it announces): a build writes
    # them in its schema and drops them, so a replay announces nothing a second time.
    side_tables: tuple[str, ...] = ()
    # The copies' secondary indexes and unique constraints (all but the primary key) built after the first pass,
    # each in one sort, not kept up row by row while it writes (issue 13 P3: a third of a records build). Only for
    # a projection whose first-pass writes need no such index: none reads by one, and no `ON CONFLICT` infers one
    # (a missing one fails loudly; one without a target would not). A duplicate fails the build when it is added.
    defer_indexes: bool = False

    @property
    def build_schema(self) -> str:
        return f"bt_rebuild_{self.name}"

    @property
    def retired_schema(self) -> str:
        return f"bt_retired_{self.name}"


@dataclass(frozen=True)
class Report:
    projection: str
    events: int
    seconds: float
    resumed: bool
    # How long the live tables were locked for the swap: what requests waited at most.
    locked_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class RebuildRefused(RuntimeError):
    """The projection cannot be rebuilt as things are; the message says why and what to do."""


_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
PROGRESS = "bt_progress"
# How far a consumed history's first passes read each partition (`_record_passed`): every envelope of (`topic`,
# `kafka_partition`) kept by a transaction older than `horizon`, at an offset below `below`, is projected. A row per
# pass and partition: a resumed pass adds its own, under the horizon it took, and each holds by itself.
PASSED = "bt_passed"
# The indexes and constraints a build adds after its first pass (`Projection.defer_indexes`), with their DDL.
DEFERRED = "bt_deferred"


def _ident(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


# -- prepare --


async def prepare(conn: asyncpg.Connection, p: Projection, *, restart: bool = False) -> bool:
    """The build's schema with empty copies of the live tables; True when an earlier build was found (resumed)."""
    schema = _ident(p.build_schema)
    async with conn.transaction():
        if restart:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        found = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.{PROGRESS}")
        if found:
            if isinstance(p.source, ConsumedEvents):
                # A build prepared before first passes recorded partitions: its progress is all by id.
                await conn.execute(_CREATE_PASSED.format(schema=schema))
            return True
        await _refuse_unsupported(conn, p)
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.execute(f"CREATE SCHEMA {schema}")
        for table in (*p.tables, *p.side_tables):
            await conn.execute(
                f"CREATE TABLE {schema}.{_ident(table)} (LIKE public.{_ident(table)} INCLUDING ALL)"
            )
            await _match_index_names(conn, schema, table)
            await _copy_grants(conn, schema, table)
            await _copy_foreign_keys(conn, schema, table, p.tables)
        await conn.execute(f"CREATE TABLE {schema}.{DEFERRED} (name text PRIMARY KEY, ddl text NOT NULL)")
        if p.defer_indexes and isinstance(p.source, (OwnStreams, ConsumedEvents)):
            for table in p.tables:
                await _defer_indexes(conn, schema, table)
        if isinstance(p.source, OwnStreams):
            await conn.execute(
                f"CREATE TABLE {schema}.{PROGRESS} (stream_id text PRIMARY KEY, version integer NOT NULL)"
            )
        else:
            await conn.execute(f"CREATE TABLE {schema}.{PROGRESS} (event_id text PRIMARY KEY)")
            if isinstance(p.source, ConsumedEvents):
                await conn.execute(_CREATE_PASSED.format(schema=schema))
        return False


_CREATE_PASSED = (
    f"CREATE TABLE IF NOT EXISTS {{schema}}.{PASSED} (topic text NOT NULL, kafka_partition integer NOT NULL,"
    " horizon xid8 NOT NULL, below bigint NOT NULL, PRIMARY KEY (topic, kafka_partition, horizon))"
)


async def _refuse_unsupported(conn: asyncpg.Connection, p: Projection) -> None:
    """What a swap by moving tables would break: a foreign key or view of another table pointing at one, a trigger
    the copy would lack, a sequence the copy would share. Refused before anything is built. (Lists of tables are
    sent as text[] and cast by the server, here and below: asyncpg asks the server what a regclass[] is, once per
    connection, ~13 ms of a fresh server process's time.)"""
    for table in p.tables:
        oid = await conn.fetchval("SELECT to_regclass($1)", f"public.{_ident(table)}")
        if oid is None:
            raise RebuildRefused(f"no table public.{table}: are the migrations applied?")
        problems = await conn.fetch(
            "SELECT 'foreign key ' || conname AS what FROM pg_constraint WHERE confrelid = $1::regclass"
            "   AND contype = 'f' AND NOT conrelid = ANY($2::text[]::regclass[])"
            " UNION ALL SELECT 'view ' || r.ev_class::regclass::text FROM pg_depend d"
            "   JOIN pg_rewrite r ON r.oid = d.objid WHERE d.refobjid = $1::regclass AND r.ev_class <> $1::regclass"
            " UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal"
            " UNION ALL SELECT 'sequence default of ' || attname FROM pg_attrdef d JOIN pg_attribute a"
            "   ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
            "   WHERE d.adrelid = $1::regclass AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'",
            f"public.{table}",
            [f"public.{t}" for t in p.tables],
        )
        if problems:
            raise RebuildRefused(
                f"public.{table} cannot be swapped by moving it: " + ", ".join(r["what"] for r in problems)
            )


def _shape(indexdef: str) -> str:
    """An index definition without its name and table, to pair a copy's index with the live one."""
    return re.sub(r"INDEX \S+ ON \S+", "INDEX ON", indexdef)


async def _match_index_names(conn: asyncpg.Connection, schema: str, table: str) -> None:
    """LIKE names the copies' indexes itself (`records_subject_iin_idx`); after the swap the live table must have the
    names the migrations gave, so later migrations can name them."""

    async def indexes(qualified: str) -> dict[str, str]:
        rows = await conn.fetch(
            "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::regclass",
            qualified,
        )
        return {_shape(r["def"]): r["name"] for r in rows}

    live = await indexes(f"public.{table}")
    copy = await indexes(f"{schema}.{table}")
    renames = [(copy[shape], name) for shape, name in live.items() if shape in copy and copy[shape] != name]
    # Through temporary names: a wanted name may be one LIKE gave to another index of the copy.
    for n, (current, _) in enumerate(renames):
        await conn.execute(f'ALTER INDEX {schema}."{current}" RENAME TO bt_tmp_{n}')
    for n, (_, wanted) in enumerate(renames):
        await conn.execute(f'ALTER INDEX {schema}.bt_tmp_{n} RENAME TO "{wanted}"')


async def _copy_grants(conn: asyncpg.Connection, schema: str, table: str) -> None:
    """The live table's grants to other roles (a read-only or runtime role), given to the copy."""
    rows = await conn.fetch(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END AS grantee,"
        " a.privilege_type FROM pg_class c, aclexplode(c.relacl) a"
        " WHERE c.oid = $1::regclass AND a.grantee <> c.relowner",
        f"public.{table}",
    )
    for r in rows:
        await conn.execute(f"GRANT {r['privilege_type']} ON {schema}.{table} TO {r['grantee']}")


async def _referenced(conn: asyncpg.Connection, p: Projection) -> str:
    """The tables outside the projection its tables' foreign keys point at, as the start of a LOCK list."""
    rows = await conn.fetch(
        "SELECT DISTINCT confrelid::regclass::text AS name FROM pg_constraint WHERE contype = 'f'"
        " AND conrelid = ANY($1::text[]::regclass[]) AND NOT confrelid = ANY($1::text[]::regclass[]) ORDER BY 1",
        [f"public.{t}" for t in p.tables],
    )
    return "".join(f"{r['name']}, " for r in rows)


async def _copy_foreign_keys(
    conn: asyncpg.Connection, schema: str, table: str, swapped: tuple[str, ...]
) -> None:
    """The live table's foreign keys to tables outside the projection, under their names: `LIKE … INCLUDING ALL`
    copies none, and the swapped-in table must keep them (the notification log's to `applications`). Definitions
    as printed for this connection's search_path (`public`). One between tables swapped together would have to
    name the copies; none exists, and it is left out as before."""
    rows = await conn.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint"
        " WHERE conrelid = $1::regclass AND contype = 'f' AND NOT confrelid = ANY($2::text[]::regclass[])"
        " ORDER BY conname",
        f"public.{table}",
        [f"public.{t}" for t in swapped],
    )
    for r in rows:
        await conn.execute(f'ALTER TABLE {schema}.{table} ADD CONSTRAINT "{r["conname"]}" {r["def"]}')


async def _defer_indexes(conn: asyncpg.Connection, schema: str, table: str) -> None:
    """The copy's indexes but its primary key dropped, and what adds them again (as the live ones are named) kept
    in the build's `bt_deferred`; a unique or exclusion constraint as a constraint, the rest as indexes."""
    qualified = f"{schema}.{_ident(table)}"
    constraints = await conn.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS def, conindid FROM pg_constraint"
        " WHERE conrelid = $1::regclass AND contype IN ('u', 'x') ORDER BY conname",
        qualified,
    )
    indexes = await conn.fetch(
        "SELECT i.relname, pg_get_indexdef(i.oid) AS def FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = $1::regclass AND NOT x.indisprimary AND NOT x.indexrelid = ANY($2::oid[])"
        " ORDER BY i.relname",
        qualified,
        [c["conindid"] for c in constraints],
    )
    for c in constraints:
        await conn.execute(f'ALTER TABLE {qualified} DROP CONSTRAINT "{c["conname"]}"')
        await conn.execute(
            f"INSERT INTO {schema}.{DEFERRED} (name, ddl) VALUES ($1, $2)",
            c["conname"],
            f'ALTER TABLE {qualified} ADD CONSTRAINT "{c["conname"]}" {c["def"]}',
        )
    for i in indexes:
        await conn.execute(f'DROP INDEX {schema}."{i["relname"]}"')
        # The copy named with its schema, however the search path had it printed: the DDL runs alike anywhere.
        ddl = re.sub(r" ON (ONLY )?\S+ ", f" ON \\1{qualified} ", i["def"], count=1)
        await conn.execute(f"INSERT INTO {schema}.{DEFERRED} (name, ddl) VALUES ($1, $2)", i["relname"], ddl)


async def add_deferred_indexes(conn: asyncpg.Connection, p: Projection) -> None:
    """The indexes and constraints the first pass went without, added in one transaction (with `bt_deferred`
    emptied in it: a crash adds them again on the next run, a second call adds nothing)."""
    schema = _ident(p.build_schema)
    if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.{DEFERRED}"):
        return  # a build prepared before deferring existed: it kept its indexes
    async with conn.transaction():
        # Committed once flushed: the indexes' pages go to the WAL as they are built, tens of megabytes, and left to
        # the swap's durable commit that flush was most of the time it held its lock (68 of 81 ms at 100,000
        # records; issue 13 P3).
        await conn.execute("SET LOCAL synchronous_commit = on")
        for r in await conn.fetch(f"SELECT name, ddl FROM {schema}.{DEFERRED} ORDER BY name"):
            await conn.execute(r["ddl"])
        await conn.execute(f"DELETE FROM {schema}.{DEFERRED}")


# -- replay --


@dataclass(frozen=True)
class Shard:
    """Worker `index` of `of`: the streams (own history) or subjects (consumed) whose hash falls to it. A stream's
    or subject's events stay in order within one worker; different ones are independent, as they are live
    (a consumer's partitions are applied in no fixed order among themselves)."""

    index: int
    of: int


@dataclass(frozen=True)
class Horizon:
    """Where a build's first pass stood in the history: the oldest transaction still running (`xmin` of a snapshot,
    as `xid8` text) when it began, taken before any shard's snapshot. Every event appended or kept by an older
    transaction had committed by then, so every shard's pass saw it; one a pass did not see was written by this
    transaction or a later one. So the catch-up rounds and the swap's locked one look only at what was written since:
    at 100,000 events their scans of the whole history were most of the 140–230 ms the swap held its ACCESS
    EXCLUSIVE lock, and they grow with the history (issue 13 P3; ADR 0027).

    * Own streams: the streams the journal (`history_journal`, ADR 0030: an entry per event, in the appending
      transaction, with its `xid`) names since, by its index.
    * Kept envelopes: the rows whose keeping transaction (`processed_events.xid`, kernel migration 007) is no
      older, by their index. Before it they were found by `age(xmin)` over every envelope of the group, a read that
      grew with the history: the swap held its lock 49 ms at 95,000 envelopes, now 9. Rows kept before that
      migration have no `xid`, and are older than any horizon. The first pass records what it projected of those
      kept before the horizon by how far it read each partition, and ids only for the rest (`_record_passed`).

    A merged history has none: it is asked of its sources."""

    xmin: str


# A stream journaled since the horizon; a kept envelope written since. The parameter's number is filled in.
_SINCE_HORIZON = (
    " AND e.stream_id IN (SELECT j.stream_id FROM history_journal j WHERE j.xid >= $%d::text::xid8)"
)
_KEPT_SINCE_HORIZON = " AND pe.xid >= $%d::text::xid8"


def _written_since(since: Horizon | None, n: int, *, kept: bool = False) -> tuple[str, list[str]]:
    """The condition on what was written since `since`, as parameter `$n`, and that parameter: a stream journaled
    since (`e`, events), or with `kept` an envelope kept since (`pe`, processed_events); nothing without one."""
    if since is None:
        return "", []
    return (_KEPT_SINCE_HORIZON if kept else _SINCE_HORIZON) % n, [since.xmin]


async def horizon(conn: asyncpg.Connection, p: Projection) -> Horizon | None:
    """The horizon of a first pass about to begin (see `Horizon`); None for a merged history. On a connection outside
    a transaction, so the snapshot is the moment's."""
    if isinstance(p.source, MergedHistory):
        return None
    await _with_statistics(
        conn, "history_journal" if isinstance(p.source, OwnStreams) else "processed_events"
    )
    return Horizon(await conn.fetchval("SELECT pg_snapshot_xmin(pg_current_snapshot())::text"))


async def _with_statistics(conn: asyncpg.Connection, table: str) -> None:
    """`table` analyzed if its `xid` has no statistics: a database just loaded, before autovacuum came by, or
    `processed_events` since kernel migration 007 added the column. Without them the planner guessed a third of
    the table newer than any horizon and read all of it (the journal: 41 ms at 100,000 events); with any,
    PostgreSQL reads the index's true end and takes the few rows since by their index (0.04–0.06 ms)."""
    if not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_stats WHERE schemaname = 'public' AND tablename = $1 AND attname = 'xid')",
        table,
    ):
        await conn.execute(f"ANALYZE {_ident(table)}")


async def replay_pending(
    conn: asyncpg.Connection,
    p: Projection,
    *,
    batch: int = 500,
    shard: Shard | None = None,
    since: Horizon | None = None,
) -> int:
    """Project everything in the history the build has not projected yet (of `shard`, or all), a batch per
    transaction; the number of events projected. With `since`, only what was written since the first pass's
    horizon is looked at."""
    total = 0
    after: Any = None
    while True:
        async with conn.transaction():
            if isinstance(p.source, OwnStreams):
                done, after = await _replay_streams(conn, p.source, batch, after, shard, since)
            elif isinstance(p.source, MergedHistory):
                done, after = await _replay_merged(conn, p.source, batch, after, shard)
            else:
                done, after = await _replay_consumed(conn, p.source, batch, after, shard, since)
        total += done
        if after is None:
            return total


def _shard_args(shard: Shard | None) -> tuple[int | None, int]:
    return (shard.index, shard.of) if shard else (None, 1)


# hashtext may be negative (and abs(INT_MIN) overflows): the sign bit is masked off instead.
_IN_SHARD = "($%d::int IS NULL OR (hashtext(%s) & 2147483647) %% $%d = $%d)"
_SUBJECT = "coalesce(pe.envelope->>'subject', '')"


async def _replay_streams(
    conn: asyncpg.Connection,
    source: OwnStreams,
    batch: int,
    after: str | None,
    shard: Shard | None,
    since: Horizon | None = None,
) -> tuple[int, str | None]:
    written, since_arg = _written_since(since, 6)
    heads = await conn.fetch(
        "SELECT e.stream_id, max(e.version) AS head, coalesce(max(p.version), 0) AS done FROM events e"
        f" LEFT JOIN {PROGRESS} p ON p.stream_id = e.stream_id"
        " WHERE e.stream_type = ANY($1::text[]) AND ($2::text IS NULL OR e.stream_id > $2)"
        f" AND {_IN_SHARD % (4, 'e.stream_id', 5, 4)}"
        f"{written}"
        " GROUP BY e.stream_id HAVING max(e.version) > coalesce(max(p.version), 0)"
        " ORDER BY e.stream_id LIMIT $3",
        list(source.stream_types),
        after,
        batch,
        *_shard_args(shard),
        *since_arg,
    )
    if not heads:
        return 0, None
    rows = await conn.fetch(
        "SELECT e.stream_id, e.version, e.event_id, e.event_type, e.data, e.recorded_at, e.correlation_id,"
        " e.causation_id, e.actor FROM events e JOIN unnest($1::text[], $2::text[]::int[]) AS h(stream_id, head)"
        " ON h.stream_id = e.stream_id AND e.version <= h.head ORDER BY e.stream_id, e.version",
        [h["stream_id"] for h in heads],
        [str(h["head"]) for h in heads],
    )
    streams: dict[str, list[StoredEvent]] = {}
    for r in rows:
        streams.setdefault(r["stream_id"], []).append(stored_event(r))
    projected = await _project_streams(conn, source, [(streams[h["stream_id"]], h["done"]) for h in heads])
    return projected, heads[-1]["stream_id"]


async def _project_streams(
    conn: asyncpg.Connection, source: OwnStreams, streams: Sequence[tuple[Sequence[StoredEvent], int]]
) -> int:
    """Streams, each whole from version 1 with how many of its events were projected before, projected and their
    progress recorded, in the caller's transaction; the number of events projected."""
    if source.replay_many is not None:
        await source.replay_many(conn, streams)
    else:
        for events, done in streams:
            await source.replay(conn, events, done)
    # Numbers sent as text[] and cast by the server, here, in `_replay_streams` and in `_record_passed`: asyncpg
    # asks a fresh server process what an int4[] or int8[] is before its first use, and every first-pass process
    # writes on fresh connections (issue 13 P3: 12–18 ms into each one's first batch).
    await conn.execute(
        f"INSERT INTO {PROGRESS} (stream_id, version) SELECT * FROM unnest($1::text[], $2::text[]::int[])"
        " ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version",
        [events[0].stream_id for events, _ in streams],
        [str(events[-1].version) for events, _ in streams],
    )
    return sum(events[-1].version - done for events, done in streams)


# A kept envelope (`pe`) the build has not projected: not by its id, nor below where a first pass read its partition
# of what was kept before that pass's horizon (`PASSED`). Two `NOT EXISTS`, each an anti-join.
_NOT_PROJECTED = (
    f" AND NOT EXISTS (SELECT 1 FROM {PROGRESS} a WHERE a.event_id = pe.event_id)"
    f" AND NOT EXISTS (SELECT 1 FROM {PASSED} r WHERE r.topic = pe.topic AND r.kafka_partition = pe.kafka_partition"
    " AND pe.kafka_offset < r.below AND (pe.xid IS NULL OR pe.xid < r.horizon))"
)


async def _replay_consumed(
    conn: asyncpg.Connection,
    source: ConsumedEvents,
    batch: int,
    after: tuple[str, int, int] | None,
    shard: Shard | None,
    since: Horizon | None = None,
) -> tuple[int, tuple[str, int, int] | None]:
    topic, partition, offset = after or ("", -1, -1)
    written, since_arg = _written_since(since, 8, kept=True)
    rows = await conn.fetch(
        "SELECT pe.event_id, pe.topic, pe.kafka_partition, pe.kafka_offset, pe.envelope::text AS envelope"
        " FROM processed_events pe"
        f" WHERE pe.consumer_group = $1{_NOT_PROJECTED}"
        " AND (pe.topic, pe.kafka_partition, pe.kafka_offset) > ($2, $3, $4)"
        f" AND {_IN_SHARD % (6, _SUBJECT, 7, 6)}"
        f"{written}"
        " ORDER BY pe.topic, pe.kafka_partition, pe.kafka_offset LIMIT $5",
        source.group,
        topic,
        partition,
        offset,
        batch,
        *_shard_args(shard),
        *since_arg,
    )
    if not rows:
        return 0, None
    await _project_consumed(conn, source, rows)
    last = rows[-1]
    return len(rows), (last["topic"], last["kafka_partition"], last["kafka_offset"])


# The events of kept envelopes read in one pass (this process's: the types it has learnt).
_kept_events = KeptEvents()


async def _project_consumed(
    conn: asyncpg.Connection, source: ConsumedEvents, rows: Sequence[Any], since: Horizon | None = None
) -> None:
    """Kept envelopes (`processed_events` rows, in the order applied, each `envelope` its JSON text as it is kept)
    projected and recorded as projected, in the caller's transaction: by id, or with `since` as a batch of a first
    pass from that horizon (`_record_passed`)."""
    kept: list[str | bytes] = []
    for r in rows:
        if r["envelope"] is None:
            raise RebuildRefused(
                f"{source.group} applied event {r['event_id']} before consumers kept what they applied"
                " (kernel migration 003); that part of the history is not here to rebuild from"
            )
        kept.append(r["envelope"])
    if source.apply_many is not None:
        # Only the events: validated from the JSON in one pass (issue 13 P3: ~9 µs of a shard's ~52 an event). One
        # at a time, as the entry point takes them: an event is dropped once its rows are decided, and the next one
        # is built in the memory it freed, still in the processor's cache. A list of the batch's 2,000 events was
        # built in fresh memory each time: validating cost 14.5–16 µs an event against 11 (docs/adr/0043).
        taken = 0

        def events() -> Iterator[Event]:
            nonlocal taken
            for raw in kept:
                taken += 1
                yield _kept_events.event(raw)

        await source.apply_many(conn, events())
        # Their progress is recorded below: an entry point that stopped early would have it say "projected" of
        # events it never applied (nor validated).
        if taken < len(kept):
            raise RuntimeError(
                f"{source.group}: the batch entry point took {taken} of its {len(kept)} events"
            )
    else:
        for raw in kept:
            envelope = upcast_envelope(Envelope.from_json(pydantic_core.from_json(raw)))
            # The context the consumer gave the event (btkernel.consumer.IdempotentConsumer.apply_once).
            ctx = RequestContext(
                correlation_id=envelope.correlation_id or envelope.id,
                causation_id=envelope.id,
                actor=Actor.system(source.service),
            )
            token = context.bind(ctx)
            try:
                await source.handler(conn, envelope, ctx)
            finally:
                context.unbind(token)
    if since is None:
        await _record_projected(conn, [r["event_id"] for r in rows])
    else:
        await _record_passed(conn, rows, since)


async def _record_projected(conn: asyncpg.Connection, event_ids: Sequence[str]) -> None:
    """Events recorded as projected by the build (`PROGRESS`), in the caller's transaction: by COPY, a row per
    event of every batch (`insert_rows`)."""
    await insert_rows(conn, PROGRESS, (("event_id", "text"),), [(i,) for i in event_ids])


async def _record_passed(conn: asyncpg.Connection, rows: Sequence[Any], since: Horizon) -> None:
    """A first pass's batch from horizon `since` recorded as projected, in the caller's transaction. `rows` are in
    the pass's order (topic, partition, offset), each with `kept_since`: kept by the horizon's transaction or a later
    one (`_BULK_CONSUMED`).

    * For each partition, the offset the batch reached (`PASSED`): it stands for every envelope kept before the
      horizon at a lower offset. Each of those is in the pass's snapshot (`Horizon`), and the pass reads its
      partitions in offset order, so it projected them, in this batch or one before it, or skipped them as
      projected already (a resumed pass).
    * By id, what the offsets do not speak for: the envelopes kept since the horizon, which the next rounds ask
      about by id, and those at the offset reached (a topic made again repeats offsets, and a batch may end
      between two envelopes at one offset).

    Recording each envelope's id was about a quarter of the server's work in a build (issue 13 P3, docs/adr/0043)."""
    # Each partition's last row is its highest offset.
    reached = {(r["topic"], r["kafka_partition"]): r["kafka_offset"] for r in rows}
    await _record_projected(
        conn,
        [
            r["event_id"]
            for r in rows
            if r["kept_since"] or r["kafka_offset"] == reached[(r["topic"], r["kafka_partition"])]
        ],
    )
    await conn.execute(
        f"INSERT INTO {PASSED} (topic, kafka_partition, horizon, below)"
        " SELECT t, k, $4::text::xid8, o FROM unnest($1::text[], $2::text[]::int[], $3::text[]::bigint[]) AS u(t, k, o)"
        f" ON CONFLICT (topic, kafka_partition, horizon) DO UPDATE SET below = greatest({PASSED}.below, excluded.below)",
        [t for t, _ in reached],
        [str(k) for _, k in reached],
        [str(o) for o in reached.values()],
        since.xmin,
    )


# -- the first pass: the history read once, in order --

# Every event of the pending streams of a shard, in (stream, version) order, by one query, not a query per batch (a
# keyset query per batch re-scans and re-groups the table each time: quadratic). The planner sorts the shard's
# events for it, and that stays: read in the primary key's order instead, a history larger than memory would be
# read at random, since a stream's events are appended over months (ADR 0043, "The first pass's read").
_BULK_STREAMS = (
    "SELECT * FROM (SELECT e.stream_id, e.version, e.event_id, e.event_type, e.data, e.recorded_at,"
    " e.correlation_id, e.causation_id, e.actor, coalesce(p.version, 0) AS done,"
    " max(e.version) OVER (PARTITION BY e.stream_id) AS head"
    f" FROM events e LEFT JOIN {PROGRESS} p ON p.stream_id = e.stream_id"
    f" WHERE e.stream_type = ANY($1::text[]) AND {_IN_SHARD % (2, 'e.stream_id', 3, 2)}) s"
    " WHERE head > done ORDER BY stream_id, version"
)
# Kept envelopes sharded by partition, not by subject: a subject's events share its key's partition, which orders
# them as the consumer applied them, and the envelopes of other shards are not read (a subject's hash reads each).
# `kept_since`: kept by the transaction of horizon `$4` or a later one (NULL without a horizon, or for an envelope
# kept before kernel migration 007, older than any horizon).
_BULK_CONSUMED = (
    "SELECT pe.event_id, pe.envelope, pe.topic, pe.kafka_partition, pe.kafka_offset,"
    " pe.xid >= $4::text::xid8 AS kept_since FROM processed_events pe"
    " WHERE pe.consumer_group = $1 AND ($2::int IS NULL OR pe.kafka_partition % $3 = $2){}"
    " ORDER BY pe.topic, pe.kafka_partition, pe.kafka_offset"
)


async def _kept_in_index_order(reader: asyncpg.Connection) -> None:
    """`_BULK_CONSUMED` read in the order of the index made for it (`processed_events_replay`), for the rest of the
    reader's transaction. The planner prices the index's heap visits above sorting the group's rows, but a sort
    (envelopes of ~1 KB, spilled to disk beyond `work_mem`) ends before the first row comes: the pass's processes
    waited for it, and it was most of the server's part of the pass (issue 13 P3: a `known_records` build of 18,961
    envelopes ~13 % faster, docs/adr/0043)."""
    await reader.execute("SET LOCAL enable_sort = off")


async def bulk_replay(
    reader: asyncpg.Connection,
    writer: asyncpg.Connection,
    p: Projection,
    *,
    batch: int = 2000,
    shard: Shard | None = None,
    fresh: bool = False,
    since: Horizon | None = None,
) -> int:
    """A build's first pass: what is pending of the history (of `shard`) read by one cursor on `reader` (a
    `_reading_connection`), in order, and projected on `writer` a batch per transaction with its progress (ADR
    0027, "Batches"): a crash loses no more than the batch in flight, and the next run resumes. What arrives
    meanwhile is the catch-up rounds' (the cursor reads one snapshot). `fresh`: the build was prepared by this run,
    so nothing of it is projected yet. `since`: the horizon taken before the pass began (`Horizon`), by which a kept
    envelope's progress is recorded for less (`_record_passed`); without one, by each envelope's id. Sources other
    than own streams and one group's kept events: nothing (the rounds do it all)."""
    source = p.source
    if not isinstance(source, (OwnStreams, ConsumedEvents)):
        return 0
    total = 0
    async with reader.transaction(isolation="repeatable_read", readonly=True):
        if isinstance(source, OwnStreams):
            streams: list[tuple[list[StoredEvent], int]] = []
            pending = 0
            cursor = await reader.cursor(_BULK_STREAMS, list(source.stream_types), *_shard_args(shard))
            # Fetched a batch at a time, not row by row: iterating a cursor is an await per row.
            while fetched := await cursor.fetch(batch):
                for r in fetched:
                    if not streams or streams[-1][0][0].stream_id != r["stream_id"]:
                        # A batch ends between streams: each stream is folded whole.
                        if pending >= batch:
                            async with writer.transaction():
                                total += await _project_streams(writer, source, streams)
                            streams, pending = [], 0
                        streams.append(([], r["done"]))
                    streams[-1][0].append(stored_event(r))
                    pending += 1
            if streams:
                async with writer.transaction():
                    total += await _project_streams(writer, source, streams)
        else:
            # A build just prepared (`fresh`) has projected nothing: no lookup of each event's progress (~1.2 µs of
            # the server's time an event, issue 13 P3).
            query = _BULK_CONSUMED.format("" if fresh else _NOT_PROJECTED)
            await _kept_in_index_order(reader)
            cursor = await reader.cursor(
                query, source.group, *_shard_args(shard), since.xmin if since else None
            )
            while rows := await cursor.fetch(batch):
                async with writer.transaction():
                    await _project_consumed(writer, source, rows, since)
                total += len(rows)
    return total


async def _replay_merged(
    conn: asyncpg.Connection,
    source: MergedHistory,
    batch: int,
    after: tuple[Any, ...] | None,
    shard: Shard | None,
) -> tuple[int, tuple[Any, ...] | None]:
    """A batch of the merged history after `after`: the groups' envelopes (`("kept", processed_at, topic,
    partition, offset)`), then own events (`("own", stream_id, version)`). Own events come second in every round:
    what they fold into was written live before they were appended, so it is kept and projected by then."""
    if shard is not None and shard.index != 0:
        return 0, None
    if after is None:
        await _settle(conn, source)
    if after is None or after[0] == "kept":
        done, last = await _replay_merged_kept(conn, source, batch, after[1:] if after else None)
        if last is not None:
            return done, ("kept", *last)
    if not source.stream_types or source.replay_event is None:
        return 0, None
    stream_id, version = after[1:] if after and after[0] == "own" else ("", 0)
    rows = await conn.fetch(
        "SELECT e.stream_id, e.version, e.event_id, e.event_type, e.data, e.recorded_at, e.correlation_id,"
        " e.causation_id, e.actor FROM events e WHERE e.stream_type = ANY($1::text[])"
        f" AND NOT EXISTS (SELECT 1 FROM {PROGRESS} a WHERE a.event_id = e.event_id::text)"
        " AND (e.stream_id, e.version) > ($2, $3) ORDER BY e.stream_id, e.version LIMIT $4",
        list(source.stream_types),
        stream_id,
        version,
        batch,
    )
    if not rows:
        return 0, None
    applied = [r["event_id"] for r in rows if await source.replay_event(conn, stored_event(r))]
    await _record_projected(conn, [str(i) for i in applied])
    return len(applied), ("own", rows[-1]["stream_id"], rows[-1]["version"])


async def _settle(conn: asyncpg.Connection, source: MergedHistory) -> None:
    """The reference data's fingerprint is kept in the progress as `reference:<fingerprint>` from the build's first
    batch on; a different one now: settle, and keep the new one."""
    if source.reference is None or source.settle is None:
        return
    now = "reference:" + await source.reference(conn)
    kept = await conn.fetchval(f"SELECT event_id FROM {PROGRESS} WHERE event_id LIKE 'reference:%'")
    if kept == now:
        return
    if kept is not None:
        await source.settle(conn)
        await conn.execute(f"DELETE FROM {PROGRESS} WHERE event_id = $1", kept)
    await conn.execute(f"INSERT INTO {PROGRESS} (event_id) VALUES ($1)", now)


async def _replay_merged_kept(
    conn: asyncpg.Connection, source: MergedHistory, batch: int, after: tuple[Any, ...] | None
) -> tuple[int, tuple[Any, ...] | None]:
    groups = {g.group: g for g in source.groups}
    at, topic, partition, offset = after or (None, "", -1, -1)
    rows = await conn.fetch(
        "SELECT pe.consumer_group, pe.event_id, pe.processed_at, pe.topic, pe.kafka_partition, pe.kafka_offset,"
        " pe.envelope FROM processed_events pe WHERE pe.consumer_group = ANY($1::text[])"
        f" AND NOT EXISTS (SELECT 1 FROM {PROGRESS} a WHERE a.event_id = pe.consumer_group || '/' || pe.event_id)"
        " AND ($2::timestamptz IS NULL"
        "      OR (pe.processed_at, pe.topic, pe.kafka_partition, pe.kafka_offset) > ($2, $3, $4, $5))"
        " ORDER BY pe.processed_at, pe.topic, pe.kafka_partition, pe.kafka_offset LIMIT $6",
        list(groups),
        at,
        topic,
        partition,
        offset,
        batch,
    )
    if not rows:
        return 0, None
    for r in rows:
        group = groups[r["consumer_group"]]
        if r["envelope"] is None:
            raise RebuildRefused(
                f"{group.group} applied event {r['event_id']} before consumers kept what they applied"
                " (kernel migration 003); that part of the history is not here to rebuild from"
            )
        envelope = upcast_envelope(Envelope.from_json(r["envelope"]))
        # The context the consumer gave the event (btkernel.consumer.IdempotentConsumer.apply_once).
        ctx = RequestContext(
            correlation_id=envelope.correlation_id or envelope.id,
            causation_id=envelope.id,
            actor=Actor.system(group.service),
        )
        token = context.bind(ctx)
        try:
            await group.handler(conn, envelope, ctx)
        finally:
            context.unbind(token)
    # By group and id: two groups may apply one event, each to the table.
    await _record_projected(conn, [f"{r['consumer_group']}/{r['event_id']}" for r in rows])
    last = rows[-1]
    return len(rows), (last["processed_at"], last["topic"], last["kafka_partition"], last["kafka_offset"])


# Whether group `$1` kept an envelope the build has not projected; `{}` takes `_written_since`'s condition.
_KEPT_PENDING = (
    f"SELECT EXISTS (SELECT 1 FROM processed_events pe WHERE pe.consumer_group = $1{_NOT_PROJECTED}{{}})"
)


async def _anything_pending(conn: asyncpg.Connection, p: Projection, since: Horizon | None = None) -> bool:
    """Whether the history holds an event the build has not projected (of what was written since `since`); a
    merged history is always asked of its sources (its progress is by event and group, and it settles its
    reference data as each pass begins)."""
    if isinstance(p.source, OwnStreams):
        written, since_arg = _written_since(since, 2)
        found: bool = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM events e"
            f" LEFT JOIN {PROGRESS} p ON p.stream_id = e.stream_id"
            " WHERE e.stream_type = ANY($1::text[]) AND e.version > coalesce(p.version, 0)"
            f"{written})",
            list(p.source.stream_types),
            *since_arg,
        )
        return found
    if isinstance(p.source, ConsumedEvents):
        written, since_arg = _written_since(since, 2, kept=True)
        found = await conn.fetchval(_KEPT_PENDING.format(written), p.source.group, *since_arg)
        return found
    return True


# -- swap --


@dataclass(frozen=True)
class Swapped:
    """What the swap did under its lock: the events it projected, and how long it held the live tables."""

    events: int
    locked_s: float


async def swap(
    conn: asyncpg.Connection,
    p: Projection,
    *,
    keep_retired: bool = False,
    lock_timeout_s: float = 5.0,
    since: Horizon | None = None,
) -> Swapped:
    """The last pending events and the exchange of the tables, in one transaction; the events projected under the
    lock (of what was written since `since`, when the build's first pass took one) and how long it was held."""
    schema, retired = _ident(p.build_schema), _ident(p.retired_schema)
    live = ", ".join(f"public.{_ident(t)}" for t in p.tables)
    async with conn.transaction():
        # The build's batches may be lost in a crash (they are done again: their progress goes with them); the
        # swap may not.
        await conn.execute("SET LOCAL synchronous_commit = on")
        # Waiting longer than this behind a long transaction would stall every request queued behind the lock.
        await conn.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_s * 1000)}ms'")
        # ACCESS EXCLUSIVE at once, not EXCLUSIVE then more: a reader that then writes would deadlock an upgrade.
        # The tables the live ones' foreign keys point at first: dropping the retired table drops its keys' triggers
        # there, under ACCESS EXCLUSIVE, and writers take them first (the notification consumer writes
        # `applications`, then the log) — taken last, a writer between the two would deadlock the swap.
        await conn.execute(f"LOCK TABLE {await _referenced(conn, p)}{live} IN ACCESS EXCLUSIVE MODE")
        locked_at = time.monotonic()
        for table in p.tables:
            await _check_same_shape(conn, schema, table)
        # Added after the first pass already; a build that swaps without one (a test's) adds them here.
        await add_deferred_indexes(conn, p)
        caught_up = await replay_pending(conn, p, batch=5000, since=since)
        await conn.execute(f"DROP SCHEMA IF EXISTS {retired} CASCADE")
        await conn.execute(f"CREATE SCHEMA {retired}")
        for table in p.tables:
            await conn.execute(f"ALTER TABLE public.{table} SET SCHEMA {retired}")
            await conn.execute(f"ALTER TABLE {schema}.{table} SET SCHEMA public")
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    swapped = Swapped(caught_up, time.monotonic() - locked_at)  # the lock ends with the commit
    log.info(
        "rebuild_swap_locked",
        projection=p.name,
        events=caught_up,
        locked_ms=round(swapped.locked_s * 1000, 1),
    )
    if not keep_retired:
        await _drop_retired(conn, p, lock_timeout_s)
    return swapped


async def _drop_retired(conn: asyncpg.Connection, p: Projection, lock_timeout_s: float) -> None:
    """The swapped-out tables dropped once the live ones are free again: dropped under the swap's lock, their files
    were unlinked by its commit, most of the time it held the lock (65 of 87 ms at 100,000 records; issue 13 P3).
    Dropping a foreign key locks the table it points at, so not waited for longer than the swap would; left for the
    next swap to drop when that cannot be had."""
    try:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_s * 1000)}ms'")
            await conn.execute(f"DROP SCHEMA IF EXISTS {_ident(p.retired_schema)} CASCADE")
    except asyncpg.PostgresError as exc:
        # Housekeeping after a swap that is done: said, not raised (the next swap drops the schema under its lock).
        log.warning("rebuild_retired_left", projection=p.name, schema=p.retired_schema, error=repr(exc))


async def _check_same_shape(conn: asyncpg.Connection, schema: str, table: str) -> None:
    """A migration that changed the live table since the build began: the copy is of the old shape."""
    query = (
        "SELECT array_agg(attname || ' ' || format_type(atttypid, atttypmod) ORDER BY attnum) FROM pg_attribute"
        " WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped"
    )
    live = await conn.fetchval(query, f"public.{table}")
    copy = await conn.fetchval(query, f"{schema}.{table}")
    if live != copy:
        raise RebuildRefused(f"public.{table} changed since this build began; run again with --restart")


# -- the whole --


async def rebuild(
    dsn: str,
    p: Projection,
    *,
    batch: int = 2000,
    restart: bool = False,
    keep_retired: bool = False,
    rounds: int = 20,
    workers: int = 4,
    processes: int = 1,
) -> Report:
    """Prepare (or resume), replay until the history is caught up (`workers` connections at once, each a shard of
    the streams or subjects; the first pass on `processes` processes), swap. One build of a projection at a
    time."""
    conn = await _build_connection(dsn, p)
    helpers: list[asyncpg.Connection] = []
    try:
        if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", f"bt_rebuild:{p.name}"):
            raise RebuildRefused(f"a rebuild of {p.name} is running already")
        started = time.monotonic()
        try:
            resumed = await prepare(conn, p, restart=restart)
        except asyncpg.InsufficientPrivilegeError as exc:
            # The service's own role may not create schemas or move tables (ADR 0030): the owner's may.
            raise RebuildRefused(f"{exc}: run the rebuild as the role that owns the database") from exc
        log.info("rebuild_started", projection=p.name, resumed=resumed)
        # The first pass reads the history once per shard; the rounds after it take what arrived meanwhile, from
        # the streams journaled since this horizon on (taken before any shard's snapshot).
        since = await horizon(conn, p)
        if not isinstance(p.source, (OwnStreams, ConsumedEvents)):
            counts = [0]  # no first pass of its own: the rounds do it all
        elif processes > 1:
            counts = await _bulk_in_processes(dsn, p, batch, processes, fresh=not resumed, since=since)
        else:
            helpers = await _helpers(dsn, p, workers)
            shards = [conn, *helpers]
            readers = [await _reading_connection(dsn, p) for _ in shards]
            try:
                counts = await asyncio.gather(
                    *(
                        bulk_replay(
                            r, c, p, batch=batch, shard=Shard(i, len(shards)), fresh=not resumed, since=since
                        )
                        for i, (r, c) in enumerate(zip(readers, shards, strict=True))
                    )
                )
            finally:
                for r in readers:
                    await r.close()
        events = sum(counts)
        await add_deferred_indexes(conn, p)
        log.info(
            "rebuild_first_pass",
            projection=p.name,
            events=events,
            seconds=round(time.monotonic() - started, 3),
        )
        for _ in range(rounds):
            # Each round takes what arrived during the one before; the swap's locked catch-up gets what is left.
            # Whether anything did is asked first, in one query: each shard of a round reads the history to find
            # its part (own streams: those journaled since the horizon; kept envelopes: the group's, by age), and
            # after a first pass that nothing followed four shards' scans were a quarter of the database's work of
            # a build (issue 13 P3).
            if not await _anything_pending(conn, p, since):
                break
            # Opened when a round has work: after a first pass on processes of their own, usually none has
            # (issue 13 P3: ~10 ms of a 20,000-event build's 440).
            helpers = helpers or await _helpers(dsn, p, workers)
            shards = [conn, *helpers]
            counts = await asyncio.gather(
                *(
                    replay_pending(c, p, batch=batch, shard=Shard(i, len(shards)), since=since)
                    for i, c in enumerate(shards)
                )
            )
            events += sum(counts)
            if sum(counts) < batch:
                break
        for attempt in range(1, 6):
            try:
                swapped = await swap(conn, p, keep_retired=keep_retired, since=since)
                events += swapped.events
                break
            except asyncpg.LockNotAvailableError:
                log.warning("rebuild_swap_waited", projection=p.name, attempt=attempt)
                events += await replay_pending(conn, p, batch=batch, since=since)
        else:
            raise RebuildRefused(f"{p.name}: the live tables stayed busy; run again (the build resumes)")
        report = Report(p.name, events, time.monotonic() - started, resumed, swapped.locked_s)
        log.info("rebuild_swapped", projection=p.name, events=events, seconds=round(report.seconds, 3))
        return report
    finally:
        for c in (*helpers, conn):
            await c.close()


async def _helpers(dsn: str, p: Projection, workers: int) -> list[asyncpg.Connection]:
    """The connections besides the build's own that the rounds shard their work across, opened at once."""
    return list(await asyncio.gather(*(_build_connection(dsn, p) for _ in range(workers - 1))))


async def _bulk_in_processes(
    dsn: str, p: Projection, batch: int, processes: int, *, fresh: bool = False, since: Horizon | None = None
) -> list[int]:
    """The first pass on `processes` processes, a shard each: folding and deciding rows is Python's work, one core
    per process (ADR 0027, "Batches"). Forked: the service's modules are imported already (a spawned process
    imports them again, seconds of a short build). A forked process inherits this one's connections and event
    loop but never touches them: it runs a loop and connections of its own, and a pool's process leaves by
    `os._exit`, closing nothing of ours. The projection travels by reference (its functions are module
    attributes, found in the fork's copy of `sys.modules`)."""
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(
            await asyncio.gather(
                *(
                    loop.run_in_executor(pool, _bulk_shard, dsn, p, batch, Shard(i, processes), fresh, since)
                    for i in range(processes)
                )
            )
        )


def _bulk_shard(dsn: str, p: Projection, batch: int, shard: Shard, fresh: bool, since: Horizon | None) -> int:
    """One process's part of the first pass: its shard, on a reading and a writing connection of its own."""

    async def run() -> int:
        reader, writer = await asyncio.gather(_reading_connection(dsn, p), _build_connection(dsn, p))
        try:
            return await bulk_replay(reader, writer, p, batch=batch, shard=shard, fresh=fresh, since=since)
        finally:
            # At once: each waits for the server's goodbye, a few ms the whole pass waits for.
            await asyncio.gather(reader.close(), writer.close())

    return asyncio.run(run())


async def _build_connection(dsn: str, p: Projection) -> asyncpg.Connection:
    conn = await db.connect(dsn)
    # JSON read by pydantic-core's parser, the same values as `json.loads` at 2.5× its speed (issue 13 P3: decoding
    # the kept envelopes and stored data was a fifth of a replay's time). Written as the live code writes it.
    # Both travel in their binary form — json's is its text as it is, jsonb's the text behind a version byte —
    # parsed from the bytes as they arrive, not first decoded into a str that the parser encodes again (1.3 µs of
    # a kept envelope's ~8).
    await conn.set_type_codec(
        "json", encoder=_json_binary, decoder=pydantic_core.from_json, schema="pg_catalog", format="binary"
    )
    await conn.set_type_codec(
        "jsonb", encoder=_jsonb_binary, decoder=_jsonb_value, schema="pg_catalog", format="binary"
    )
    # The build's copies first: the projection's own code writes them; everything else is found where it is.
    await conn.execute(f"SET search_path TO {_ident(p.build_schema)}, public")
    # A batch lost in a crash is projected again (its progress is lost with it): no fsync wait per batch.
    await conn.execute("SET synchronous_commit TO off")
    return conn


async def _reading_connection(dsn: str, p: Projection) -> asyncpg.Connection:
    """A first pass's reader: a build connection that gives `json` (the kept envelopes) as the text's bytes, as they
    arrive, for `btkernel.events.kept` to validate in one pass. It reads the history and nothing else."""
    conn = await _build_connection(dsn, p)
    await conn.set_type_codec(
        "json", encoder=_json_binary, decoder=bytes, schema="pg_catalog", format="binary"
    )
    return conn


def _json_binary(value: Any) -> bytes:
    """As `btkernel.db` encodes JSON for every connection, in json's binary form: the text itself."""
    return json.dumps(value, ensure_ascii=False, default=str).encode()


# The only version of jsonb's binary form: a version byte, then the JSON text (PostgreSQL's jsonb_send).
_JSONB_VERSION = b"\x01"


def _jsonb_binary(value: Any) -> bytes:
    return _JSONB_VERSION + _json_binary(value)


def _jsonb_value(raw: bytes) -> Any:
    if raw[:1] != _JSONB_VERSION:
        raise ValueError(f"jsonb binary form of an unknown version {raw[:1]!r}")
    return pydantic_core.from_json(raw[1:])


def projections_of(target: str) -> dict[str, Projection]:
    """`PROJECTIONS` of module `target` (e.g. `registry.projections`), by name."""
    module = importlib.import_module(target)
    found: Sequence[Projection] = module.PROJECTIONS
    return {p.name: p for p in found}


async def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m btkernel.rebuild", description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="the service's projections module, e.g. registry.projections")
    parser.add_argument("projection", nargs="?", help="the projection to rebuild; none: list them")
    parser.add_argument("--dsn", default=os.environ.get("BT_DATABASE_URL"), help="default: $BT_DATABASE_URL")
    parser.add_argument("--batch", type=int, default=2000, help="events per transaction of the build")
    parser.add_argument("--workers", type=int, default=4, help="connections replaying at once")
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="processes of the first pass, a shard each (default: one per core); 1: in this process",
    )
    parser.add_argument("--restart", action="store_true", help="drop an unfinished build and begin again")
    parser.add_argument(
        "--keep-retired", action="store_true", help="keep the old tables in bt_retired_<name>"
    )
    args = parser.parse_args(argv)
    projections = projections_of(args.target)
    if args.projection is None:
        for p in projections.values():
            source = p.source
            origin = (
                f"own streams {', '.join(source.stream_types)}"
                if isinstance(source, OwnStreams)
                else f"events consumed by {', '.join(g.group for g in source.groups)}"
                + (f" and own streams {', '.join(source.stream_types)}" if source.stream_types else "")
                if isinstance(source, MergedHistory)
                else f"events consumed by {source.group}"
            )
            print(f"{p.name}\t{', '.join(p.tables)}\t{origin}\t{p.description}")
        return 0
    if args.projection not in projections:
        print(f"no projection {args.projection!r}; offered: {', '.join(projections)}", file=sys.stderr)
        return 2
    if not args.dsn:
        print("--dsn or BT_DATABASE_URL is needed", file=sys.stderr)
        return 2
    _collect_rarely()
    try:
        report = await rebuild(
            args.dsn,
            projections[args.projection],
            batch=args.batch,
            restart=args.restart,
            keep_retired=args.keep_retired,
            workers=max(1, args.workers),
            processes=max(1, args.processes),
        )
    except RebuildRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(
        f"{report.projection}: {report.events} events in {report.seconds:.2f} s ({report.rate:.0f}/s)"
        f"{', resumed' if report.resumed else ''}; swapped in, the live tables locked for"
        f" {report.locked_s * 1000:.0f} ms"
    )
    return 0


def _collect_rarely() -> None:
    """A build allocates a batch of envelopes, events and rows at a time, none of them in a cycle, and drops them
    with the batch; Python's cyclic collector ran a young pass every 700 allocations and full passes over the
    service's imported modules, a sixth of a 20,000-event build's CPU (issue 13 P3). What is imported by now is
    frozen (no pass scans it again, and the forked processes of the first pass inherit it frozen, so no pass
    writes to their copy of it either), a young pass comes every 10,000 allocations and a full one after 1,000
    middle ones: a batch's objects outlive the young passes, and full passes over them were most of the cost.
    Garbage in a cycle is still collected, the old part of it later. The command's process only: a rebuild called
    inside another process (the tests) leaves that process's collector alone."""
    gc.freeze()
    gc.set_threshold(10_000, 20, 1_000)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(_cli(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    # Through the module's own name: run as __main__, this file's classes would not be the ones the services'
    # projection modules import, and isinstance would tell every source apart wrongly.
    from btkernel.rebuild import main as _main

    raise SystemExit(_main())
