"""The registry's `records` rebuilt in batches (ADR 0027, "Batches") equals, row for row, the replay that writes
each event's row by itself through `RecordViews` — the path the commands take — for a mixed history of births,
other acts, amendments and annulments; also when the build crashed mid-pass and resumed after more events were
appended to streams it had projected (those streams are folded again across batches), and on two processes."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import asyncpg
import pytest

from btdeploy.bench_rebuild_scale import record_history, write_streams
from btkernel import db, rebuild
from btkernel.eventstore import StoredEvent
from registry.projections import PROJECTIONS, replay_record, replay_records

pytestmark = pytest.mark.integration

RECORDS = next(p for p in PROJECTIONS if p.name == "records")
ONE_BY_ONE = dataclasses.replace(RECORDS, source=rebuild.OwnStreams(("record",), replay_record))


class Crash(RuntimeError):
    pass


calls = 0


async def crashing_replay(
    conn: asyncpg.Connection, streams: Sequence[tuple[Sequence[StoredEvent], int]]
) -> None:
    """The batch entry point, dying in its third batch (the build's process killed mid-pass)."""
    global calls
    calls += 1
    if calls == 3:
        raise Crash("killed mid-pass")
    await replay_records(conn, streams)


CRASHING = dataclasses.replace(
    RECORDS, source=rebuild.OwnStreams(("record",), replay_record, crashing_replay)
)


async def _rows(dsn: str, table: str = "records") -> dict[str, dict[str, Any]]:
    conn = await db.connect(dsn)
    try:
        return {r["record_id"]: dict(r) for r in await conn.fetch(f"SELECT * FROM {table}")}
    finally:
        await conn.close()


async def test_batches_write_the_rows_of_the_one_by_one_replay_also_after_a_crash(make_database: Any) -> None:
    dsn = await make_database("records")
    conn = await db.connect(dsn)
    try:
        await db.migrate(conn, "registry.migrations")
    finally:
        await conn.close()
    history = record_history(600, seed=5)
    first, later = history[:450], history[450:]
    earlier_streams = {e.stream_id for e in first}
    # Changes to records of the first part: their streams are folded again in a later batch, from version 1.
    assert any(e.stream_id in earlier_streams for e in later)
    assert {e.type.split(".")[-2] for e in history} == {
        "birth-registered",
        "registered",
        "amended",
        "annulled",
    }
    await write_streams(dsn, first)

    with pytest.raises(Crash):
        await rebuild.rebuild(dsn, CRASHING, batch=40, workers=1)
    half_built = await _rows(dsn, "bt_rebuild_records.records")
    assert 0 < len(half_built) < len(earlier_streams)
    assert await _rows(dsn) == {}  # the live table untouched meanwhile
    await write_streams(dsn, later)

    report = await rebuild.rebuild(dsn, RECORDS, batch=40, processes=2)
    assert report.resumed
    batched = await _rows(dsn)
    assert len(batched) == len({e.stream_id for e in history})
    assert any(r["status"] == "annulled" for r in batched.values())
    assert any("current" in r["content"] and r["status"] == "active" for r in batched.values())

    await rebuild.rebuild(dsn, ONE_BY_ONE, batch=40)
    assert await _rows(dsn) == batched
