"""The monthly sweep on real PostgreSQL with a controlled clock: a result waiting at the centre goes back to the
registry office after one month (S004 p.9), not before, and only once."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import httpx
import pytest

from btdeploy.samples import birth_application
from btkernel import db
from btkernel.context import new_context
from btkernel.envelope import Envelope
from btkernel.testing import actor_headers
from civreg.events.case import ResultSentToCentre
from intake.adapters.unit_of_work import PgIntakeUnitOfWork
from intake.api.subscriptions import on_result_sent
from intake.app.storage_sweep import sweep

pytestmark = pytest.mark.integration

OPERATOR = actor_headers("operator1", "centre_operator", "almaty-con-1", "Оператор")


async def _ready_for_pickup(client: httpx.AsyncClient, pool: asyncpg.Pool) -> str:
    r = await client.post("/api/v1/applications", json=birth_application(), headers=OPERATOR)
    application_id = r.json()["application_id"]
    sent = ResultSentToCentre(
        case_id=f"case-{application_id}",
        application_id=application_id,
        centre_id="almaty-con-1",
        outcome="registered",
        record_number="N-1",
        sent_at=dt.datetime.now(dt.UTC),
        sent_by="chancellery1",
    )
    env = Envelope.new(
        type=sent.TYPE,
        source="/registry",
        subject=sent.case_id,
        data=sent.to_data(),
        correlation_id="c",
        causation_id=None,
    )
    async with pool.acquire() as conn, conn.transaction():
        await on_result_sent(conn, env, new_context())
    return str(application_id)


async def test_uncollected_results_go_back_after_a_month_once(intake: tuple[httpx.AsyncClient, str]) -> None:
    client, dsn = intake
    pool = await db.create_pool(dsn, max_size=6)

    def uows() -> PgIntakeUnitOfWork:
        return PgIntakeUnitOfWork(pool)

    try:
        ids = [await _ready_for_pickup(client, pool) for _ in range(3)]
        now = dt.datetime.now(dt.UTC)
        assert await sweep(uows, now + dt.timedelta(days=20)) == 0
        # Two instances sweeping at the same moment return each result once.
        results = await asyncio.gather(
            sweep(uows, now + dt.timedelta(days=32)), sweep(uows, now + dt.timedelta(days=32))
        )
        assert sum(results) == 3
        for application_id in ids:
            status = await client.get(f"/api/v1/applications/{application_id}", headers=OPERATOR)
            assert status.json()["status"] == "returned_to_registry"
        assert await sweep(uows, now + dt.timedelta(days=40)) == 0
        returned = await pool.fetchval(
            "SELECT count(*) FROM events WHERE event_type = 'kz.civreg.application.result-returned-to-registry.v1'"
        )
        assert returned == 3
    finally:
        await pool.close()
