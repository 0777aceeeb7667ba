"""Sign-out ends the session on the server: the signed-out token is refused by every gateway instance (at once by
the one that answered, by the others within the account cache's lifetime), and signing in again works."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from gateway_fakes import SECRET, FakeUpstreams, MemoryUsers, make_settings

from btkernel import db
from btkernel.testing import serve
from gateway import admin
from gateway.main import build_app
from gateway.users import AccountCache

LOGOUT = "/api/v1/auth/logout"


async def _sign_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": f"{username}-pass"}
    )
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_a_signed_out_token_is_refused_and_a_new_sign_in_works(client: httpx.AsyncClient) -> None:
    old = await _sign_in(client, "operator1")
    assert (await client.get("/api/v1/auth/me", headers=old)).status_code == 200

    out = await client.post(LOGOUT, headers=old)
    me_after = await client.get("/api/v1/auth/me", headers=old)
    proxied_after = await client.get("/api/v1/applications", headers=old)
    again = await client.post(LOGOUT, headers=old)
    new = await _sign_in(client, "operator1")

    assert out.status_code == 204
    assert me_after.status_code == 401
    assert me_after.json()["detail"] == "this access token was signed out; sign in again"
    assert proxied_after.status_code == 401
    assert again.status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=new)).status_code == 200


async def test_sign_out_needs_a_token_and_ends_only_that_accounts_sessions(client: httpx.AsyncClient) -> None:
    mine = await _sign_in(client, "operator1")
    theirs = await _sign_in(client, "operator2")

    anonymous = await client.post(LOGOUT)
    await client.post(LOGOUT, headers=mine)

    assert anonymous.status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=theirs)).status_code == 200


async def test_another_instance_refuses_the_token_once_its_cache_runs_out(
    app: FastAPI, users: MemoryUsers, upstreams: FakeUpstreams
) -> None:
    # A second gateway instance on the same accounts, its account cache on a clock the test moves.
    now = [0.0]
    other = build_app(make_settings())
    other.state.gateway.attach(users, upstreams.transport())
    other.state.gateway.accounts = AccountCache(2.0, clock=lambda: now[0])
    here = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test")
    there = httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://gateway.test")
    async with here, there:
        token = await _sign_in(here, "head1")
        assert (await there.get("/api/v1/auth/me", headers=token)).status_code == 200

        assert (await here.post(LOGOUT, headers=token)).status_code == 204
        now[0] = 1.9
        cached = await there.get("/api/v1/auth/me", headers=token)
        cached_relay = await there.get("/api/v1/worklist", headers=token)
        now[0] = 2.0
        # The token itself is still remembered as verified there (gateway.tokens.VerifiedTokens); the account's
        # epoch, read again, ends it on the relayed path as on /me.
        expired = await there.get("/api/v1/auth/me", headers=token)
        expired_relay = await there.get("/api/v1/worklist", headers=token)
    await other.state.gateway.detach()

    assert cached.status_code == cached_relay.status_code == 200
    assert expired.status_code == expired_relay.status_code == 401
    assert expired_relay.json()["detail"] == "this access token was signed out; sign in again"


@pytest.mark.integration
async def test_sign_out_on_postgresql(make_database: Any) -> None:
    dsn = await make_database("gateway")
    settings = make_settings(database_url=dsn, env="production", jwt_secret=SECRET + "-prod")
    conn = await asyncpg.connect(dsn)
    try:
        await db.migrate(conn, "gateway.migrations")
    finally:
        await conn.close()
    assert await admin.add_user(
        dsn, "registrar8", "a-long-password", "Ахметова Камила", "registry_head", "almaty-almaly"
    )
    form = {"username": "registrar8", "password": "a-long-password"}

    async with serve(lambda: build_app(settings, transport=FakeUpstreams().transport())) as client:
        old = {
            "Authorization": "Bearer "
            + (await client.post("/api/v1/auth/token", data=form)).json()["access_token"]
        }
        before = await client.get("/api/v1/worklist", headers=old)
        out = await client.post(LOGOUT, headers=old)
        after = await client.get("/api/v1/worklist", headers=old)
        new = {
            "Authorization": "Bearer "
            + (await client.post("/api/v1/auth/token", data=form)).json()["access_token"]
        }
        again = await client.get("/api/v1/worklist", headers=new)

    assert (before.status_code, out.status_code, after.status_code, again.status_code) == (200, 204, 401, 200)
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT session_epoch FROM users WHERE username = 'registrar8'") == 1
    finally:
        await conn.close()
