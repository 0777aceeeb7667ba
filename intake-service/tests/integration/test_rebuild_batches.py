"""Intake's `known_records` rebuilt in batches (ADR 0027, "Batches") equals, row for row, the replay through the
consumer's own handler one event at a time, for a mixed history of registrations and annulments kept by the
consumer; also when the build crashed mid-pass and resumed after more events were kept, and on two processes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from btdeploy.bench_rebuild_scale import kept_rows, record_history, write_kept
from btkernel import db, rebuild
from btkernel.events.base import Event
from intake.projections import PROJECTIONS, learn_many

pytestmark = pytest.mark.integration

KNOWN = next(p for p in PROJECTIONS if p.name == "known_records")
assert isinstance(KNOWN.source, rebuild.ConsumedEvents)
ONE_BY_ONE = dataclasses.replace(KNOWN, source=dataclasses.replace(KNOWN.source, apply_many=None))


class Crash(RuntimeError):
    pass


calls = 0


async def crashing_learn(conn: asyncpg.Connection, events: Iterator[Event]) -> None:
    """The batch entry point, dying in its third batch (the build's process killed mid-pass)."""
    global calls
    calls += 1
    if calls == 3:
        raise Crash("killed mid-pass")
    await learn_many(conn, events)


CRASHING = dataclasses.replace(KNOWN, source=dataclasses.replace(KNOWN.source, apply_many=crashing_learn))


async def _rows(dsn: str, table: str = "known_records") -> dict[str, dict[str, Any]]:
    conn = await db.connect(dsn)
    try:
        return {r["record_id"]: dict(r) for r in await conn.fetch(f"SELECT * FROM {table}")}
    finally:
        await conn.close()


async def _intake_database(make_database: Any, name: str) -> str:
    """A database of its own with intake's migrations applied."""
    dsn: str = await make_database(name)
    conn = await db.connect(dsn)
    try:
        await db.migrate(conn, "intake.migrations")
    finally:
        await conn.close()
    return dsn


async def test_batches_write_the_rows_of_the_handler_one_by_one_also_after_a_crash(
    make_database: Any,
) -> None:
    dsn = await _intake_database(make_database, "known")
    kept = kept_rows(record_history(900, seed=11))
    first, later = kept[:600], kept[600:]
    await write_kept(dsn, first)

    with pytest.raises(Crash):
        await rebuild.rebuild(dsn, CRASHING, batch=50, workers=1)
    half_built = await _rows(dsn, "bt_rebuild_known_records.known_records")
    assert 0 < len(half_built) < 600
    await write_kept(dsn, later)

    report = await rebuild.rebuild(dsn, KNOWN, batch=50, processes=2)
    assert report.resumed
    batched = await _rows(dsn)
    statuses = {r["status"] for r in batched.values()}
    assert statuses == {"active", "annulled"}
    await rebuild.rebuild(dsn, ONE_BY_ONE, batch=50)
    assert await _rows(dsn) == batched


async def test_events_kept_during_the_first_pass_are_caught_up_in_batches_as_one_by_one(
    make_database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catch-up rounds read kept envelopes as text (the first pass reads bytes): the batch entry point still
    gets each event as the handler one by one makes it."""
    dsn = await _intake_database(make_database, "known_caught_up")
    kept = kept_rows(record_history(600, seed=5))
    first, later = kept[:350], kept[350:]
    await write_kept(dsn, first)
    bulk = rebuild.bulk_replay
    written: list[bool] = []

    async def then_more(*args: Any, **kwargs: Any) -> int:
        projected = await bulk(*args, **kwargs)
        if not written:  # once, by the first shard done: after every shard's snapshot
            written.append(True)
            await write_kept(dsn, later)
        return projected

    caught_up: list[int] = []
    rounds = rebuild._replay_consumed

    async def counted(*args: Any, **kwargs: Any) -> tuple[int, Any]:
        n, after = await rounds(*args, **kwargs)
        caught_up.append(n)
        return n, after

    monkeypatch.setattr(rebuild, "bulk_replay", then_more)
    monkeypatch.setattr(rebuild, "_replay_consumed", counted)
    report = await rebuild.rebuild(dsn, KNOWN, batch=50, workers=2)
    assert report.events == len(kept)
    assert sum(caught_up) == len(later)  # by the rounds, not the first pass
    batched = await _rows(dsn)
    assert {r["status"] for r in batched.values()} == {"active", "annulled"}
    monkeypatch.undo()
    await rebuild.rebuild(dsn, ONE_BY_ONE, batch=50)
    assert await _rows(dsn) == batched
