"""PostgreSQL for the platform: a private server from the machine's binaries, or an external one by URL."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from btdeploy.aio import run_sync
from btdeploy.processes import ChildProcess

# initdb and postgres refuse to run as root; this OS user owns the cluster instead.
OS_USER = "postgres"
SUPERUSER = "postgres"
# Where a cluster owned by OS_USER lives, unless BT_PG_CLUSTERS names another folder.
CLUSTERS_ENV = "BT_PG_CLUSTERS"
# In a cluster's folder: the work folder it belongs to (read by the sweep of orphans, and by a curious person).
OWNER_FILE = "workdir"


class Postgres(Protocol):
    """What the stack and the fixtures need from PostgreSQL, local or external."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def dsn(self, dbname: str) -> str: ...
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


async def _create_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return
        # Created concurrently by someone else between the check and here: just as good.
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
    """A private cluster for `workdir` on 127.0.0.1:<port>, trust auth for the `postgres` superuser.

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
        self.process: ChildProcess | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def dsn(self, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def start(self, timeout: float = 60.0) -> None:
        bindir = find_bindir()
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bindir)
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
        """Create `name` unless it exists; returns its DSN."""
        await _create_database(self.dsn("postgres"), name)
        return self.dsn(name)

    async def drop_database(self, name: str) -> None:
        await _drop_database(self.dsn("postgres"), name)

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
            "--auth=trust",
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
                run_sync(_ping(self.dsn("postgres")))
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
    """A server someone else runs, given as DATABASE_URL; databases are created on it next to the URL's own."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def pid(self) -> int | None:
        return None

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def dsn(self, dbname: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))

    async def create_database(self, name: str) -> str:
        await _create_database(self._admin_dsn(), name)
        return self.dsn(name)

    async def drop_database(self, name: str) -> None:
        await _drop_database(self._admin_dsn(), name)

    def _admin_dsn(self) -> str:
        # The URL's own database is where we are allowed in; with none given, "postgres" is the usual one.
        return self.url if urlsplit(self.url).path.strip("/") else self.dsn("postgres")


def postgres_from_env(workdir: Path, port: int, fast: bool = False) -> PostgresServer | ExternalPostgres:
    """DATABASE_URL, when set, wins over starting our own server."""
    url = os.environ.get("DATABASE_URL")
    return ExternalPostgres(url) if url else PostgresServer(workdir, port, fast)
