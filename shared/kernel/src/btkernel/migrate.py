"""Schema migrations: plain `*.sql` files applied once each, in name order, with a checksum that keeps them as
they were applied (ADR 0015).

* `apply` (the pre-start step, `python -m btkernel.migrate <app or package>`) takes an advisory lock, refuses to go
  on when an applied file has changed since (naming it), then applies each new file in its own transaction and
  records its sha256. Two runners at once apply each file once: the second waits for the lock, then finds nothing
  left to do.
* `verify` (what a service does at start in production) only reads: it fails fast, naming the files, when the
  schema is not the one its code expects, and never writes.

The kernel's own files (`btkernel.sql`) always come first; names are recorded per package (`package:file`), so two
packages may both have a `001_….sql`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg

from btkernel import db
from btkernel import logging as btlog
from btkernel.history.backfill import backfill

log = btlog.get(__name__)

KERNEL_PACKAGE = "btkernel.sql"
# Any fixed number works; it only has to be the same for every process migrating the same database.
LOCK_ID = 0x42_54_4D_49
COMMAND = "python -m btkernel.migrate"


class MigrationError(RuntimeError):
    """The database's schema is not what the code's migration files say; the message says which file and what to do."""


class MigrationChanged(MigrationError):
    pass


class SchemaNotCurrent(MigrationError):
    pass


@dataclass(frozen=True)
class Script:
    package: str
    name: str
    sql: str

    @property
    def key(self) -> str:
        """What `schema_migrations.name` holds."""
        return f"{self.package}:{self.name}"

    @property
    def checksum(self) -> str:
        return checksum(self.sql)


def checksum(sql: str) -> str:
    """sha256 of the file's text. Line endings are made LF first: a checkout with CRLF is the same migration."""
    return hashlib.sha256(sql.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def scripts(packages: Iterable[str]) -> list[Script]:
    """The migration files of the kernel and then of `packages`, each package's in name order."""
    out: list[Script] = []
    for package in _with_kernel(packages):
        folder = resources.files(package)
        out.extend(
            sorted(
                (
                    Script(package, p.name, p.read_text(encoding="utf-8"))
                    for p in folder.iterdir()
                    if p.name.endswith(".sql")
                ),
                key=lambda s: s.name,
            )
        )
    return out


def _with_kernel(packages: Iterable[str]) -> list[str]:
    rest = [p for p in packages if p != KERNEL_PACKAGE]
    return [KERNEL_PACKAGE, *dict.fromkeys(rest)]


_CREATE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
    "applied_at timestamptz NOT NULL DEFAULT now(), checksum text)"
)
# Databases migrated before checksums existed have the table without the column.
_ADD_CHECKSUM = "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text"


async def apply(pool_or_conn: Any, *packages: str) -> list[str]:
    """Apply every new migration of the kernel and `packages`; return the keys applied. Raises `MigrationChanged`
    before applying anything when a file applied earlier now reads differently."""
    wanted = scripts(packages)
    applied: list[str] = []
    async with _acquire(pool_or_conn) as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_ID)
        try:
            if not await _record_current(conn):
                # Only when needed: a role that may not create (a service's own, ADR 0030) finds nothing to do.
                await conn.execute(_CREATE)
                await conn.execute(_ADD_CHECKSUM)
            recorded = await _recorded(conn)
            await _backfill(conn, wanted, recorded)
            _refuse_changed(wanted, recorded)
            for script in wanted:
                if script.key in recorded:
                    continue
                async with conn.transaction():
                    await conn.execute(script.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                        script.key,
                        script.checksum,
                    )
                applied.append(script.key)
            # Events recorded before the hash chain get their hashes, as the owner, right after its file.
            await backfill(conn)
        finally:
            # A lost connection has released the lock already; its error is the one worth raising.
            with contextlib.suppress(asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
                await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_ID)
    if applied:
        log.info("migrations_applied", migrations=applied)
    return applied


async def verify(pool_or_conn: Any, *packages: str) -> None:
    """Check, without writing, that every migration of the kernel and `packages` is applied as its file reads now.
    Raises `SchemaNotCurrent` (pending files, or checksums not yet recorded) or `MigrationChanged`."""
    wanted = scripts(packages)
    async with _acquire(pool_or_conn) as conn:
        columns = {
            r["column_name"]
            for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
            )
        }
        recorded = await _recorded(conn) if "checksum" in columns else {}
    if not columns or "checksum" not in columns:
        raise SchemaNotCurrent(
            "the database has no migration record with checksums; "
            + _remedy(packages)
            + (" (its migrations were applied before checksums were kept)" if columns else "")
        )
    _refuse_changed(wanted, recorded)
    unrecorded = [s.key for s in wanted if s.key in recorded and recorded[s.key] is None]
    pending = [s.key for s in wanted if s.key not in recorded]
    if pending or unrecorded:
        what = []
        if pending:
            what.append("not applied: " + ", ".join(pending))
        if unrecorded:
            what.append("applied without a checksum: " + ", ".join(unrecorded))
        raise SchemaNotCurrent(
            "the database schema is not current (" + "; ".join(what) + "); " + _remedy(packages)
        )


def _remedy(packages: Sequence[str]) -> str:
    target = " ".join(p for p in packages if p != KERNEL_PACKAGE) or KERNEL_PACKAGE
    return f"run `{COMMAND} {target}` against it before starting the service"


async def _recorded(conn: asyncpg.Connection) -> dict[str, str | None]:
    return {
        r["name"]: r["checksum"] for r in await conn.fetch("SELECT name, checksum FROM schema_migrations")
    }


async def _backfill(conn: asyncpg.Connection, wanted: list[Script], recorded: dict[str, str | None]) -> None:
    """Rows applied before checksums were kept take the checksum of their file as it reads now: the first run of
    this code cannot know an older text, and from here on any edit is caught."""
    missing = [s for s in wanted if s.key in recorded and recorded[s.key] is None]
    for script in missing:
        await conn.execute(
            "UPDATE schema_migrations SET checksum = $2 WHERE name = $1 AND checksum IS NULL",
            script.key,
            script.checksum,
        )
        recorded[script.key] = script.checksum
    if missing:
        log.info("migration_checksums_recorded", migrations=[s.key for s in missing])


async def _record_current(conn: asyncpg.Connection) -> bool:
    """Whether schema_migrations exists with its checksum column."""
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = 'schema_migrations' AND column_name = 'checksum'"
        )
    )


def _refuse_changed(wanted: list[Script], recorded: dict[str, str | None]) -> None:
    changed = [s for s in wanted if recorded.get(s.key) is not None and recorded[s.key] != s.checksum]
    if changed:
        names = ", ".join(
            f"{s.key} (applied sha256 {recorded[s.key]}, file now {s.checksum})" for s in changed
        )
        raise MigrationChanged(
            f"applied migration changed since it was applied: {names}. An applied migration is never edited: "
            "restore the file and put the change in a new migration file"
        )


class _acquire:
    """`async with` over either a pool (acquire a connection) or a bare connection (use it)."""

    def __init__(self, pool_or_conn: Any) -> None:
        self._src = pool_or_conn
        self._ctx: Any = None

    async def __aenter__(self) -> asyncpg.Connection:
        if isinstance(self._src, asyncpg.Pool):
            self._ctx = self._src.acquire()
            conn: asyncpg.Connection = await self._ctx.__aenter__()
            return conn
        return self._src

    async def __aexit__(self, *exc: object) -> None:
        if self._ctx is not None:
            await self._ctx.__aexit__(*exc)


# -- the pre-start step ------------------------------------------------------------------------------------------


def packages_of(target: str) -> list[str]:
    """The migration packages a target names: an app (`intake.main:app`, built by `btkernel.service.create_app`,
    which records its packages) or one or more package names separated by commas (`gateway.migrations`)."""
    if ":" in target:
        module, _, attribute = target.partition(":")
        app = getattr(importlib.import_module(module), attribute)
        found: list[str] = list(getattr(app.state, "migrations", ()))
        return found
    return [p for p in target.split(",") if p]


async def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND,
        description="Apply (or with --check, only verify) the migrations of one service's database, before the "
        "service starts. Its database from BT_DATABASE_URL or --dsn.",
    )
    parser.add_argument("target", help="the service's app, e.g. intake.main:app, or migration package(s)")
    parser.add_argument("--dsn", help="PostgreSQL DSN; default BT_DATABASE_URL")
    parser.add_argument("--check", action="store_true", help="only verify that the schema is current")
    args = parser.parse_args(argv)
    packages = packages_of(args.target)
    if args.dsn:
        dsn = args.dsn
    else:
        from btkernel.settings import ServiceSettings

        dsn = ServiceSettings().database_url
    conn = await db.connect(dsn)
    try:
        if args.check:
            await verify(conn, *packages)
            print("schema current", file=sys.stderr)
        else:
            applied = await apply(conn, *packages)
            print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none'}", file=sys.stderr)
    except MigrationError as exc:
        print(f"{COMMAND}: {exc}", file=sys.stderr)
        return 1
    finally:
        await conn.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(_cli(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
