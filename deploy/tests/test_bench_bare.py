"""The bare baselines of `make bench` P1 (btdeploy.bench_bare) against a real PostgreSQL: the endpoint stores one
row per accepted birth application, the proxy in front of it passes bodies and answers through, and a malformed
body is refused by the model as the platform would. No timing."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest

from btdeploy.bench_bare import ROUTE, TABLE, BareProcesses
from btdeploy.samples import birth_application
from btdeploy.testing import DatabaseFactory

pytestmark = pytest.mark.integration


async def test_the_bare_endpoint_stores_what_it_accepts_directly_and_through_the_proxy(
    make_database: DatabaseFactory, bt_workdir: Path
) -> None:
    dsn = await make_database("bench_bare")
    with BareProcesses(bt_workdir / "bench-bare-test", dsn) as bare:
        async with httpx.AsyncClient(timeout=30.0) as http:
            direct = await http.post(bare.endpoint.url + ROUTE, json=birth_application())
            proxied = await http.post(bare.proxy.url + ROUTE, json=birth_application())
            wrong = birth_application()
            del wrong["details"]["child"]["sex"]
            refused = await http.post(bare.proxy.url + ROUTE, json=wrong)
    assert direct.status_code == proxied.status_code == 201, (direct.text, proxied.text)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "details", "child", "sex"]
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(f"SELECT application_id::text AS id, body FROM {TABLE}")
    finally:
        await conn.close()
    assert sorted(r["id"] for r in rows) == sorted(
        [direct.json()["application_id"], proxied.json()["application_id"]]
    )
    assert all('"service_id": "birth_registration"' in r["body"] for r in rows)
