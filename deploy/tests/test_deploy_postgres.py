"""Real PostgreSQL through the session fixtures: each test gets its own fresh database."""

from __future__ import annotations

import os
import pwd
import uuid
from pathlib import Path

import asyncpg
import pytest

from btdeploy.aio import run_sync
from btdeploy.ports import free_port
from btdeploy.postgres import OS_USER, ExternalPostgres, PostgresServer
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


async def _roundtrip(dsn: str, write: bool) -> str | None:
    conn = await asyncpg.connect(dsn)
    try:
        if write:
            await conn.execute("CREATE TABLE kept (name text)")
            await conn.execute("INSERT INTO kept VALUES ('Айгерім')")
        value: str | None = await conn.fetchval("SELECT name FROM kept")
        return value
    finally:
        await conn.close()


def test_a_clone_in_a_folder_closed_to_the_postgres_user_gets_its_cluster(tmp_path: Path) -> None:
    # A newcomer's clone in a 0700 home folder: as root, the `postgres` OS user cannot enter it.
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    workdir = home / "clone" / ".run" / "postgres"
    server = PostgresServer(workdir, free_port(), fast=True)
    try:
        server.start()
        assert run_sync(_roundtrip(run_sync(server.create_database("bt_closed")), write=True)) == "Айгерім"
        if os.geteuid() == 0:
            # Owned by the postgres user, outside the closed folder, found from the clone through a link.
            assert not server.cluster_dir.is_relative_to(home)
            assert server.data_dir.stat().st_uid == pwd.getpwnam(OS_USER).pw_uid
            assert (workdir / "cluster").resolve() == server.cluster_dir.resolve()
        server.stop()
        # The same clone finds its data again; stopped by its own pid, so a second server can take the port.
        again = PostgresServer(workdir, server.port, fast=True)
        assert again.cluster_dir == server.cluster_dir
        again.start()
        try:
            assert run_sync(_roundtrip(again.dsn("bt_closed"), write=False)) == "Айгерім"
        finally:
            again.stop()
        assert (workdir / "postgres.log").read_text().count("starting postgres") == 2
    finally:
        server.remove()
    assert not server.data_dir.exists()
    assert not (workdir / "cluster").is_symlink()
