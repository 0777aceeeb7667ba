"""Apache Kafka from Maven Central: fetch the broker's jars, run one KRaft node (or a cluster of three) on loopback
with SASL and ACLs."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from btdeploy import paths
from btdeploy.aio import run_sync
from btdeploy.kafka_access import ADMIN, CONTROLLER, SERVICE_ACCESS, SUPER_USERS, contracted_partner_topics
from btdeploy.kafka_admin import KafkaAdmin
from btdeploy.postgres import derived_password, new_password
from btdeploy.processes import ChildProcess
from btkernel.kafka_client import SASL_MECHANISM, sasl_options
from civreg.topics import TopicSpec

# Beside the broker's data, 0600: the administrator's SCRAM password, from which every other principal's password
# is derived (as PostgreSQL's superuser password, ADR 0022; docs/adr/0023-kafka-principals-and-acls.md).
ADMIN_SECRET_FILE = "admin.secret"


def pom_path() -> Path:
    return paths.kafka_dir() / "pom.xml"


def log4j_config_path() -> Path:
    return paths.kafka_dir() / "log4j2.properties"


def default_lib_dir() -> Path:
    return paths.cache_dir() / "kafka" / "lib"


def fetch(lib_dir: Path | None = None, *, quiet: bool = False) -> Path:
    """Copy the broker's runtime jars into `lib_dir` with Maven, unless the stamp says this pom is already there.

    The jars land in a fresh folder that replaces the old one only when Maven succeeded: after a version change
    two kafka-clients jars on one classpath would fail in confusing ways.
    """
    lib_dir = lib_dir or default_lib_dir()
    pom = pom_path()
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    stamp = lib_dir.with_name(lib_dir.name + ".stamp")
    if _stamp_matches(stamp, digest, lib_dir):
        return lib_dir
    lib_dir.parent.mkdir(parents=True, exist_ok=True)
    # `make run` and a test session may fetch at the same time; one waits for the other.
    with (lib_dir.parent / ".fetch.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stamp_matches(stamp, digest, lib_dir):
            return lib_dir
        if not quiet:
            print(f"fetching Apache Kafka jars from Maven Central into {lib_dir} ...", flush=True)
        staging = lib_dir.with_name(lib_dir.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError("Maven (mvn) is not on PATH; it is needed once to fetch Kafka's jars")
        argv = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ]
        done = subprocess.run(argv, cwd=paths.repo_root(), capture_output=True, text=True, check=False)
        if done.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            output = (done.stdout + done.stderr).strip().splitlines()[-40:]
            raise RuntimeError(f"fetching Kafka with Maven failed ({' '.join(argv)}):\n" + "\n".join(output))
        shutil.rmtree(lib_dir, ignore_errors=True)
        staging.rename(lib_dir)
        stamp.write_text(digest + "\n")
    return lib_dir


def _stamp_matches(stamp: Path, digest: str, lib_dir: Path) -> bool:
    try:
        return stamp.read_text().strip() == digest and any(lib_dir.glob("kafka_2.13-*.jar"))
    except FileNotFoundError:
        return False


def new_cluster_id() -> str:
    """What StorageTool's random-uuid prints: base64url of 16 random bytes without padding, never starting '-'."""
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def min_insync(replication: int) -> int:
    """Replicas that must have a write before it is acknowledged (acks=all): a majority, so that one node away
    neither loses an acknowledged event nor stops writes; 1 on a single node."""
    return replication // 2 + 1


@dataclass(frozen=True)
class ClusterNode:
    """What a node of a KafkaCluster shares with the others: the cluster id it is formatted with, the static
    quorum (`controller.quorum.voters`), the administrator's secret and the replication factor."""

    node_id: int
    cluster_id: str
    voters: str  # "1@127.0.0.1:<cport>,2@…,3@…"
    secret_path: Path
    replication: int


class BrokerLogins:
    """Who logs in to a broker (one node or a cluster) and what the administrator provisions there: the one place
    for both. A subclass sets `bootstrap`, `secret_path` and `replication`."""

    secret_path: Path
    replication: int

    @property
    def bootstrap(self) -> str:
        raise NotImplementedError

    def admin_secret(self) -> str:
        return read_secret(self.secret_path)

    def password_of(self, principal: str) -> str:
        """A principal's password: the administrator's secret itself, or derived from it for everyone else."""
        secret = self.admin_secret()
        return secret if principal == ADMIN else derived_password(secret, principal)

    def client_options(self, principal: str) -> dict[str, Any]:
        """aiokafka options to log in as `principal` (btkernel.kafka_client)."""
        return sasl_options(self.bootstrap, principal, self.password_of(principal))

    def admin_options(self) -> dict[str, Any]:
        return self.client_options(ADMIN)

    def admin(self) -> KafkaAdmin:
        return KafkaAdmin(self.admin_options())

    def provision(self, specs: Iterable[TopicSpec]) -> None:
        """As the administrator: the platform's topics (and the contracted agencies'), and every service's
        principal with exactly its ACLs."""
        admin = self.admin()
        admin.ensure_topics([*specs, *contracted_partner_topics()], replication_factor=self.replication)
        for access in SERVICE_ACCESS:
            admin.ensure_principal(access.principal, self.password_of(access.principal), access.grants())


class KafkaServer(BrokerLogins):
    """One combined broker+controller KRaft node on 127.0.0.1, its data and log in `workdir`.

    Clients log in with SASL/SCRAM-SHA-512 on the client port; the controller port takes only the broker itself
    (SASL/PLAIN, a static user); the StandardAuthorizer denies whatever no ACL allows; topics are never created
    automatically (docs/adr/0023-kafka-principals-and-acls.md).

    A workdir that was formatted before is reused as it is, so `make run` keeps its topics between runs; one
    formatted before SASL (no administrator secret beside it) is upgraded in place at the next start.
    """

    NODE_ID = 1
    CLIENT_LISTENER = "CLIENT"
    CONTROLLER_LISTENER = "CONTROLLER"

    def __init__(
        self,
        workdir: Path,
        port: int,
        controller_port: int,
        *,
        lib_dir: Path | None = None,
        heap: str = "512m",
        node: ClusterNode | None = None,
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.controller_port = controller_port
        self.lib_dir = lib_dir or default_lib_dir()
        self.heap = heap
        # None: one node on its own (`make run`, the test session); else one voter of a KafkaCluster.
        self.node = node
        self.node_id = node.node_id if node is not None else self.NODE_ID
        self.replication = node.replication if node is not None else 1
        self.data_dir = workdir / "data"
        self.properties_path = workdir / "server.properties"
        self.log_path = workdir / "kafka.log"
        self.secret_path = node.secret_path if node is not None else workdir / ADMIN_SECRET_FILE
        self.process: ChildProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    # -- lifecycle --

    def start(self, timeout: float = 90.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Format storage if new and start the JVM without waiting, so PostgreSQL can start meanwhile."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "meta.properties").exists():
            # A cluster's nodes share the secret their KafkaCluster wrote before launching any of them.
            if self.node is None or not self.secret_path.exists():
                write_secret(self.secret_path, new_password())
            secret = self.admin_secret()
            self._write_properties(self.server_properties())
            self._format(secret)
        elif not self.secret_path.exists():
            self._upgrade_in_place()
        self._write_properties(self.server_properties())
        self.process = self._jvm()
        self.process.start()

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Poll a metadata request until the broker lists itself; fail with the log tail if it dies or times out."""
        self._wait_ready(self.admin_options(), timeout)

    def _wait_ready(self, options: dict[str, Any], timeout: float) -> None:
        process = self.process
        if process is None:
            raise RuntimeError("KafkaServer.wait_ready() before launch()")
        deadline = time.monotonic() + timeout
        while True:
            process.check_alive("starting")
            if run_sync(self._broker_registered(options)):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Kafka not ready on {self.bootstrap} after {timeout:.0f} s; last lines of {self.log_path}:\n"
                    f"{process.log_tail()}"
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is not None:
            self.process.stop(timeout)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    # -- configuration --

    def server_properties(self) -> str:
        port, cport = self.port, self.controller_port
        client, controller = self.CLIENT_LISTENER, self.CONTROLLER_LISTENER
        admin_password = self.password_of(ADMIN)
        controller_password = self.password_of(CONTROLLER)
        settings = {
            **self._common_settings(),
            "listeners": f"{client}://127.0.0.1:{port},{controller}://127.0.0.1:{cport}",
            "advertised.listeners": f"{client}://127.0.0.1:{port},{controller}://127.0.0.1:{cport}",
            "controller.listener.names": controller,
            "inter.broker.listener.name": client,
            "listener.security.protocol.map": f"{client}:SASL_PLAINTEXT,{controller}:SASL_PLAINTEXT",
            # Clients: SCRAM only, credentials in the cluster metadata (the administrator's since formatting).
            f"listener.name.{client.lower()}.sasl.enabled.mechanisms": SASL_MECHANISM,
            "sasl.mechanism.inter.broker.protocol": SASL_MECHANISM,
            f"listener.name.{client.lower()}.{SASL_MECHANISM.lower()}.sasl.jaas.config": _jaas(
                "org.apache.kafka.common.security.scram.ScramLoginModule", ADMIN, admin_password
            ),
            # The controller: PLAIN with one static user, the broker itself. No ANONYMOUS super user: a local
            # process that reaches this port without the password is refused at the handshake.
            f"listener.name.{controller.lower()}.sasl.enabled.mechanisms": "PLAIN",
            "sasl.mechanism.controller.protocol": "PLAIN",
            f"listener.name.{controller.lower()}.plain.sasl.jaas.config": _jaas(
                "org.apache.kafka.common.security.plain.PlainLoginModule",
                CONTROLLER,
                controller_password,
                {f"user_{CONTROLLER}": controller_password},
            ),
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": ";".join(f"User:{user}" for user in SUPER_USERS),
            # Topics are created by btdeploy as the administrator, with their configs (kafka_admin).
            "auto.create.topics.enable": "false",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _plaintext_properties(self) -> str:
        """The configuration from before SASL, for the one start that upgrades such a workdir."""
        port, cport = self.port, self.controller_port
        settings = {
            **self._common_settings(),
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "auto.create.topics.enable": "false",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _common_settings(self) -> dict[str, str]:
        if self.node is None:
            quorum = {"controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}"}
        else:
            # A static quorum of every voter: 2 of 3 elect a leader, so the cluster outlives one node. A node that
            # stops heart-beating is fenced after 3 s (default 9 s) and its partitions' leadership moves: on
            # loopback a missed beat is a dead process, not a slow network.
            quorum = {
                "controller.quorum.voters": self.node.voters,
                "broker.heartbeat.interval.ms": "500",
                "broker.session.timeout.ms": "3000",
            }
        # One node: every internal topic can have only one replica, and acks=all means "this one". Three: each
        # partition on all three, a write acknowledged once two have it, so one node can die without losing an
        # acknowledged event or refusing writes (docs/adr/0029-more-than-one-machine.md).
        rf, isr = str(self.replication), str(min_insync(self.replication))
        return {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            **quorum,
            "log.dirs": str(self.data_dir),
            "offsets.topic.replication.factor": rf,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": isr,
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": isr,
            "default.replication.factor": rf,
            "min.insync.replicas": isr,
            # Test speed: no waiting for more group members, small internal topics that are created fast.
            "group.initial.rebalance.delay.ms": "0",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.num.partitions": "1",
            "num.partitions": "1",
        }

    def _write_properties(self, text: str) -> None:
        # It holds the administrator's and the controller's passwords: 0600, created so, never readable by others.
        fd = os.open(self.properties_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        self.properties_path.chmod(0o600)

    def _jvm(self) -> ChildProcess:
        return ChildProcess(
            "kafka",
            [*self._java(), f"-Xms{self.heap}", f"-Xmx{self.heap}", "kafka.Kafka", str(self.properties_path)],
            log_path=self.log_path,
            cwd=self.workdir,
            # The broker shuts down cleanly on SIGTERM in about two seconds.
            stop_timeout=20.0,
        )

    def _java(self) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("java (17+) is not on PATH; Kafka needs it")
        if not any(self.lib_dir.glob("kafka_2.13-*.jar")):
            raise RuntimeError(f"no Kafka jars in {self.lib_dir}: run `python -m btdeploy kafka-fetch` first")
        return [
            java,
            "-Djava.awt.headless=true",
            # C1 only: on a 2-core machine the C2 compiler was half of a fresh broker's CPU under load (7 of 15 ms
            # per submission, 8 s of CPU at start) and still compiling minutes later; C1's code is a little slower
            # per request but the broker's total is a third lower and it starts faster (issue 13, ADR 0043). A
            # long-lived broker of a real deployment (deploy/k8s, Strimzi) keeps the JVM's defaults.
            "-XX:TieredStopAtLevel=1",
            f"-Dlog4j2.configurationFile={log4j_config_path()}",
            "-cp",
            f"{self.lib_dir}/*",
        ]

    def _format(self, admin_secret: str) -> None:
        """Format with the administrator's SCRAM credential in the first metadata: without it nobody could log in
        to create the others."""
        cluster_id = new_cluster_id() if self.node is None else self.node.cluster_id
        argv = [
            *self._java(),
            "kafka.tools.StorageTool",
            "format",
            # One node elects itself; a cluster's nodes find each other through controller.quorum.voters.
            *(["--standalone"] if self.node is None else []),
            "-t",
            cluster_id,
            "-c",
            str(self.properties_path),
            "--add-scram",
            f"{SASL_MECHANISM}=[name={ADMIN},password={admin_secret}]",
        ]
        done = subprocess.run(argv, cwd=self.workdir, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"formatting Kafka storage failed:\n{done.stdout}{done.stderr}")

    def _upgrade_in_place(self) -> None:
        """A workdir formatted before SASL (an older `make run`): start it once as it was, PLAINTEXT and without
        an authorizer, add the administrator's SCRAM credential through the Admin API, stop; its topics and
        offsets stay. The secret is written last, so an interrupted upgrade is simply done again."""
        print(
            f"Kafka data in {self.data_dir} is from before SASL/ACLs: adding the administrator's credential in place"
            " (one extra start of the broker)",
            file=sys.stderr,
            flush=True,
        )
        secret = new_password()
        self._write_properties(self._plaintext_properties())
        self.process = self._jvm()
        self.process.start()
        try:
            self._wait_ready({"bootstrap_servers": self.bootstrap}, 90.0)
            plain = KafkaAdmin({"bootstrap_servers": self.bootstrap, "security_protocol": "PLAINTEXT"})
            plain.upsert_user(ADMIN, secret)
        finally:
            self.process.stop(20.0)
            self.process = None
        write_secret(self.secret_path, secret)

    async def _broker_registered(self, options: dict[str, Any]) -> bool:
        # A plain connect first: aiokafka logs every refused connection, which would flood a starting test run.
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        writer.close()
        await writer.wait_closed()
        client = AIOKafkaClient(**options, request_timeout_ms=2000)
        try:
            await client.bootstrap()
            return any(broker.nodeId == self.node_id for broker in client.cluster.brokers())
        except (KafkaError, OSError):  # TimeoutError is an OSError
            return False
        finally:
            await client.close()


def _jaas(module: str, username: str, password: str, extra: dict[str, str] | None = None) -> str:
    options = {"username": username, "password": password, **(extra or {})}
    return f"{module} required " + " ".join(f'{k}="{v}"' for k, v in options.items()) + ";"


def read_secret(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise RuntimeError(
            f"no Kafka administrator secret at {path}: is this the workdir of a broker btdeploy formatted?"
        ) from None


def write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    tmp.chmod(0o600)
    tmp.rename(path)
