"""Payments of the state duty through the e-government payment gateway (ADR 0034), against real PostgreSQL and the
gateway's stand-in as its own process: a created payment, the signed callback that confirms it, a duplicate and a
late callback that change nothing, a forged one refused, a lost callback resolved by a status query or by itself
(the background sweep, on a moved clock), and a gateway outage that is 503 with nothing written."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from btdeploy.e2e import eventually
from btdeploy.payment_gateway_standin import StandinProcess
from btdeploy.ports import free_port
from btkernel import db
from btkernel.testing import actor_headers
from fees import main
from fees.adapters.payments import PgPendingPayments
from fees.settings import FeeSettings

pytestmark = pytest.mark.integration

DESK = actor_headers("chancellery1", "registry_chancellery", "almaty-almaly")
MARRIAGE = {"service_id": "marriage_registration"}
# A payment still `created` this long after it was made is asked about at the gateway (BT_PAYMENT_STATUS_AFTER_S).
STATUS_AFTER = dt.timedelta(minutes=10)


@pytest.fixture
async def dsn(make_database: Any) -> str:
    dsn: str = await make_database("fee")
    return dsn


@pytest.fixture
def key() -> str:
    return secrets.token_hex(32)


@pytest.fixture
def standin(bt_workdir: Path, key: str) -> Iterator[StandinProcess]:
    process = StandinProcess(bt_workdir / f"pg-standin-{secrets.token_hex(4)}", key.encode())
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def fee(dsn: str, standin: StandinProcess, key: str) -> AsyncIterator[httpx.AsyncClient]:
    """The fee service on a free port of this process (the stand-in's callbacks must reach it over HTTP)."""
    port = free_port()
    settings = FeeSettings(
        database_url=dsn,
        relay_enabled=False,
        consumers_enabled=False,
        payment_gateway_url=standin.url,
        payment_gateway_secret=key,
        payment_callback_url=f"http://127.0.0.1:{port}/payment-gateway/callback",
        payment_status_after_s=STATUS_AFTER.total_seconds(),
        # The sweep looks often; what it finds due depends only on the (moved) clock.
        payment_status_interval_s=0.2,
    )
    server = uvicorn.Server(
        uvicorn.Config(main.build(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
        if task.done():
            task.result()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            yield client
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def pool(dsn: str, fee: httpx.AsyncClient) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(dsn, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


async def script(standin: StandinProcess, action: str, body: dict[str, Any]) -> dict[str, Any]:
    # In a thread: the stand-in calls back into the fee service, which is served by this very event loop.
    return await asyncio.to_thread(standin.script, action, body)


async def create(fee: httpx.AsyncClient, key: str | None = None) -> dict[str, Any]:
    headers = {**DESK, **({"Idempotency-Key": key} if key else {})}
    r = await fee.post("/api/v1/duty/payments", json=MARRIAGE, headers=headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def events_of(pool: asyncpg.Pool, payment_id: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT envelope->>'type' AS type FROM outbox WHERE envelope->>'subject' = $1 ORDER BY id", payment_id
    )
    return [r["type"] for r in rows]


async def test_a_payment_confirmed_by_its_signed_callback_once(
    fee: httpx.AsyncClient, standin: StandinProcess, pool: asyncpg.Pool
) -> None:
    created = await create(fee)
    assert created["status"] == "created"
    assert created["amount_tiyn"] > 0
    assert isinstance(created["amount_tiyn"], int)
    assert created["payment_url"].startswith(standin.url)
    pid = created["payment_id"]

    paid = await script(standin, "pay", {"order_id": pid, "outcome": "paid"})
    assert paid["callback_status"] == 200
    r = await fee.get(f"/api/v1/duty/payments/{pid}", headers=DESK)
    assert (r.json()["status"], r.json()["amount_tiyn"]) == ("paid", created["amount_tiyn"])
    assert r.json()["paid_at"] is not None

    again = await script(standin, "redeliver", {"order_id": pid})
    late = await script(standin, "late", {"order_id": pid, "status": "failed"})
    assert (again["callback_status"], late["callback_status"]) == (200, 200)
    r = await fee.get(f"/api/v1/duty/payments/{pid}", headers=DESK)
    assert r.json()["status"] == "paid"
    outcomes = [
        row["outcome"] for row in await pool.fetch("SELECT outcome FROM payment_notices ORDER BY received_at")
    ]
    assert outcomes == ["applied", "late"]  # the duplicate notice id is kept once
    assert await events_of(pool, pid) == [
        "kz.civreg.fee.payment-recorded.v1",
        "kz.civreg.fee.payment-confirmed.v1",
    ]


async def test_a_forged_callback_is_refused_and_changes_nothing(
    fee: httpx.AsyncClient, standin: StandinProcess, pool: asyncpg.Pool
) -> None:
    pid = (await create(fee))["payment_id"]
    forged = await script(standin, "forge", {"order_id": pid})
    assert forged["callback_status"] == 401
    r = await fee.post("/payment-gateway/callback", content=b'{"order_id": "x"}')
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await fee.get(f"/api/v1/duty/payments/{pid}", headers=DESK)).json()["status"] == "created"
    assert await pool.fetchval("SELECT count(*) FROM payment_notices") == 0


async def test_a_lost_callback_is_resolved_by_a_status_query(
    fee: httpx.AsyncClient, standin: StandinProcess
) -> None:
    pid = (await create(fee))["payment_id"]
    lost = await script(standin, "pay", {"order_id": pid, "outcome": "paid", "deliver": False})
    assert lost["callback_status"] is None
    assert (await fee.get(f"/api/v1/duty/payments/{pid}", headers=DESK)).json()["status"] == "created"
    r = await fee.post(f"/api/v1/duty/payments/{pid}/status-query", headers=DESK)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "paid"
    # The callback that arrives after the query is a duplicate of what the query already applied.
    late = await script(standin, "redeliver", {"order_id": pid})
    assert late["callback_status"] == 200
    assert (await fee.get(f"/api/v1/duty/payments/{pid}", headers=DESK)).json()["status"] == "paid"


async def test_a_callback_for_another_amount_does_not_pay(
    fee: httpx.AsyncClient, standin: StandinProcess
) -> None:
    created = await create(fee)
    await script(standin, "pay", {"order_id": created["payment_id"], "outcome": "paid", "amount_tiyn": 100})
    r = await fee.get(f"/api/v1/duty/payments/{created['payment_id']}", headers=DESK)
    assert r.json()["status"] == "created"


async def test_a_gateway_outage_is_503_with_nothing_written_and_the_key_makes_one_payment(
    fee: httpx.AsyncClient, standin: StandinProcess, pool: asyncpg.Pool
) -> None:
    await script(standin, "fail", {"count": 1})
    r = await fee.post("/api/v1/duty/payments", json=MARRIAGE, headers={**DESK, "Idempotency-Key": "k-1"})
    assert r.status_code == 503
    assert r.headers["Retry-After"]
    assert await pool.fetchval("SELECT count(*) FROM duty_payments") == 0
    first = await create(fee, "k-1")
    second = await create(fee, "k-1")
    assert first["payment_id"] == second["payment_id"]
    assert await pool.fetchval("SELECT count(*) FROM duty_payments") == 1
    assert len(standin.payments()) == 1


async def test_nothing_to_pay_and_bad_input_name_the_field(fee: httpx.AsyncClient) -> None:
    r = await fee.post("/api/v1/duty/payments", json={"service_id": "birth_registration"}, headers=DESK)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "body.service_id"
    r = await fee.post("/api/v1/duty/payments", json={**MARRIAGE, "variant": "no_such_case"}, headers=DESK)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "body.variant"
    r = await fee.get("/api/v1/duty/payments/not-a-payment", headers=DESK)
    assert r.status_code == 404


async def test_a_lost_callback_resolves_itself_once_the_payment_has_waited_long_enough(
    fee: httpx.AsyncClient,
    standin: StandinProcess,
    pool: asyncpg.Pool,
    clock_at: Callable[[dt.datetime], None],
) -> None:
    created = await create(fee)
    pid = created["payment_id"]
    lost = await script(standin, "pay", {"order_id": pid, "outcome": "paid", "deliver": False})
    assert lost["callback_status"] is None
    assert (await fee.get(f"/api/v1/duty/payments/{pid}", headers=DESK)).json()["status"] == "created"

    # Nobody asks: the fee service's own sweep does, once the payment is overdue on its clock.
    clock_at(dt.datetime.fromisoformat(created["created_at"]) + STATUS_AFTER + dt.timedelta(seconds=1))

    async def paid() -> dict[str, Any] | None:
        r = await fee.get(f"/api/v1/duty/payments/{pid}", headers=DESK)
        return r.json() if r.json()["status"] == "paid" else None

    done = await eventually(paid, what="the lost callback resolved by the status sweep")
    assert done["amount_tiyn"] == created["amount_tiyn"]
    notices = await pool.fetch(
        "SELECT notice_id, outcome FROM payment_notices WHERE payment_id = $1::uuid", pid
    )
    assert [(n["notice_id"], n["outcome"]) for n in notices] == [(f"status:{pid}:paid", "applied")]
    # The callback that finally arrives is a duplicate; the payment was confirmed exactly once.
    late = await script(standin, "redeliver", {"order_id": pid})
    assert late["callback_status"] == 200
    assert await events_of(pool, pid) == [
        "kz.civreg.fee.payment-recorded.v1",
        "kz.civreg.fee.payment-confirmed.v1",
    ]


async def test_the_sweep_asks_with_growing_pauses_gives_up_and_never_twice_at_once(
    fee: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    pid = (await create(fee))["payment_id"]
    made = await pool.fetchval("SELECT created_at FROM duty_payments WHERE payment_id = $1::uuid", pid)

    def sweeper() -> PgPendingPayments:
        return PgPendingPayments(
            pool,
            first_after=STATUS_AFTER,
            max_pause=dt.timedelta(minutes=30),
            give_up=dt.timedelta(days=1),
            batch=10,
        )

    async def due(at: dt.datetime) -> list[str]:
        return [p for p in await sweeper().claim_due(at) if p == pid]

    first = made + STATUS_AFTER
    assert await due(first - dt.timedelta(seconds=1)) == []
    # Two instances at the same moment: one of them takes it (FOR UPDATE SKIP LOCKED, scheduled in the claim).
    both = await asyncio.gather(sweeper().claim_due(first), sweeper().claim_due(first))
    assert sorted(p for claimed in both for p in claimed if p == pid) == [pid]
    # Then 20 minutes (twice the first wait), then the 30-minute cap.
    assert await due(first + dt.timedelta(minutes=20) - dt.timedelta(seconds=1)) == []
    second = first + dt.timedelta(minutes=20)
    assert await due(second) == [pid]
    assert await due(second + dt.timedelta(minutes=30) - dt.timedelta(seconds=1)) == []
    assert await due(second + dt.timedelta(minutes=30)) == [pid]
    # A day after it was made, nobody asks any more (the manual status query remains).
    assert await due(made + dt.timedelta(days=1, hours=1)) == []
    checks = await pool.fetchval("SELECT status_checks FROM duty_payments WHERE payment_id = $1::uuid", pid)
    assert checks == 3
