"""PostgreSQL for the platform: a private server from the machine's binaries, or an external one by URL."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from btdeploy.aio import run_sync
from btdeploy.processes import ChildProcess
from btkernel.history import APPEND_ONLY_TABLES

# initdb and postgres refuse to run as root; this OS user owns the cluster instead.
OS_USER = "postgres"
SUPERUSER = "postgres"
# Where a cluster owned by OS_USER lives, unless BT_PG_CLUSTERS names another folder.
CLUSTERS_ENV = "BT_PG_CLUSTERS"
# In a cluster's folder: the work folder it belongs to (read by the sweep of orphans, and by a curious person).
OWNER_FILE = "workdir"
# The role that owns a database and runs its migrations: the database's name and this (ADR 0030).
OWNER_SUFFIX = "_owner"
# In a cluster's folder, 0600: the superuser's password (docs/adr/0022-database-roles.md).
PASSWORD_FILE = "superuser.password"
# Every way in asks for a password, the cluster owner's socket included: no trust, no peer (ADR 0022).
HBA_CONF = """\
# Written by btdeploy at every start (docs/adr/0022-database-roles.md): every connection needs its role's password.
local   all   all                  scram-sha-256
host    all   all   127.0.0.1/32   scram-sha-256
"""

log = logging.getLogger(__name__)


class Postgres(Protocol):
    """What the stack and the fixtures need from PostgreSQL, local or external.

    Each database has two login roles that may connect to nothing else (ADR 0022, 0030): `name_owner`, which owns
    it and runs the migrations (`owner_dsn(name)`), and `name`, the service's, which cannot change the history
    (`dsn(name)`); `admin_dsn()` connects as the administrator who creates them.
    """

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def dsn(self, dbname: str) -> str: ...
    def owner_dsn(self, dbname: str) -> str: ...
    def admin_dsn(self, dbname: str = "postgres") -> str: ...
    async def create_database(self, name: str) -> str: ...
    async def drop_database(self, name: str) -> None: ...


def find_bindir() -> Path:
    """The newest installed server's bin folder (Debian keeps one per major version)."""
    candidates = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "postgres").is_file()]
    if not candidates:
        raise RuntimeError(
            "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin; set DATABASE_URL instead"
        )
    return max(candidates, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def new_password() -> str:
    return secrets.token_urlsafe(24)


def derived_password(secret: str, role: str) -> str:
    """A role's password, derived from the administrator's secret: the same on every run and in every process,
    so a service's URL needs no store of its own; it tells nothing of the secret, nor of another role's."""
    digest = hmac.digest(secret.encode(), role.encode(), "sha256")
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def with_login(url: str, user: str, password: str | None, dbname: str) -> str:
    """`url` with its user, password and database replaced (host, port and query kept)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    login = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
    return urlunsplit((parts.scheme, f"{login}@{host}", "/" + dbname, parts.query, parts.fragment))


def redacted(url: str) -> str:
    """`url` fit to print: the password replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{parts.username}:***@{host}", parts.path, parts.query, parts.fragment))


async def _create_owned_database(admin_dsn: str, name: str, password: str, owner_password: str) -> None:
    """Database `name`, owned by the login role `name_owner` (who runs the migrations), and the login role `name`
    the service runs as, with only what it needs: INSERT and SELECT on the append-only history, the usual rights on
    the rest (docs/adr/0030-tamper-evident-history.md). Neither may create roles or databases, nor is a superuser;
    only they may connect. Idempotent; also takes over a database from before (owned by the admin, ADR 0022, or by
    the service's role itself, before ADR 0030)."""
    runtime, owner = _quote_ident(name), _quote_ident(owner_role(name))
    conn = await asyncpg.connect(admin_dsn)
    try:
        superuser = bool(await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        for role, secret in ((owner_role(name), owner_password), (name, password)):
            await _ensure_login_role(conn, role, secret, superuser)
        # A member of a role may become it (SET ROLE): the service's role must never be one of the owner's.
        if await conn.fetchval("SELECT pg_has_role($1, $2, 'MEMBER')", name, owner_role(name)):
            await conn.execute(f"REVOKE {owner} FROM {runtime}")
        current = await conn.fetchval(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", name
        )
        if current is None:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f"CREATE DATABASE {runtime} OWNER {owner}")
        elif current != owner_role(name):
            await conn.execute(f"ALTER DATABASE {runtime} OWNER TO {owner}")
        await conn.execute(f"REVOKE ALL ON DATABASE {runtime} FROM PUBLIC")
        await conn.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {runtime} TO {runtime}")
    finally:
        await conn.close()
    await _settle_database(_on_database(admin_dsn, name), name)


async def _ensure_login_role(conn: asyncpg.Connection, role: str, password: str, superuser: bool) -> None:
    if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
        # Created concurrently by someone else between the check and here: just as good.
        with contextlib.suppress(asyncpg.DuplicateObjectError):
            await conn.execute(f"CREATE ROLE {_quote_ident(role)}")
    # Every run: the attributes and password are what this code says, whatever they were before.
    # (A utility statement takes no parameters; the password is base64url, quoted all the same.)
    await conn.execute(
        f"ALTER ROLE {_quote_ident(role)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
        f"PASSWORD {_quote_literal(password)}"
    )
    if not superuser:
        # A CREATEROLE administrator may give a database (and its objects) only to a role it is a member of.
        await conn.execute(f"GRANT {_quote_ident(role)} TO current_user")


def owner_role(name: str) -> str:
    """The role that owns database `name` and runs its migrations; `name` itself is the service's role."""
    return f"{name}{OWNER_SUFFIX}"


async def _settle_database(admin_dsn: str, name: str) -> None:
    """Inside database `name`: everything owned by the owner role, and the service's role granted what it needs —
    on what exists now and, through default privileges, on what the owner's migrations create later — except
    UPDATE, DELETE and TRUNCATE on the append-only tables (btkernel.history.APPEND_ONLY_TABLES)."""
    runtime, owner = _quote_ident(name), _quote_ident(owner_role(name))
    conn = await asyncpg.connect(admin_dsn)
    try:
        async with conn.transaction():
            # What the service's role made when it owned the database (before ADR 0030) is the owner's now.
            await conn.execute(f"REASSIGN OWNED BY {runtime} TO {owner}")
            await _hand_over_tables(conn, owner_role(name))
            await conn.execute(f"GRANT USAGE ON SCHEMA public TO {runtime}")
            await conn.execute(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
                f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {runtime}"
            )
            await conn.execute(
                f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public"
                f" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {runtime}"
            )
            await conn.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {runtime}"
            )
            await conn.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {runtime}")
            # In the same transaction: no moment where the service's role could change the history.
            for table in APPEND_ONLY_TABLES:
                if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"public.{table}"):
                    await conn.execute(
                        f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON public.{_quote_ident(table)}"
                        f" FROM {runtime}"
                    )
    finally:
        await conn.close()


def _on_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


async def _hand_over_tables(conn: asyncpg.Connection, role: str) -> None:
    """Tables (with their sequences and indexes) and views made by the admin in a database from before ADR 0022
    go to the database's owner role, so that its migrations own what they touch."""
    rows = await conn.fetch(
        "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_get_userbyid(c.relowner) <> $1"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'",
        role,
    )
    for row in rows:
        await conn.execute(f"ALTER TABLE {row['name']} OWNER TO {_quote_ident(role)}")


async def _drop_owned_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
        await conn.execute(f"DROP ROLE IF EXISTS {_quote_ident(name)}")
        await conn.execute(f"DROP ROLE IF EXISTS {_quote_ident(owner_role(name))}")
    finally:
        await conn.close()


def clusters_root() -> Path:
    """The folder of the clusters that the `postgres` OS user owns: its home (Debian: /var/lib/postgresql),
    which it can always enter, wherever the checkout is — a clone in a 0700 home folder is closed to it."""
    if override := os.environ.get(CLUSTERS_ENV):
        return Path(override)
    home = Path(pwd.getpwnam(OS_USER).pw_dir)
    return (home if home.is_dir() else Path("/var/tmp")) / "bt-clusters"


def cluster_dir_for(workdir: Path) -> Path:
    """One folder per work folder (so per clone for `make run`), named by a hash of its absolute path: the same
    clone finds its data again, two clones never share a cluster."""
    key = hashlib.sha256(str(workdir.resolve()).encode()).hexdigest()[:16]
    return clusters_root() / key


class PostgresServer:
    """A private cluster for `workdir` on 127.0.0.1:<port>; every connection needs a password (scram-sha-256).

    The `postgres` superuser's password is generated at initdb and kept, 0600, in `password_path`; each
    database's own role has a password derived from it (`derived_password`). A cluster from before (trust)
    gets its password at the next start.

    Run by an ordinary user, the cluster is in `workdir`. Run as root, the cluster belongs to the `postgres`
    OS user and lives in a folder of its own (`cluster_dir_for`), so that it works from any checkout; `workdir`
    then holds the server's log and `cluster`, a symbolic link to that folder.

    An existing cluster is reused, so `make run` keeps its data. `fast` turns durability off, which is what
    tests want and what nothing else should have.
    """

    def __init__(self, workdir: Path, port: int, fast: bool = False) -> None:
        self.workdir = workdir
        self.port = port
        self.fast = fast
        self._as_user = OS_USER if os.geteuid() == 0 else None
        self.cluster_dir = cluster_dir_for(workdir) if self._as_user is not None else workdir
        self.data_dir = self.cluster_dir / "data"
        self.socket_dir = self.cluster_dir / "socket"
        # Written through a descriptor we open before dropping root: the log may stay in the work folder.
        self.log_path = workdir / "postgres.log"
        self.password_path = self.cluster_dir / PASSWORD_FILE
        self.process: ChildProcess | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def dsn(self, dbname: str) -> str:
        """As the database's own role (ADR 0022)."""
        url = f"postgresql://127.0.0.1:{self.port}/"
        return with_login(url, dbname, derived_password(self._superuser_password(), dbname), dbname)

    def owner_dsn(self, dbname: str) -> str:
        """As the database's owner role, for migrations (ADR 0030)."""
        url = f"postgresql://127.0.0.1:{self.port}/"
        owner = owner_role(dbname)
        return with_login(url, owner, derived_password(self._superuser_password(), owner), dbname)

    def admin_dsn(self, dbname: str = "postgres") -> str:
        url = f"postgresql://127.0.0.1:{self.port}/"
        return with_login(url, SUPERUSER, self._superuser_password(), dbname)

    def start(self, timeout: float = 60.0) -> None:
        bindir = find_bindir()
        self._prepare_dirs()
        had_password = self.password_path.exists()
        self._ensure_password_file()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bindir)
        elif not had_password:
            self._set_superuser_password(bindir)
        self._write_hba()
        argv = [
            str(bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-k",
            str(self.socket_dir),
            "-c",
            "password_encryption=scram-sha-256",
        ]
        if self.fast:
            argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        # SIGINT is PostgreSQL's "fast shutdown": roll back open transactions, checkpoint, exit.
        self.process = ChildProcess(
            "postgres",
            argv,
            log_path=self.log_path,
            cwd=self.cluster_dir,
            user=self._as_user,
            stop_signal=signal.SIGINT,
            stop_timeout=20.0,
        )
        self.process.start()
        self._wait_ready(timeout)

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is not None:
            self.process.stop(timeout)

    def remove(self) -> None:
        """Stop, and delete the cluster with its data: for throwaway clusters (tests). The log stays."""
        self.stop()
        for folder in (self.data_dir, self.socket_dir):
            shutil.rmtree(folder, ignore_errors=True)
        if self.cluster_dir != self.workdir:
            shutil.rmtree(self.cluster_dir, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                (self.workdir / "cluster").unlink()

    async def create_database(self, name: str) -> str:
        """Create `name` and its role unless they exist; returns the role's DSN."""
        secret = self._superuser_password()
        await _create_owned_database(
            self.admin_dsn(),
            name,
            derived_password(secret, name),
            derived_password(secret, owner_role(name)),
        )
        return self.dsn(name)

    async def drop_database(self, name: str) -> None:
        await _drop_owned_database(self.admin_dsn(), name)

    def _superuser_password(self) -> str:
        try:
            return self.password_path.read_text().strip()
        except FileNotFoundError:
            raise RuntimeError(
                f"no superuser password at {self.password_path}: start() the server first"
            ) from None

    def _ensure_password_file(self) -> None:
        """The superuser's password, made once, readable only by us and the cluster's OS user (who owns the
        data anyway); initdb reads it from there as that user."""
        if self.password_path.exists():
            return
        fd = os.open(self.password_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_password() + "\n")
        self._give_to_os_user(self.password_path)

    def _give_to_os_user(self, path: Path) -> None:
        if self._as_user is not None:
            account = pwd.getpwnam(self._as_user)
            os.chown(path, account.pw_uid, account.pw_gid)

    def _write_hba(self) -> None:
        path = self.data_dir / "pg_hba.conf"
        path.write_text(HBA_CONF)
        path.chmod(0o600)
        self._give_to_os_user(path)

    def _set_superuser_password(self, bindir: Path) -> None:
        """A cluster from before passwords (trust): the superuser gets its password in single-user mode, with
        no connection open to anyone, before the server listens under the new pg_hba.conf."""
        statement = (
            f"ALTER ROLE {_quote_ident(SUPERUSER)} PASSWORD {_quote_literal(self._superuser_password())}"
        )
        done = subprocess.run(
            [
                str(bindir / "postgres"),
                "--single",
                "-D",
                str(self.data_dir),
                "-c",
                "password_encryption=scram-sha-256",
                "postgres",
            ],
            input=statement + "\n",
            cwd=self.cluster_dir,
            capture_output=True,
            text=True,
            check=False,
            user=self._as_user,
            group=self._as_user,
            extra_groups=[] if self._as_user is not None else None,
        )
        if done.returncode != 0 or "ERROR" in done.stdout + done.stderr:
            raise RuntimeError(f"could not set the superuser's password:\n{done.stdout}{done.stderr}")

    def _prepare_dirs(self) -> None:
        if self._as_user is not None:
            # Before our own folder exists: a work folder deleted (`make clean`) means its data goes too.
            _sweep_orphans(clusters_root())
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self._as_user is not None:
            self._prepare_cluster_dir(self._as_user)
        # A Unix socket path is limited to about 107 bytes; a deep folder gets its socket elsewhere.
        if len(str(self.socket_dir / f".s.PGSQL.{self.port}")) > 100:
            self.socket_dir = Path(tempfile.mkdtemp(prefix="bt-pgsock-"))
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self._as_user is None:
            return
        account = pwd.getpwnam(self._as_user)
        os.chown(self.socket_dir, account.pw_uid, account.pw_gid)
        probe = subprocess.run(
            ["test", "-w", str(self.cluster_dir), "-a", "-w", str(self.socket_dir)],
            user=self._as_user,
            check=False,
        )
        if probe.returncode != 0:
            raise RuntimeError(
                f"the {self._as_user} OS user cannot write {self.cluster_dir} (a parent folder is closed to "
                f"it); point {CLUSTERS_ENV} at a folder it can reach, or set DATABASE_URL"
            )

    def _prepare_cluster_dir(self, user: str) -> None:
        """The cluster's folder under `clusters_root()`, owned by `user`, and the link to it from the work folder."""
        account = pwd.getpwnam(user)
        root = clusters_root()
        if not root.is_dir():
            root.mkdir(parents=True, exist_ok=True)
            # Only the cluster owner may look inside: the data folders would be 0700 anyway.
            os.chown(root, account.pw_uid, account.pw_gid)
            root.chmod(0o700)
        self.cluster_dir.mkdir(exist_ok=True)
        os.chown(self.cluster_dir, account.pw_uid, account.pw_gid)
        (self.cluster_dir / OWNER_FILE).write_text(f"{self.workdir.resolve()}\n")
        link = self.workdir / "cluster"
        if link.is_symlink() and link.readlink() == self.cluster_dir:
            return
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(self.cluster_dir, target_is_directory=True)

    def _initdb(self, bindir: Path) -> None:
        argv = [
            str(bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "--auth=scram-sha-256",
            f"--pwfile={self.password_path}",
            f"--username={SUPERUSER}",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
        if self.fast:
            argv.append("--no-sync")  # nothing to keep if the machine crashes mid-test
        done = subprocess.run(
            argv,
            cwd=self.cluster_dir,
            capture_output=True,
            text=True,
            check=False,
            user=self._as_user,
            group=self._as_user,
            extra_groups=[] if self._as_user is not None else None,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}{done.stderr}")

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while True:
            self.process.check_alive("starting")
            try:
                run_sync(_ping(self.admin_dsn()))
                return
            except (OSError, asyncpg.PostgresError) as exc:
                last = repr(exc)  # refused, or "the database system is starting up"
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"PostgreSQL not ready on port {self.port} after {timeout:.0f} s ({last}); "
                    f"last lines of {self.log_path}:\n{self.process.log_tail()}"
                )
            time.sleep(0.1)


def _sweep_orphans(root: Path) -> None:
    """Delete the clusters whose work folder is gone (a test session's temporary folder, a deleted clone) and
    whose server is not running; left alone, each would keep its data for ever."""
    if not root.is_dir():
        return
    for cluster in root.iterdir():
        try:
            owner = Path((cluster / OWNER_FILE).read_text().strip())
        except (FileNotFoundError, NotADirectoryError):
            continue  # not one of ours, or still being made
        if owner.exists() or _postmaster_alive(cluster / "data"):
            continue
        shutil.rmtree(cluster, ignore_errors=True)


def _postmaster_alive(data_dir: Path) -> bool:
    """Whether the server that wrote `postmaster.pid` still runs (a stale file after a crash says nothing)."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _ping(dsn: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=2)
    await conn.close()


class ExternalPostgres:
    """A server someone else runs, given as DATABASE_URL; databases are created on it next to the URL's own.

    When the URL's user may create roles (superuser, or CREATEROLE and CREATEDB), each database gets its own
    role as on our own server; otherwise every service uses the URL as given, which start() says in the log.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        # The roles' passwords derive from the URL's password, or from a secret of this process without one.
        self._secret = urlsplit(url).password or new_password()
        self.roles = False

    @property
    def pid(self) -> int | None:
        return None

    def start(self) -> None:
        self.roles = run_sync(_may_create_roles(self._admin_url()))
        if not self.roles:
            log.warning(
                "DATABASE_URL's user %s may not create roles: every service connects as that user",
                urlsplit(self.url).username,
            )

    def stop(self) -> None:
        pass

    def dsn(self, dbname: str) -> str:
        if not self.roles:
            return _on_database(self.url, dbname)
        return with_login(self.url, dbname, derived_password(self._secret, dbname), dbname)

    def owner_dsn(self, dbname: str) -> str:
        if not self.roles:
            return _on_database(self.url, dbname)
        owner = owner_role(dbname)
        return with_login(self.url, owner, derived_password(self._secret, owner), dbname)

    def admin_dsn(self, dbname: str = "postgres") -> str:
        return _on_database(self.url, dbname)

    async def create_database(self, name: str) -> str:
        if self.roles:
            await _create_owned_database(
                self._admin_url(),
                name,
                derived_password(self._secret, name),
                derived_password(self._secret, owner_role(name)),
            )
        else:
            await _create_database(self._admin_url(), name)
        return self.dsn(name)

    async def drop_database(self, name: str) -> None:
        if self.roles:
            await _drop_owned_database(self._admin_url(), name)
        else:
            await _drop_database(self._admin_url(), name)

    def _admin_url(self) -> str:
        # The URL's own database is where we are allowed in; with none given, "postgres" is the usual one.
        return self.url if urlsplit(self.url).path.strip("/") else self.admin_dsn()


async def _may_create_roles(admin_dsn: str) -> bool:
    conn = await asyncpg.connect(admin_dsn)
    try:
        row = await conn.fetchrow(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
    finally:
        await conn.close()
    return bool(row and (row["rolsuper"] or (row["rolcreaterole"] and row["rolcreatedb"])))


async def _create_database(admin_dsn: str, name: str) -> None:
    """Without roles: the database, owned by the URL's user."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):
            await conn.execute(f"CREATE DATABASE {_quote_ident(name)}")
    finally:
        await conn.close()


async def _drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
    finally:
        await conn.close()


def postgres_from_env(workdir: Path, port: int, fast: bool = False) -> PostgresServer | ExternalPostgres:
    """DATABASE_URL, when set, wins over starting our own server."""
    url = os.environ.get("DATABASE_URL")
    return ExternalPostgres(url) if url else PostgresServer(workdir, port, fast)
