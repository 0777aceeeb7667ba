"""Real PostgreSQL through the session fixtures: each test gets its own fresh database."""

from __future__ import annotations

import os
import pwd
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from btdeploy.aio import run_sync
from btdeploy.ports import free_port
from btdeploy.postgres import (
    OS_USER,
    SUPERUSER,
    ExternalPostgres,
    PostgresServer,
    _ping,
    derived_password,
    owner_role,
    with_login,
)
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
        run_sync(server.create_database("bt_closed"))
        assert run_sync(_roundtrip(server.owner_dsn("bt_closed"), write=True)) == "Айгерім"
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


# -- password authentication and one role per database (ADR 0022) ----------------------------------------------


def _psql_without_password(
    server: PostgresServer, host: str, os_user: str | None
) -> subprocess.CompletedProcess[str]:
    """psql as `os_user` (when we are root), with no password anywhere: none given, no ~/.pgpass, never asked."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PGPASSFILE": "/dev/null", "HOME": "/"}
    return subprocess.run(
        [
            "psql",
            "-w",
            "-h",
            host,
            "-p",
            str(server.port),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-c",
            "SELECT 1",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        user=os_user if os.geteuid() == 0 else None,
    )


def test_no_connection_without_a_password(postgres_server: PostgresServer | ExternalPostgres) -> None:
    if not isinstance(postgres_server, PostgresServer):
        pytest.skip("the authentication of a DATABASE_URL server is its owner's")
    # Over TCP as another OS user, and through the socket as the very OS user that owns the cluster: no trust,
    # no peer authentication.
    for host, os_user in (("127.0.0.1", "nobody"), (str(postgres_server.socket_dir), OS_USER)):
        done = _psql_without_password(postgres_server, host, os_user)
        assert done.returncode != 0
        assert "no password supplied" in done.stderr, done.stderr
    with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
        run_sync(asyncpg.connect(f"postgresql://{SUPERUSER}:wrong@127.0.0.1:{postgres_server.port}/postgres"))
    # The superuser's password is in a file only its owner reads.
    assert postgres_server.password_path.stat().st_mode & 0o077 == 0


async def test_each_database_has_its_own_roles_which_are_no_superusers(
    make_database: DatabaseFactory,
) -> None:
    mine, theirs = await make_database("mine"), await make_database("theirs")
    name = urlsplit(mine).path.strip("/")
    conn = await asyncpg.connect(mine)
    try:
        role = await conn.fetchrow(
            "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        # The fixture's DSN is the owner's, who runs migrations (ADR 0030).
        assert role["rolname"] == urlsplit(mine).username == owner_role(name)
        assert (role["rolsuper"], role["rolcreatedb"], role["rolcreaterole"]) == (False, False, False)
        assert await conn.fetchval(
            "SELECT pg_get_userbyid(datdba) = current_user FROM pg_database "
            "WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    conn = await asyncpg.connect(make_database.runtime_dsn(mine))
    try:
        role = await conn.fetchrow(
            "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        assert role["rolname"] == name
        assert (role["rolsuper"], role["rolcreatedb"], role["rolcreaterole"]) == (False, False, False)
        # The service's role cannot become the owner, nor create anything.
        assert not await conn.fetchval("SELECT pg_has_role(current_user, $1, 'MEMBER')", owner_role(name))
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("SET ROLE " + owner_role(name))
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE t (id int)")
    finally:
        await conn.close()
    # Another database's role, with its own right password, is not let in here.
    intruder = urlsplit(theirs)
    assert intruder.username
    assert intruder.password
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for database"):
        await asyncpg.connect(with_login(mine, intruder.username, intruder.password, urlsplit(mine).path[1:]))


async def test_migrations_run_as_the_database_role(make_database: DatabaseFactory) -> None:
    from btkernel import db

    dsn = await make_database("migrated")
    pool = await db.create_pool(dsn, max_size=2)
    try:
        await db.migrate(pool)
        owners = await pool.fetch(
            "SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
    finally:
        await pool.close()
    assert [r["owner"] for r in owners] == [urlsplit(dsn).username]


async def _as_admin(server: PostgresServer, dbname: str, *statements: str) -> None:
    conn = await asyncpg.connect(server.admin_dsn(dbname))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def test_a_cluster_from_before_passwords_gets_them(tmp_path: Path) -> None:
    """A `make run` cluster of trust days: at the next start its superuser gets a password, and its database,
    owned by the superuser, goes with its tables to the database's new role."""
    tmp_path.chmod(0o755)
    server = PostgresServer(tmp_path / "old", free_port(), fast=True)
    try:
        server.start()
        run_sync(server.create_database("bt_old"))
        run_sync(_roundtrip(server.owner_dsn("bt_old"), write=True))
        # Back to how it was: everything the superuser's, no role, no password file.
        run_sync(
            _as_admin(
                server, "bt_old", "ALTER TABLE kept OWNER TO postgres", "DROP OWNED BY bt_old, bt_old_owner"
            )
        )
        run_sync(
            _as_admin(
                server,
                "postgres",
                "ALTER DATABASE bt_old OWNER TO postgres",
                "DROP OWNED BY bt_old, bt_old_owner",
                "DROP ROLE bt_old",
                "DROP ROLE bt_old_owner",
            )
        )
        server.stop()
        old_password = server.password_path.read_text()
        server.password_path.unlink()

        server.start()
        new_password = server.password_path.read_text()
        assert new_password != old_password
        with pytest.raises(asyncpg.InvalidPasswordError):  # the single-user step set the new one
            run_sync(_ping(server.admin_dsn().replace(new_password.strip(), old_password.strip())))
        dsn = run_sync(server.create_database("bt_old"))
        assert run_sync(_roundtrip(dsn, write=False)) == "Айгерім"
        run_sync(_as_admin(server, "bt_old"))  # the new password works
        assert run_sync(_owner_of_kept(dsn)) == "bt_old_owner"
    finally:
        server.remove()


async def test_a_database_its_service_role_owned_is_split_in_place(
    postgres_server: PostgresServer | ExternalPostgres,
) -> None:
    """A `make run` database from before ADR 0030, owned with all its tables by the service's role: at the next
    start it goes to the owner role, and the service's role can no longer change its history."""
    from btkernel import db, migrate

    if not isinstance(postgres_server, PostgresServer):
        pytest.skip("needs our own server's derived passwords")
    name = f"bt_pre_{uuid.uuid4().hex[:8]}"
    password = derived_password(postgres_server._superuser_password(), name)
    await _as_admin(
        postgres_server,
        "postgres",
        f"CREATE ROLE {name} LOGIN PASSWORD '{password}'",
        f"CREATE DATABASE {name} OWNER {name}",
        f"REVOKE ALL ON DATABASE {name} FROM PUBLIC",
    )
    try:
        before = await db.connect(postgres_server.dsn(name))
        try:
            await db.migrate(before)
            await before.execute("CREATE TABLE kept (name text)")
        finally:
            await before.close()
        assert await postgres_server.create_database(name) == postgres_server.dsn(name)
        owner = await db.connect(postgres_server.owner_dsn(name))
        try:
            owners = await owner.fetch(
                "SELECT DISTINCT pg_get_userbyid(relowner) AS o FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
            )
            assert [r["o"] for r in owners] == [owner_role(name)]
            assert await migrate.apply(owner) == []
        finally:
            await owner.close()
        runtime = await db.connect(postgres_server.dsn(name))
        try:
            await migrate.verify(runtime)
            await runtime.execute("INSERT INTO kept VALUES ('x')")
            await runtime.execute("UPDATE kept SET name = 'y'")
            assert await runtime.fetchval("SELECT count(*) FROM events") == 0
            for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events", "TRUNCATE events"):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await runtime.execute(statement)
        finally:
            await runtime.close()
    finally:
        await postgres_server.drop_database(name)


async def _owner_of_kept(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        owner: str = await conn.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'kept'")
        return owner
    finally:
        await conn.close()
