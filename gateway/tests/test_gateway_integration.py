"""The gateway on a real PostgreSQL: migrations, development accounts seeded once, sign-in against the table."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from gateway_fakes import SECRET, FakeUpstreams, make_settings, sent_claims

from btkernel import db
from btkernel.testing import serve
from gateway import admin, passwords, seed
from gateway.main import build_app

pytestmark = pytest.mark.integration


async def test_dev_users_are_seeded_once_and_sign_in_works(make_database: Any) -> None:
    dsn = await make_database("gateway")
    upstreams = FakeUpstreams()
    settings = make_settings(database_url=dsn)

    async with serve(lambda: build_app(settings, transport=upstreams.transport())) as client:
        login = await client.post(
            "/api/v1/auth/token", data={"username": "executive2a", "password": "executive2a-pass"}
        )
        wrong = await client.post("/api/v1/auth/token", data={"username": "executive2a", "password": "nope"})
        token = login.json()["access_token"]
        proxied = await client.get("/api/v1/worklist", headers={"Authorization": f"Bearer {token}"})
        health = await client.get("/health")

    assert login.status_code == 200
    assert login.json()["site"] == "almaty-bostandyk"
    assert wrong.status_code == 401
    assert proxied.status_code == 200
    worklist = [r for r in upstreams.requests if r.url.path == "/api/v1/worklist"]
    assert [sent_claims(r)["sub"] for r in worklist] == ["executive2a"]
    assert health.status_code == 200
    assert health.json()["checks"]["database"] == "ok"

    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT username, role, site, password_hash, active FROM users ORDER BY username"
        )
        assert {r["username"] for r in rows} == {u.username for u in seed.DEV_USERS}
        for row in rows:
            assert row["active"]
            assert row["password_hash"].startswith("scrypt$")
            assert f"{row['username']}-pass" not in row["password_hash"]
        # An account changed by hand, and one switched off, survive the next start's seeding.
        await conn.execute(
            "UPDATE users SET password_hash = $1 WHERE username = 'head1'",
            passwords.hash_password("new-head1-secret"),
        )
        await conn.execute("UPDATE users SET active = false WHERE username = 'operator2'")
    finally:
        await conn.close()

    async with serve(lambda: build_app(settings, transport=upstreams.transport())) as client:
        old = await client.post("/api/v1/auth/token", data={"username": "head1", "password": "head1-pass"})
        new = await client.post(
            "/api/v1/auth/token", data={"username": "head1", "password": "new-head1-secret"}
        )
        inactive = await client.post(
            "/api/v1/auth/token", data={"username": "operator2", "password": "operator2-pass"}
        )

    assert (old.status_code, new.status_code, inactive.status_code) == (401, 200, 401)


async def test_production_seeds_nobody(make_database: Any) -> None:
    dsn = await make_database("gateway")
    settings = make_settings(database_url=dsn, env="production", jwt_secret=SECRET + "-prod")
    # In production the schema comes from the pre-start step (ADR 0015), never from the service itself.
    conn = await asyncpg.connect(dsn)
    try:
        await db.migrate(conn, "gateway.migrations")
    finally:
        await conn.close()

    async with serve(lambda: build_app(settings, transport=FakeUpstreams().transport())) as client:
        login = await client.post(
            "/api/v1/auth/token", data={"username": "supervisor", "password": "supervisor-pass"}
        )

    assert login.status_code == 401
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await conn.close()


async def test_accounts_added_and_switched_off_from_the_command_line(make_database: Any) -> None:
    dsn = await make_database("gateway")
    settings = make_settings(database_url=dsn, env="production", jwt_secret=SECRET + "-prod")

    assert await admin.add_user(
        dsn, "Registrar7", "a-long-password", "Ахметова Камила", "registry_head", "almaty-almaly"
    )
    assert not await admin.add_user(dsn, "registrar7", "another-password", "X Y", "supervisor", None)
    with pytest.raises(ValueError, match="must be bound to a registry office"):
        await admin.add_user(dsn, "ghost", "a-long-password", "X Y", "registry_head", "almaty-con-1")

    async with serve(lambda: build_app(settings, transport=FakeUpstreams().transport())) as client:
        form = {"username": "registrar7", "password": "a-long-password"}
        before = await client.post("/api/v1/auth/token", data=form)
        assert await admin.deactivate(dsn, "REGISTRAR7")
        after = await client.post("/api/v1/auth/token", data=form)

    assert before.json()["role"] == "registry_head"
    assert after.status_code == 401
    assert not await admin.deactivate(dsn, "nobody")


async def test_accounts_seeded_in_development_are_refused_once_the_database_runs_production(
    make_database: Any,
) -> None:
    dsn = await make_database("gateway")
    async with serve(lambda: build_app(make_settings(database_url=dsn))) as client:
        seeded = await client.post("/api/v1/auth/token", data={"username": "head1", "password": "head1-pass"})
    assert seeded.status_code == 200
    assert await admin.add_user(
        dsn, "registrar7", "a-long-password", "Ахметова Камила", "registry_head", "almaty-almaly"
    )

    # The spraying guard is widened here: this test tries all 20 accounts from one address on purpose.
    production = make_settings(
        database_url=dsn, env="production", jwt_secret=SECRET + "-prod", login_address_max_failures=100
    )
    async with serve(lambda: build_app(production, transport=FakeUpstreams().transport())) as client:
        refused = [
            (await client.post("/api/v1/auth/token", data={"username": u.username, "password": u.password}))
            for u in seed.DEV_USERS
        ]
        real = await client.post(
            "/api/v1/auth/token", data={"username": "registrar7", "password": "a-long-password"}
        )

    assert [r.status_code for r in refused] == [401] * len(seed.DEV_USERS)
    assert real.status_code == 200


async def test_a_token_is_refused_once_its_account_is_deactivated_on_postgresql(make_database: Any) -> None:
    dsn = await make_database("gateway")
    settings = make_settings(
        database_url=dsn, env="production", jwt_secret=SECRET + "-prod", account_cache_s=0.0
    )
    conn = await asyncpg.connect(dsn)
    try:
        await db.migrate(conn, "gateway.migrations")
    finally:
        await conn.close()
    assert await admin.add_user(
        dsn, "registrar7", "a-long-password", "Ахметова Камила", "registry_head", "almaty-almaly"
    )
    upstreams = FakeUpstreams()

    async with serve(lambda: build_app(settings, transport=upstreams.transport())) as client:
        form = {"username": "registrar7", "password": "a-long-password"}
        token = (await client.post("/api/v1/auth/token", data=form)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        before = await client.get("/api/v1/worklist", headers=headers)
        assert await admin.deactivate(dsn, "registrar7")
        after = await client.get("/api/v1/worklist", headers=headers)

    assert before.status_code == 200
    assert after.status_code == 401
    assert [sent_claims(r)["sub"] for r in upstreams.requests if r.url.path == "/api/v1/worklist"] == [
        "registrar7"
    ]
