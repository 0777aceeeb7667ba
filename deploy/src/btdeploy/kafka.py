"""Apache Kafka from Maven Central: fetch the broker's jars, run one KRaft node on loopback, create topics."""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError

from btdeploy import paths
from btdeploy.aio import run_sync
from btdeploy.processes import ChildProcess
from civreg.topics import TopicSpec

# CreateTopics error code for "already exists": creating topics is idempotent for us.
_TOPIC_ALREADY_EXISTS = 36


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


class KafkaServer:
    """One combined broker+controller KRaft node on 127.0.0.1, its data and log in `workdir`.

    A workdir that was formatted before is reused as it is, so `make run` keeps its topics between runs.
    """

    NODE_ID = 1

    def __init__(
        self,
        workdir: Path,
        port: int,
        controller_port: int,
        *,
        lib_dir: Path | None = None,
        heap: str = "512m",
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.controller_port = controller_port
        self.lib_dir = lib_dir or default_lib_dir()
        self.heap = heap
        self.data_dir = workdir / "data"
        self.properties_path = workdir / "server.properties"
        self.log_path = workdir / "kafka.log"
        self.process: ChildProcess | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float = 90.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Format storage if new and start the JVM without waiting, so PostgreSQL can start meanwhile."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.properties_path.write_text(self.server_properties())
        if not (self.data_dir / "meta.properties").exists():
            self._format()
        self.process = ChildProcess(
            "kafka",
            [*self._java(), f"-Xms{self.heap}", f"-Xmx{self.heap}", "kafka.Kafka", str(self.properties_path)],
            log_path=self.log_path,
            cwd=self.workdir,
            # The broker shuts down cleanly on SIGTERM in about two seconds.
            stop_timeout=20.0,
        )
        self.process.start()

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Poll a metadata request until the broker lists itself; fail with the log tail if it dies or times out."""
        process = self.process
        if process is None:
            raise RuntimeError("KafkaServer.wait_ready() before launch()")
        deadline = time.monotonic() + timeout
        while True:
            process.check_alive("starting")
            if run_sync(self._broker_registered()):
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

    def server_properties(self) -> str:
        port, cport = self.port, self.controller_port
        settings = {
            "process.roles": "broker,controller",
            "node.id": str(self.NODE_ID),
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{cport}",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            # One node: every internal topic can have only one replica, and acks=all means "this one".
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "min.insync.replicas": "1",
            # Test speed: no waiting for more group members, small internal topics that are created fast.
            "group.initial.rebalance.delay.ms": "0",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.num.partitions": "1",
            # The platform's topics are created by btdeploy; tests may still produce to throwaway topics.
            "auto.create.topics.enable": "true",
            "num.partitions": "1",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _java(self) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("java (17+) is not on PATH; Kafka needs it")
        if not any(self.lib_dir.glob("kafka_2.13-*.jar")):
            raise RuntimeError(f"no Kafka jars in {self.lib_dir}: run `python -m btdeploy kafka-fetch` first")
        return [
            java,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j_config_path()}",
            "-cp",
            f"{self.lib_dir}/*",
        ]

    def _format(self) -> None:
        cluster_id = new_cluster_id()
        argv = [
            *self._java(),
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            cluster_id,
            "-c",
            str(self.properties_path),
        ]
        done = subprocess.run(argv, cwd=self.workdir, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"formatting Kafka storage failed:\n{done.stdout}{done.stderr}")

    async def _broker_registered(self) -> bool:
        # A plain connect first: aiokafka logs every refused connection, which would flood a starting test run.
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        writer.close()
        await writer.wait_closed()
        client = AIOKafkaClient(bootstrap_servers=self.bootstrap, request_timeout_ms=2000)
        try:
            await client.bootstrap()
            return any(broker.nodeId == self.NODE_ID for broker in client.cluster.brokers())
        except (KafkaError, OSError):  # TimeoutError is an OSError
            return False
        finally:
            await client.close()


async def create_topics(
    bootstrap: str, specs: Iterable[TopicSpec], *, replication_factor: int = 1, wait_s: float = 30.0
) -> None:
    """Create the topics that do not exist yet (existing ones are left as they are) and wait until all are listed."""
    specs = list(specs)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(wait_s * 1000))
    await admin.start()
    try:
        new_topics = [
            NewTopic(
                spec.name,
                spec.partitions,
                replication_factor,
                topic_configs={"retention.ms": str(spec.retention_ms)},
            )
            for spec in specs
        ]
        response = await admin.create_topics(new_topics, timeout_ms=int(wait_s * 1000))
        failures = [
            f"{error[0]}: error {error[1]} {error[2] if len(error) > 2 else ''}"
            for error in response.topic_errors
            if error[1] not in (0, _TOPIC_ALREADY_EXISTS)
        ]
        if failures:
            raise RuntimeError("creating Kafka topics failed: " + "; ".join(failures))
        # Creation is asynchronous in the controller; callers produce right after this returns.
        wanted = {spec.name for spec in specs}
        deadline = time.monotonic() + wait_s
        while not wanted <= set(await admin.list_topics()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"topics not listed after {wait_s:.0f} s: {sorted(wanted)}")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
