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
  projection is made of, no more, no less. Progress is the set of event ids projected.

Phases: **prepare** (one transaction: schema, copies, progress table — a crash leaves all or nothing; a second run
finds it and resumes), **replay** (batches, each one transaction with its progress, until nothing is pending —
live traffic keeps adding to the history meanwhile), **swap** (one transaction: an ACCESS EXCLUSIVE lock on the live
tables — writers and readers wait, nobody fails — the last pending events applied, the live tables moved to
`bt_retired_<projection>` and the copies to `public`, the build's schema dropped). A live transaction that appended
an event but had not yet written the projection when the lock was taken writes the new table after the swap
(PostgreSQL resolves the name again once it gets its lock), and the build did not see its uncommitted event: each
event lands in the new table exactly once. The consumer's checkpoint — its processed-events record and committed
Kafka offsets — stays as it is and is right for the new table, which holds exactly the events it names.

    python -m btkernel.rebuild registry.projections                 # the service's projections
    python -m btkernel.rebuild registry.projections records [--dsn …] [--batch 500] [--restart] [--keep-retired]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from btkernel import context, db
from btkernel import logging as btlog
from btkernel.consumer import Handler, upcast_envelope
from btkernel.context import Actor, RequestContext
from btkernel.envelope import Envelope
from btkernel.eventstore import StoredEvent, stored_event

log = btlog.get(__name__)

# One stream's events from its first (`version` 1) in order, and how many of them the build has projected already:
# the function folds them all and writes what the events after `done` produce.
StreamReplay = Callable[[asyncpg.Connection, Sequence[StoredEvent], int], Awaitable[None]]


@dataclass(frozen=True)
class OwnStreams:
    """The service's own event store: every stream of `stream_types`, replayed from its first event."""

    stream_types: tuple[str, ...]
    replay: StreamReplay


@dataclass(frozen=True)
class ConsumedEvents:
    """What consumer group `group` applied, kept by the consumer; replayed through its live `handler`."""

    group: str
    handler: Handler
    service: str


@dataclass(frozen=True)
class Projection:
    name: str
    description: str
    # The tables swapped in together.
    tables: tuple[str, ...]
    source: OwnStreams | ConsumedEvents
    # Tables the live code writes besides the projection (the outbox row of an event it announces): a build writes
    # them in its schema and drops them, so a replay announces nothing a second time.
    side_tables: tuple[str, ...] = ()

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

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class RebuildRefused(RuntimeError):
    """The projection cannot be rebuilt as things are; the message says why and what to do."""


_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
PROGRESS = "bt_progress"


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
        if isinstance(p.source, OwnStreams):
            await conn.execute(
                f"CREATE TABLE {schema}.{PROGRESS} (stream_id text PRIMARY KEY, version integer NOT NULL)"
            )
        else:
            await conn.execute(f"CREATE TABLE {schema}.{PROGRESS} (event_id text PRIMARY KEY)")
        return False


async def _refuse_unsupported(conn: asyncpg.Connection, p: Projection) -> None:
    """What a swap by moving tables would break: a foreign key or view of another table pointing at one, a trigger
    the copy would lack, a sequence the copy would share. Refused before anything is built."""
    for table in p.tables:
        oid = await conn.fetchval("SELECT to_regclass($1)", f"public.{_ident(table)}")
        if oid is None:
            raise RebuildRefused(f"no table public.{table}: are the migrations applied?")
        problems = await conn.fetch(
            "SELECT 'foreign key ' || conname AS what FROM pg_constraint WHERE confrelid = $1::regclass"
            "   AND contype = 'f' AND NOT conrelid = ANY($2::regclass[])"
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


# -- replay --


@dataclass(frozen=True)
class Shard:
    """Worker `index` of `of`: the streams (own history) or subjects (consumed) whose hash falls to it. A stream's
    or subject's events stay in order within one worker; different ones are independent, as they are live
    (a consumer's partitions are applied in no fixed order among themselves)."""

    index: int
    of: int


async def replay_pending(
    conn: asyncpg.Connection, p: Projection, *, batch: int = 500, shard: Shard | None = None
) -> int:
    """Project everything in the history the build has not projected yet (of `shard`, or all), a batch per
    transaction; the number of events projected."""
    total = 0
    after: Any = None
    while True:
        async with conn.transaction():
            if isinstance(p.source, OwnStreams):
                done, after = await _replay_streams(conn, p.source, batch, after, shard)
            else:
                done, after = await _replay_consumed(conn, p.source, batch, after, shard)
        total += done
        if after is None:
            return total


def _shard_args(shard: Shard | None) -> tuple[int | None, int]:
    return (shard.index, shard.of) if shard else (None, 1)


# hashtext may be negative (and abs(INT_MIN) overflows): the sign bit is masked off instead.
_IN_SHARD = "($%d::int IS NULL OR (hashtext(%s) & 2147483647) %% $%d = $%d)"
_SUBJECT = "coalesce(pe.envelope->>'subject', '')"


async def _replay_streams(
    conn: asyncpg.Connection, source: OwnStreams, batch: int, after: str | None, shard: Shard | None
) -> tuple[int, str | None]:
    heads = await conn.fetch(
        "SELECT e.stream_id, max(e.version) AS head, coalesce(max(p.version), 0) AS done FROM events e"
        f" LEFT JOIN {PROGRESS} p ON p.stream_id = e.stream_id"
        " WHERE e.stream_type = ANY($1::text[]) AND ($2::text IS NULL OR e.stream_id > $2)"
        f" AND {_IN_SHARD % (4, 'e.stream_id', 5, 4)}"
        " GROUP BY e.stream_id HAVING max(e.version) > coalesce(max(p.version), 0)"
        " ORDER BY e.stream_id LIMIT $3",
        list(source.stream_types),
        after,
        batch,
        *_shard_args(shard),
    )
    if not heads:
        return 0, None
    rows = await conn.fetch(
        "SELECT e.stream_id, e.version, e.event_id, e.event_type, e.data, e.recorded_at, e.correlation_id,"
        " e.causation_id, e.actor FROM events e JOIN unnest($1::text[], $2::int[]) AS h(stream_id, head)"
        " ON h.stream_id = e.stream_id AND e.version <= h.head ORDER BY e.stream_id, e.version",
        [h["stream_id"] for h in heads],
        [h["head"] for h in heads],
    )
    streams: dict[str, list[StoredEvent]] = {}
    for r in rows:
        streams.setdefault(r["stream_id"], []).append(stored_event(r))
    projected = 0
    for h in heads:
        events = streams[h["stream_id"]]
        await source.replay(conn, events, h["done"])
        projected += h["head"] - h["done"]
    await conn.execute(
        f"INSERT INTO {PROGRESS} (stream_id, version) SELECT * FROM unnest($1::text[], $2::int[])"
        " ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version",
        [h["stream_id"] for h in heads],
        [h["head"] for h in heads],
    )
    return projected, heads[-1]["stream_id"]


async def _replay_consumed(
    conn: asyncpg.Connection,
    source: ConsumedEvents,
    batch: int,
    after: tuple[str, int, int] | None,
    shard: Shard | None,
) -> tuple[int, tuple[str, int, int] | None]:
    topic, partition, offset = after or ("", -1, -1)
    rows = await conn.fetch(
        "SELECT pe.event_id, pe.topic, pe.kafka_partition, pe.kafka_offset, pe.envelope FROM processed_events pe"
        f" WHERE pe.consumer_group = $1 AND NOT EXISTS (SELECT 1 FROM {PROGRESS} a WHERE a.event_id = pe.event_id)"
        " AND (pe.topic, pe.kafka_partition, pe.kafka_offset) > ($2, $3, $4)"
        f" AND {_IN_SHARD % (6, _SUBJECT, 7, 6)}"
        " ORDER BY pe.topic, pe.kafka_partition, pe.kafka_offset LIMIT $5",
        source.group,
        topic,
        partition,
        offset,
        batch,
        *_shard_args(shard),
    )
    if not rows:
        return 0, None
    for r in rows:
        if r["envelope"] is None:
            raise RebuildRefused(
                f"{source.group} applied event {r['event_id']} before consumers kept what they applied"
                " (kernel migration 003); that part of the history is not here to rebuild from"
            )
        envelope = upcast_envelope(Envelope.from_json(r["envelope"]))
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
    await conn.execute(
        f"INSERT INTO {PROGRESS} (event_id) SELECT unnest($1::text[])", [r["event_id"] for r in rows]
    )
    last = rows[-1]
    return len(rows), (last["topic"], last["kafka_partition"], last["kafka_offset"])


# -- swap --


async def swap(
    conn: asyncpg.Connection, p: Projection, *, keep_retired: bool = False, lock_timeout_s: float = 5.0
) -> int:
    """The last pending events and the exchange of the tables, in one transaction; the number of events projected
    under the lock."""
    schema, retired = _ident(p.build_schema), _ident(p.retired_schema)
    live = ", ".join(f"public.{_ident(t)}" for t in p.tables)
    async with conn.transaction():
        # Waiting longer than this behind a long transaction would stall every request queued behind the lock.
        await conn.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_s * 1000)}ms'")
        # ACCESS EXCLUSIVE at once, not EXCLUSIVE then more: a reader that then writes would deadlock an upgrade.
        await conn.execute(f"LOCK TABLE {live} IN ACCESS EXCLUSIVE MODE")
        for table in p.tables:
            await _check_same_shape(conn, schema, table)
        caught_up = await replay_pending(conn, p, batch=5000)
        await conn.execute(f"DROP SCHEMA IF EXISTS {retired} CASCADE")
        await conn.execute(f"CREATE SCHEMA {retired}")
        for table in p.tables:
            await conn.execute(f"ALTER TABLE public.{table} SET SCHEMA {retired}")
            await conn.execute(f"ALTER TABLE {schema}.{table} SET SCHEMA public")
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        if not keep_retired:
            await conn.execute(f"DROP SCHEMA {retired} CASCADE")
    return caught_up


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
    batch: int = 500,
    restart: bool = False,
    keep_retired: bool = False,
    rounds: int = 20,
    workers: int = 4,
) -> Report:
    """Prepare (or resume), replay until the history is caught up (`workers` connections at once, each a shard of
    the streams or subjects), swap. One build of a projection at a time."""
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
        helpers = [await _build_connection(dsn, p) for _ in range(workers - 1)]
        shards = [conn, *helpers]
        events = 0
        for _ in range(rounds):
            # Each round takes what arrived during the one before; the swap's locked catch-up gets what is left.
            counts = await asyncio.gather(
                *(
                    replay_pending(c, p, batch=batch, shard=Shard(i, len(shards)))
                    for i, c in enumerate(shards)
                )
            )
            events += sum(counts)
            if sum(counts) < batch:
                break
        for attempt in range(1, 6):
            try:
                events += await swap(conn, p, keep_retired=keep_retired)
                break
            except asyncpg.LockNotAvailableError:
                log.warning("rebuild_swap_waited", projection=p.name, attempt=attempt)
                events += await replay_pending(conn, p, batch=batch)
        else:
            raise RebuildRefused(f"{p.name}: the live tables stayed busy; run again (the build resumes)")
        report = Report(p.name, events, time.monotonic() - started, resumed)
        log.info("rebuild_swapped", projection=p.name, events=events, seconds=round(report.seconds, 3))
        return report
    finally:
        for c in (*helpers, conn):
            await c.close()


async def _build_connection(dsn: str, p: Projection) -> asyncpg.Connection:
    conn = await db.connect(dsn)
    # The build's copies first: the projection's own code writes them; everything else is found where it is.
    await conn.execute(f"SET search_path TO {_ident(p.build_schema)}, public")
    return conn


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
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4, help="connections replaying at once")
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
    try:
        report = await rebuild(
            args.dsn,
            projections[args.projection],
            batch=args.batch,
            restart=args.restart,
            keep_retired=args.keep_retired,
            workers=max(1, args.workers),
        )
    except RebuildRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(
        f"{report.projection}: {report.events} events in {report.seconds:.2f} s ({report.rate:.0f}/s)"
        f"{', resumed' if report.resumed else ''}; swapped in"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(_cli(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    # Through the module's own name: run as __main__, this file's classes would not be the ones the services'
    # projection modules import, and isinstance would tell every source apart wrongly.
    from btkernel.rebuild import main as _main

    raise SystemExit(_main())
