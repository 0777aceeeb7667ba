"""Migrations on real PostgreSQL (ADR 0015): checksums kept and enforced, concurrent runners apply each file once,
old databases upgrade, and a production service only verifies its schema."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from btkernel import db, migrate
from btkernel.service import create_app
from btkernel.settings import ServiceSettings
from btkernel.testing import serve

from .conftest import fresh_dsn

pytestmark = pytest.mark.integration


class Package:
    """A migrations package of the test's own, on sys.path, whose files the test may add and edit."""

    def __init__(self, root: Path) -> None:
        self.name = f"bt_test_migrations_{uuid.uuid4().hex[:10]}"
        self.folder = root / self.name
        self.folder.mkdir()
        (self.folder / "__init__.py").write_text("")

    def write(self, name: str, sql: str) -> str:
        (self.folder / name).write_text(sql, encoding="utf-8")
        return f"{self.name}:{name}"


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Package:
    monkeypatch.syspath_prepend(str(tmp_path))
    return Package(tmp_path)


@pytest.fixture
async def dsn(make_database: Callable[..., Any]) -> str:
    return await fresh_dsn(make_database)


async def _rows(dsn: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def test_each_file_is_applied_once_with_its_checksum(package: Package, dsn: str) -> None:
    first = package.write("001_t.sql", "CREATE TABLE t (id int PRIMARY KEY);")
    second = package.write("002_u.sql", "INSERT INTO t VALUES (1);")
    conn = await db.connect(dsn)
    try:
        applied = await migrate.apply(conn, package.name)
        assert applied[-2:] == [first, second]
        assert applied[0].startswith("btkernel.sql:")  # the kernel's first
        assert await migrate.apply(conn, package.name) == []
        await migrate.verify(conn, package.name)
    finally:
        await conn.close()
    rows = {
        r["name"]: r["checksum"] for r in await _rows(dsn, "SELECT name, checksum FROM schema_migrations")
    }
    assert rows[first] == migrate.checksum("CREATE TABLE t (id int PRIMARY KEY);")
    assert all(len(c) == 64 for c in rows.values())


async def test_an_edited_migration_is_refused_naming_its_file(package: Package, dsn: str) -> None:
    edited = package.write("001_t.sql", "CREATE TABLE t (id int PRIMARY KEY);")
    conn = await db.connect(dsn)
    try:
        await migrate.apply(conn, package.name)
        package.write("001_t.sql", "CREATE TABLE t (id int PRIMARY KEY, extra text);")
        new = package.write("002_u.sql", "CREATE TABLE u (id int);")
        with pytest.raises(migrate.MigrationChanged, match=edited):
            await migrate.apply(conn, package.name)
        with pytest.raises(migrate.MigrationChanged, match=edited):
            await migrate.verify(conn, package.name)
        # Nothing after the refusal was applied.
        names = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        assert new not in names
        assert await conn.fetchval("SELECT to_regclass('u')") is None
    finally:
        await conn.close()


async def test_line_endings_alone_are_not_an_edit(package: Package, dsn: str) -> None:
    package.write("001_t.sql", "CREATE TABLE t (id int);\n")
    conn = await db.connect(dsn)
    try:
        await migrate.apply(conn, package.name)
        package.write("001_t.sql", "CREATE TABLE t (id int);\r\n")
        assert await migrate.apply(conn, package.name) == []
    finally:
        await conn.close()


async def test_concurrent_runners_apply_each_file_once(package: Package, dsn: str) -> None:
    package.write("001_t.sql", "CREATE TABLE runs (n int);")
    # Not idempotent: a second application would insert a second row.
    package.write("002_u.sql", "SELECT pg_sleep(0.2); INSERT INTO runs VALUES (1);")
    conns = [await db.connect(dsn) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate.apply(c, package.name) for c in conns))
    finally:
        for c in conns:
            await c.close()
    applied = [key for result in results for key in result]
    assert len(applied) == len(set(applied))  # no file applied by two runners
    assert sum(1 for r in results if r) == 1  # one runner did it all, the others found nothing left
    assert [r["n"] for r in await _rows(dsn, "SELECT n FROM runs")] == [1]


async def test_a_database_from_before_checksums_upgrades_cleanly(package: Package, dsn: str) -> None:
    sql = "CREATE TABLE t (id int);"
    key = package.write("001_t.sql", sql)
    conn = await db.connect(dsn)
    try:
        # The runner before ADR 0015: the same table without checksums, every file applied.
        await conn.execute(
            "CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for script in migrate.scripts([package.name]):
            await conn.execute(script.sql)
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", script.key)
        with pytest.raises(migrate.SchemaNotCurrent, match="before checksums"):
            await migrate.verify(conn, package.name)
        assert await migrate.apply(conn, package.name) == []  # nothing applied again
        checksums = dict(await conn.fetch("SELECT name, checksum FROM schema_migrations"))
        assert checksums[key] == migrate.checksum(sql)
        assert None not in checksums.values()
        await migrate.verify(conn, package.name)
        # And from now on an edit is caught.
        package.write("001_t.sql", "CREATE TABLE t (id bigint);")
        with pytest.raises(migrate.MigrationChanged, match=key):
            await migrate.apply(conn, package.name)
    finally:
        await conn.close()


async def test_verify_names_the_pending_files_and_writes_nothing(package: Package, dsn: str) -> None:
    conn = await db.connect(dsn)
    try:
        with pytest.raises(migrate.SchemaNotCurrent, match=f"python -m btkernel.migrate {package.name}"):
            await migrate.verify(conn, package.name)
        assert await conn.fetchval("SELECT to_regclass('schema_migrations')") is None
        await migrate.apply(conn, package.name)
        pending = package.write("001_t.sql", "CREATE TABLE t (id int);")
        with pytest.raises(migrate.SchemaNotCurrent, match=pending):
            await migrate.verify(conn, package.name)
        assert await conn.fetchval("SELECT to_regclass('t')") is None
    finally:
        await conn.close()


def _settings(dsn: str, **kw: Any) -> ServiceSettings:
    return ServiceSettings(
        database_url=dsn, relay_enabled=False, consumers_enabled=False, service_name="migtest", **kw
    )


async def test_a_production_service_only_checks_its_schema(package: Package, dsn: str) -> None:
    package.write("001_t.sql", "CREATE TABLE t (id int);")
    settings = _settings(dsn, env="production")
    assert settings.migrates_on_start is False

    def build() -> Any:
        return create_app(
            settings=settings, title="t", description="t", migrations=package.name, routers=[], health=False
        )

    with pytest.raises(migrate.SchemaNotCurrent, match=package.name):
        async with serve(build):
            pass
    # Refused without writing: not even the migrations table exists.
    assert (await _rows(dsn, "SELECT to_regclass('schema_migrations') AS r"))[0]["r"] is None

    # The pre-start step, as btdeploy runs it: the app names its packages.
    app = build()
    assert app.state.migrations == (package.name,)
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "btkernel.migrate", package.name, "--dsn", dsn],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(package.folder.parent), *sys.path])},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"{package.name}:001_t.sql" in result.stderr
    async with serve(build):
        pass  # starts now that the schema is current


async def test_development_settings_migrate_on_start(package: Package, dsn: str) -> None:
    package.write("001_t.sql", "CREATE TABLE t (id int);")
    settings = _settings(dsn, env="test")
    assert settings.migrates_on_start is True

    def build() -> Any:
        return create_app(
            settings=settings, title="t", description="t", migrations=package.name, routers=[], health=False
        )

    async with serve(build):
        pass
    assert (await _rows(dsn, "SELECT to_regclass('t')::text AS r"))[0]["r"] == "t"


def test_the_command_line_check_fails_on_a_fresh_database(package: Package, make_database: Any) -> None:
    dsn = make_database.sync()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package.folder.parent), *sys.path])}
    check = [sys.executable, "-m", "btkernel.migrate", package.name, "--dsn", dsn, "--check"]
    refused = subprocess.run(check, capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 1
    assert "python -m btkernel.migrate" in refused.stderr
    applied = subprocess.run(check[:-1], capture_output=True, text=True, env=env, timeout=60)
    assert applied.returncode == 0, applied.stderr
    assert subprocess.run(check, capture_output=True, text=True, env=env, timeout=60).returncode == 0


async def test_kept_envelopes_from_before_json_read_back_the_same_after_it(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept envelopes became json (kernel migration 006, issue 13 P3): those kept as jsonb before it are converted
    in place, the same values, and a new one is stored as the consumer wrote it."""
    everything = migrate.scripts
    json_file = "006_processed_events_envelope_json.sql"
    monkeypatch.setattr(
        migrate, "scripts", lambda packages: [s for s in everything(packages) if s.name < json_file]
    )
    envelope = {
        "id": "e-1",
        "type": "t",
        "data": {"name": "Әлия", "n": [1, 2.5, None, True], "k": '\u2028 "'},
    }
    conn = await db.connect(dsn)
    try:
        await migrate.apply(conn)
        insert = (
            "INSERT INTO processed_events (consumer_group, event_id, topic, kafka_partition, kafka_offset, envelope)"
            " VALUES ('g', $1, 't', 0, $2, $3)"
        )
        await conn.execute(insert, "e-1", 0, envelope)
        assert await conn.fetchval("SELECT pg_typeof(envelope)::text FROM processed_events") == "jsonb"
        monkeypatch.setattr(migrate, "scripts", everything)
        assert f"btkernel.sql:{json_file}" in await migrate.apply(conn)
        assert await conn.fetchval("SELECT envelope FROM processed_events WHERE event_id = 'e-1'") == envelope
        # Kept from now on as written, spacing and key order included: nothing decomposes it.
        await conn.execute(insert.replace("$3", "$3::text::json"), "e-2", 1, '{"b": 1,  "a": [2]}')
        assert await conn.fetchval("SELECT envelope::text FROM processed_events WHERE event_id = 'e-2'") == (
            '{"b": 1,  "a": [2]}'
        )
    finally:
        await conn.close()
