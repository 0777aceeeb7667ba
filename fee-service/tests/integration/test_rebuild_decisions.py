"""The fee decisions (`fee_decisions`) rebuilt from the decisions' own streams (ADR 0027, issue 10) equal, row for
row, what the consumer decided — an exempt application, one with the duty due, one paid at a bank, a decision
recorded before the streams existed (its stream back-filled by migration 006) — and nothing is decided or announced
again: the tariff is never asked, the outbox and the history keep their counts, the hash chain still verifies."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.resources
import uuid
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from fee_factories import envelope, submitted

from btkernel import db, rebuild
from btkernel.consumer import IdempotentConsumer
from btkernel.envelope import Envelope
from btkernel.history import backfill, verify
from civreg import duty, topics
from civreg.events.application import ApplicationSubmitted
from fees.adapters import store
from fees.adapters.consumer import on_application_event
from fees.app import assess
from fees.domain.decision import ASSESSED, STREAM_TYPE, decision_id
from fees.projections import PROJECTIONS

pytestmark = pytest.mark.integration

DECISIONS = next(p for p in PROJECTIONS if p.name == "decisions")
AT = dt.datetime(2026, 3, 2, 5, 30, tzinfo=dt.UTC)


@pytest.fixture
async def dsn(make_database: Any, clock_at: Callable[[dt.datetime], None]) -> str:
    clock_at(AT)
    dsn: str = await make_database("feerebuild")
    return dsn


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(dsn, max_size=6)
    await db.migrate(pool, "fees.migrations")
    try:
        yield pool
    finally:
        await pool.close()


async def _consume(pool: asyncpg.Pool, env: Envelope, offset: int = 0) -> None:
    """The kernel's consumer without Kafka: the live transaction, processed_events row and handler."""
    consumer = IdempotentConsumer(
        pool=pool,
        kafka={"bootstrap_servers": "unused:0"},
        group_id=assess.GROUP,
        topics=[topics.APPLICATION],
        handler=on_application_event,
        service="fee",
        event_types=assess.EVENT_TYPES,
    )
    outcome = await consumer.apply_once(
        env, SimpleNamespace(topic=topics.APPLICATION, partition=0, offset=offset)
    )
    assert outcome == "applied"


def _kinds() -> list[ApplicationSubmitted]:
    birth = {"record_id": "ab-2020-0001", "document": "repeat_certificate", "record_kind": "birth"}
    return [
        submitted(service_id="repeat_certificates", exemption="disability", details=birth, submitted_at=AT),
        submitted(service_id="marriage_registration", submitted_at=AT),
        submitted(service_id="birth_registration", submitted_at=AT),
        _paid_at_a_bank(),
    ]


def _paid_at_a_bank() -> ApplicationSubmitted:
    event = submitted(service_id="marriage_registration", submitted_at=AT)
    data = event.to_data()
    data["receipt"]["state_duty"] = {
        "amount_tiyn": 216_250,
        "mrp_multiple": "0.5",
        "basis": "x",
        "payment": {"method": "bank", "reference": f"PD-{uuid.uuid4().hex[:8]}", "bank": "HSBKKZKX"},
    }
    return ApplicationSubmitted.model_validate(data)


async def _rows(pool: asyncpg.Pool, table: str = "fee_decisions") -> dict[str, dict[str, Any]]:
    return {str(r["decision_id"]): dict(r) for r in await pool.fetch(f"SELECT * FROM {table}")}


async def _counts(pool: asyncpg.Pool) -> tuple[int, int, int]:
    return (
        await pool.fetchval("SELECT count(*) FROM outbox"),
        await pool.fetchval("SELECT count(*) FROM events"),
        await pool.fetchval("SELECT count(*) FROM duty_payments"),
    )


async def _legacy_decision(pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> str:
    """A decision as the code before the streams recorded it (its row and outbox row, no events); then migration
    006 run again (it is idempotent) and the chain's back-fill, as `btkernel.migrate` does on an upgrade."""

    async def before_streams(*args: Any, **kwargs: Any) -> None:
        return None

    with monkeypatch.context() as m:
        m.setattr(store.eventstore, "keep", before_streams)
        event = submitted(service_id="marriage_registration", submitted_at=AT)
        await _consume(pool, envelope(event))
    did = decision_id(event.application_id, ASSESSED)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
        await conn.execute("UPDATE fee_decisions SET created_at = created_at - interval '90 days'")
        sql = importlib.resources.files("fees.migrations").joinpath("006_decision_history.sql").read_text()
        await conn.execute(sql)
        assert await backfill.backfill(conn) == 2
    return did


async def test_decisions_rebuilt_from_their_streams_equal_the_live_ones(
    pool: asyncpg.Pool, dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy = await _legacy_decision(pool, monkeypatch)
    for n, event in enumerate(_kinds(), start=1):
        await _consume(pool, envelope(event), offset=n)
    live = await _rows(pool)
    assert len(live) == 5
    kinds = {(r["payable"], r["exemption"], r["amount_tiyn"]) for r in live.values()}
    assert (False, "disability", 0) in kinds
    assert (True, None, 216_250) in kinds
    assert await pool.fetchval("SELECT count(*) FROM duty_payments") == 1
    # Each stream: the FeeAssessed as queued (same id, same payload), then the facts, which are never queued.
    for did, row in live.items():
        first, second = await pool.fetch(
            "SELECT event_id, event_type, data FROM events WHERE stream_id = $1 ORDER BY version", did
        )
        assert first["event_id"] == row["event_id"]
        assert second["event_type"] == "bt.fee.decision-facts.v1"
        queued = await pool.fetchval("SELECT envelope FROM outbox WHERE event_id = $1", row["event_id"])
        assert queued["data"] == first["data"]
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE event_id = $1", second["event_id"]) == 0
    before = await _counts(pool)

    # A tariff corrected since changes nothing: the rebuild never decides.
    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a rebuild decided a fee again")

    monkeypatch.setattr(duty, "quote_edition", never)
    report = await rebuild.rebuild(dsn, DECISIONS, batch=2)
    assert report.events == 10
    rebuilt = await _rows(pool)
    assert rebuilt == live
    assert rebuilt[legacy]["created_at"] < AT
    assert await _counts(pool) == before
    async with pool.acquire() as conn:
        found = await verify.verify(conn)
    assert found.ok, found.findings


async def test_a_rebuild_while_decisions_are_made_loses_none_and_doubles_none(
    pool: asyncpg.Pool, dsn: str
) -> None:
    await asyncio.gather(*(_consume(pool, envelope(submitted(submitted_at=AT)), n) for n in range(20)))
    stop = asyncio.Event()
    made = 0

    async def decide() -> None:
        nonlocal made
        while not stop.is_set():
            kind = "marriage_registration" if made % 2 else "birth_registration"
            await _consume(pool, envelope(submitted(service_id=kind, submitted_at=AT)), 100 + made)
            made += 1
            await asyncio.sleep(0)

    writers = [asyncio.create_task(decide()) for _ in range(2)]
    try:
        for _ in range(2):
            await rebuild.rebuild(dsn, DECISIONS, batch=3, workers=2)
    finally:
        stop.set()
        await asyncio.gather(*writers)
    rows = await _rows(pool)
    streams = await pool.fetchval(
        "SELECT count(DISTINCT stream_id) FROM events WHERE stream_type = $1", STREAM_TYPE
    )
    assert len(rows) == streams == 20 + made
    assert made > 0
    await rebuild.rebuild(dsn, DECISIONS)
    assert await _rows(pool) == rows
