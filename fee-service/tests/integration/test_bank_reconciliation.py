"""Bank payments and reconciliation against real PostgreSQL (ADR 0034): the bank document stated on the receipt
becomes a bank payment when the submission is consumed, another is recorded after acceptance, a camt.053
statement confirms one and reports the other as mismatched, and the supervisor's report shows it per office and
day."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from fee_factories import envelope, submitted

from btdeploy.bank_statements import Credit, statement
from btkernel import db
from btkernel.consumer import IdempotentConsumer
from btkernel.testing import actor_headers
from civreg import topics
from fees import main
from fees.adapters.consumer import on_application_event
from fees.app import assess
from fees.settings import FeeSettings

pytestmark = pytest.mark.integration

SUBMITTED_AT = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 2)
DUE = 216_250  # marriage, 0.5 MRP × 4325 tenge
SUPERVISOR = actor_headers("supervisor1", "supervisor")
DESK = actor_headers("chancellery1", "registry_chancellery", "almaty-almaly")
XML = {"Content-Type": "application/xml"}


@pytest.fixture
async def dsn(make_database: Any) -> str:
    dsn: str = await make_database("fee")
    return dsn


@pytest.fixture
async def pool(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(dsn, max_size=4)
    await db.migrate(pool, "fees.migrations")
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def client(dsn: str, pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    app = main.build(FeeSettings(database_url=dsn, relay_enabled=False, consumers_enabled=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fee") as c,
    ):
        yield c


async def consume(pool: asyncpg.Pool, event: Any) -> None:
    consumer = IdempotentConsumer(
        pool=pool,
        kafka={"bootstrap_servers": "unused:0"},
        group_id=assess.GROUP,
        topics=[topics.APPLICATION],
        handler=on_application_event,
        service="fee",
        event_types=assess.EVENT_TYPES,
    )
    await consumer.apply_once(
        envelope(event), SimpleNamespace(topic=topics.APPLICATION, partition=0, offset=0)
    )


def marriage(bank_document: str | None) -> Any:
    event = submitted(
        service_id="marriage_registration",
        submitted_at=SUBMITTED_AT,
        centre_id="almaty-almaly",
        registry_office_id="almaty-almaly",
    )
    if bank_document is None:
        return event
    duty = {
        "amount_tiyn": DUE,
        "mrp_multiple": "0.5",
        "basis": "x",
        "payment": {
            "method": "bank",
            "reference": bank_document,
            "bank": "HSBKKZKX",
            "paid_on": DAY.isoformat(),
            "amount_tiyn": DUE,
        },
    }
    data = event.model_dump(mode="json")
    data["receipt"]["state_duty"] = duty
    return type(event).model_validate(data)


async def test_bank_payments_are_reconciled_and_reported_per_office_and_day(
    client: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    at_acceptance = marriage("PP-100")
    later = marriage(None)
    await consume(pool, at_acceptance)
    await consume(pool, later)
    r = await client.post(
        "/api/v1/duty/bank-payments",
        json={
            "application_id": later.application_id,
            "bank": "HSBKKZKX",
            "document_number": "PP-200",
            "paid_on": DAY.isoformat(),
            "amount_tiyn": DUE,
        },
        headers=DESK,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["method"], r.json()["amount_tiyn"]) == ("recorded", "bank", DUE)
    second = {
        "application_id": later.application_id,
        "bank": "HSBKKZKX",
        "document_number": "PP-201",
        "paid_on": DAY.isoformat(),
        "amount_tiyn": DUE,
    }
    assert (await client.post("/api/v1/duty/bank-payments", json=second, headers=DESK)).status_code == 409

    xml = statement(
        "KZ-ST-2026-03-02",
        [Credit(DUE, DAY, "PP-100"), Credit(DUE - 100, DAY, "PP-200"), Credit(50_000, DAY, "PP-999")],
    )
    r = await client.post("/api/v1/duty/statements", content=xml, headers={**SUPERVISOR, **XML})
    assert r.status_code == 200, r.text
    assert (r.json()["matched"], r.json()["mismatched"], r.json()["unmatched"]) == (1, 1, 1)
    replay = await client.post("/api/v1/duty/statements", content=xml, headers={**SUPERVISOR, **XML})
    assert replay.json()["replayed"] is True
    assert replay.json()["matched"] == 1

    paid = await pool.fetchrow("SELECT status, reconciled FROM duty_payments WHERE reference = 'PP-100'")
    assert (paid["status"], paid["reconciled"]) == ("paid", "matched")
    types = [r["t"] for r in await pool.fetch("SELECT envelope->>'type' AS t FROM outbox ORDER BY id")]
    assert types.count("kz.civreg.fee.payment-confirmed.v1") == 1
    assert types.count("kz.civreg.fee.payment-recorded.v1") == 2

    r = await client.get(
        "/api/v1/duty/reconciliation", params={"from": "2026-03-01", "to": "2026-03-31"}, headers=SUPERVISOR
    )
    assert r.status_code == 200, r.text
    days = {(d["registry_office_id"], d["day"]): d for d in r.json()["days"]}
    office = days[("almaty-almaly", "2026-03-02")]
    assert office["matched"] == 1
    [mismatch] = office["mismatched"]
    assert (mismatch["reference"], mismatch["amount_tiyn"]) == ("PP-200", DUE - 100)
    [unknown] = days[(None, "2026-03-02")]["unmatched_entries"]
    assert (unknown["reference"], unknown["amount_tiyn"]) == ("PP-999", 50_000)


async def test_statement_and_report_problems_name_the_field(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/duty/statements", content=b"{}", headers={**SUPERVISOR, "Content-Type": "application/json"}
    )
    assert (r.status_code, r.json()["errors"][0]["path"]) == (422, "header.Content-Type")
    bad = statement("ST-X", [Credit(100, DAY, "PP-1")]).replace(b'Ccy="KZT">1.00', b'Ccy="KZT">1.005')
    r = await client.post("/api/v1/duty/statements", content=bad, headers={**SUPERVISOR, **XML})
    assert (r.status_code, r.json()["errors"][0]["path"]) == (422, "body.Stmt[1]/Ntry[1]/Amt")
    r = await client.post("/api/v1/duty/statements", content=b"<x>", headers={**DESK, **XML})
    assert r.status_code == 403
    r = await client.get(
        "/api/v1/duty/reconciliation", params={"from": "2026-03-02", "to": "2026-03-01"}, headers=SUPERVISOR
    )
    assert (r.status_code, r.json()["errors"][0]["path"]) == (422, "query.to")
