"""Real PostgreSQL through the session fixtures: each test gets its own fresh database."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from btdeploy.postgres import ExternalPostgres, PostgresServer
from btdeploy.testing import DatabaseFactory

pytestmark = pytest.mark.integration


async def test_make_database_gives_a_fresh_database(make_database: DatabaseFactory) -> None:
    first, second = await make_database(), await make_database()
    assert first != second
    conn = await asyncpg.connect(first)
    try:
        await conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
        await conn.execute("INSERT INTO t VALUES (1, 'Айгерім')")
        assert await conn.fetchval("SELECT name FROM t WHERE id = 1") == "Айгерім"
        assert await conn.fetchval("SHOW server_encoding") == "UTF8"
    finally:
        await conn.close()
    conn = await asyncpg.connect(second)
    try:
        assert await conn.fetchval("SELECT to_regclass('t')") is None
    finally:
        await conn.close()


async def test_create_database_is_idempotent(postgres_server: PostgresServer | ExternalPostgres) -> None:
    name = f"bt_deploy_idempotent_{uuid.uuid4().hex[:8]}"
    try:
        dsn = await postgres_server.create_database(name)
        assert dsn == await postgres_server.create_database(name)
    finally:
        await postgres_server.drop_database(name)
