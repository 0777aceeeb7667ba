"""Kill the outbox relay (inside intake) and a consumer (registry) with SIGKILL in the middle of a burst of
applications, restart them, and show every event arrived exactly once in the projections.

Operators retry failed requests with the same Idempotency-Key, as the counter software would; the relay may
re-send what it published but had not yet marked, and the consumer may see again what it applied but had not yet
committed — the projections must still hold each application exactly once.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import httpx
import pytest

from btdeploy.e2e import Gateway, dev_user, eventually
from btdeploy.samples import birth_application
from btdeploy.stack import Stack

pytestmark = pytest.mark.e2e

BURST = 90
CONCURRENCY = 6


async def _submit_with_retries(gateway: Gateway, operator: object, key: str, body: dict) -> str:
    deadline = time.monotonic() + 180
    while True:
        try:
            r = await gateway.as_(
                operator, "POST", "/api/v1/applications", json=body, headers={"Idempotency-Key": key}
            )
            if r.status_code == 201:
                return str(r.json()["application_id"])
            assert r.status_code >= 500, r.text  # only an unavailable upstream is worth a retry
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{key} never accepted")
        await asyncio.sleep(0.3)


async def test_crashes_mid_burst_lose_nothing_and_apply_nothing_twice(stack: Stack, gateway: Gateway) -> None:
    operator = dev_user("centre_operator", "almaty-con-1")
    run = uuid.uuid4().hex[:8]
    work = [
        (f"burst-{run}-{i}", birth_application(email=f"burst-{run}-{i}@example.kz")) for i in range(BURST)
    ]
    accepted: dict[str, str] = {}
    queue: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            key, body = queue.get_nowait()
            accepted[key] = await _submit_with_retries(gateway, operator, key, body)

    workers = [asyncio.create_task(worker()) for _ in range(CONCURRENCY)]
    await eventually(lambda: _at_least(accepted, BURST // 3), what="a third of the burst")
    intake = stack.service("intake")
    intake.kill()  # the relay dies with it, mid-publication
    await asyncio.to_thread(intake.restart)
    await eventually(lambda: _at_least(accepted, 2 * BURST // 3), what="two thirds of the burst")
    registry = stack.service("registry")
    registry.kill()  # the consumer dies mid-projection
    await asyncio.to_thread(registry.restart)
    await asyncio.gather(*workers)

    ids = sorted(set(accepted.values()))
    assert len(ids) == BURST, "an Idempotency-Key produced two applications"

    registry_db = await asyncpg.connect(stack.database_url("registry"))
    intake_db = await asyncpg.connect(stack.database_url("intake"))
    fee_db = await asyncpg.connect(stack.database_url("fee"))
    try:

        async def all_cases_opened() -> bool:
            n = await registry_db.fetchval("SELECT count(*) FROM cases WHERE application_id = ANY($1)", ids)
            return bool(n == BURST)

        await eventually(all_cases_opened, timeout_s=120, what="every case opened in the registry")
        dup_cases = await registry_db.fetch(
            "SELECT application_id FROM cases WHERE application_id = ANY($1) GROUP BY 1 HAVING count(*) > 1",
            ids,
        )
        assert dup_cases == []
        opened = await registry_db.fetchval(
            "SELECT count(*) FROM events e JOIN cases c ON c.case_id = e.stream_id"
            " WHERE c.application_id = ANY($1) AND e.event_type = 'kz.civreg.case.opened.v1'",
            ids,
        )
        assert opened == BURST, "a case stream got CaseOpened twice"
        assert (
            await intake_db.fetchval("SELECT count(*) FROM applications WHERE application_id = ANY($1)", ids)
            == BURST
        )

        async def outbox_drained() -> bool:
            return bool(
                await intake_db.fetchval("SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL")
            )

        await eventually(outbox_drained, what="the intake outbox drained")

        async def fees_recorded() -> bool:
            n = await fee_db.fetchval(
                "SELECT count(DISTINCT application_id) FROM fee_decisions WHERE application_id = ANY($1)", ids
            )
            return bool(n == BURST)

        await eventually(fees_recorded, timeout_s=120, what="a fee decision for every application")
        per_app = await fee_db.fetchval(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM fee_decisions WHERE application_id = ANY($1)"
            " GROUP BY application_id) t",
            ids,
        )
        assert per_app == 1, "a fee decision was recorded twice"
    finally:
        await registry_db.close()
        await intake_db.close()
        await fee_db.close()


async def _at_least(accepted: dict[str, str], n: int) -> bool:
    return len(accepted) >= n
