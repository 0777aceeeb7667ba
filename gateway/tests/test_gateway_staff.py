"""The staff directory the registry asks before an executive is assigned (gateway.staff): loopback only, not in
the public API, and it says who a user is — nothing about passwords."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from gateway_fakes import MemoryUsers


async def _get(app: FastAPI, path: str, client_host: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as c:
        return await c.get(path)


async def test_a_service_on_this_host_learns_role_site_and_state(app: FastAPI, users: MemoryUsers) -> None:
    username, user = next(iter(users.users.items()))
    r = await _get(app, f"/internal/v1/staff/{username}", "127.0.0.1")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "username": user.username,
        "role": user.role,
        "site": user.site,
        "active": user.active,
    }
    assert (await _get(app, "/internal/v1/staff/nobody-such", "127.0.0.1")).status_code == 404


async def test_nobody_else_reaches_it_and_the_public_api_does_not_show_it(
    app: FastAPI, users: MemoryUsers
) -> None:
    username = next(iter(users.users))
    r = await _get(app, f"/internal/v1/staff/{username}", "203.0.113.7")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert not any(path.startswith("/internal") for path in app.openapi().get("paths", {}))
