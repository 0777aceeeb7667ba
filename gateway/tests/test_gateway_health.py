"""GET /health: the gateway's database and every upstream service."""

from __future__ import annotations

import httpx
from gateway_fakes import FakeUpstreams, MemoryUsers


async def test_all_ok_is_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok"}
    assert set(body["upstreams"]) == {"intake", "registry", "notification", "fee"}
    assert all(u["status"] == "ok" for u in body["upstreams"].values())


async def test_a_service_down_or_unready_is_503_with_details(
    client: httpx.AsyncClient, upstreams: FakeUpstreams
) -> None:
    upstreams.down.add("fee")
    upstreams.unhealthy.add("notification")

    response = await client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["upstreams"]["fee"]["status"] == "down"
    assert "ConnectError" in body["upstreams"]["fee"]["error"]
    assert body["upstreams"]["notification"] == {
        "status": "unavailable",
        "http_status": 503,
        "checks": {"database": "down"},
    }
    assert body["upstreams"]["intake"]["status"] == "ok"


async def test_own_database_down_is_503(client: httpx.AsyncClient, users: MemoryUsers) -> None:
    users.down = True

    response = await client.get("/health")

    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("down")
