"""A request that runs out of its time budget is rolled back and answered 503 with Retry-After: a caller told
"failed" never finds the work done anyway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from fastapi import APIRouter

from btkernel.service import PoolDep, create_app
from btkernel.settings import ServiceSettings
from btkernel.testing import serve

from .conftest import fresh_dsn

pytestmark = pytest.mark.integration


def _app(dsn: str, timeout_s: float) -> Any:
    router = APIRouter()

    @router.post("/slow/{delay_ms}")
    async def slow(delay_ms: int, pool: PoolDep) -> dict[str, str]:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("CREATE TABLE IF NOT EXISTS budget_probe (n int)")
            await conn.execute("INSERT INTO budget_probe VALUES (1)")
            # Stands for a handler held up by load: the row is written, the commit has not happened yet.
            await asyncio.sleep(delay_ms / 1000)
        return {"status": "done"}

    settings = ServiceSettings(
        database_url=dsn, relay_enabled=False, consumers_enabled=False, request_timeout_s=timeout_s
    )
    return create_app(settings=settings, title="t", description="t", migrations=None, routers=[router])


async def test_a_request_over_its_budget_leaves_nothing_and_says_when_to_retry(
    make_database: Callable[..., Any],
) -> None:
    dsn = await fresh_dsn(make_database)
    async with serve(lambda: _app(dsn, timeout_s=0.3)) as client:
        fast = await client.post("/slow/0")
        assert fast.status_code == 200
        late = await client.post("/slow/2000")
        assert late.status_code == 503
        assert late.headers["content-type"].startswith("application/problem+json")
        assert int(late.headers["retry-after"]) > 0
        assert late.json()["code"] == "request_timeout"
        assert late.headers["x-request-id"]
        # Only the fast request's row: the slow one was rolled back, not committed behind the caller's back.
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT count(*) FROM budget_probe") == 1
        finally:
            await conn.close()
