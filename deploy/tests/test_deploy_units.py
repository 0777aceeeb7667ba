"""Quick checks of btdeploy's pieces that need no servers: ports, URLs, the SMTP sink, the stack's env."""

from __future__ import annotations

import os
import signal
import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from btdeploy.kafka import KafkaServer, new_cluster_id, write_secret
from btdeploy.ports import free_port, free_ports
from btdeploy.postgres import CLUSTERS_ENV, ExternalPostgres, _sweep_orphans, cluster_dir_for
from btdeploy.processes import ChildProcess
from btdeploy.smtp_sink import SmtpSink
from btdeploy.stack import PortPlan, Stack


def test_free_ports_are_distinct() -> None:
    ports = free_ports(5)
    assert len(set(ports)) == 5
    assert 0 < free_port() < 65536


def test_external_postgres_swaps_the_database_name() -> None:
    pg = ExternalPostgres("postgresql://u:p@db.example:5432/main?sslmode=require")
    assert pg.dsn("bt_intake") == "postgresql://u:p@db.example:5432/bt_intake?sslmode=require"


def test_cluster_id_is_unpadded_base64url_of_16_bytes() -> None:
    cluster_id = new_cluster_id()
    assert len(cluster_id) == 22
    assert not cluster_id.startswith("-")


def test_server_properties_are_a_single_loopback_kraft_node_that_authenticates(tmp_path: Path) -> None:
    server = KafkaServer(tmp_path, 9092, 9093)
    write_secret(server.secret_path, "s3cret")
    props = server.server_properties()
    assert "process.roles=broker,controller\n" in props
    assert "listeners=CLIENT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093\n" in props
    assert "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT\n" in props
    assert "allow.everyone.if.no.acl.found=false\n" in props
    assert "auto.create.topics.enable=false\n" in props
    assert "super.users=User:bt-admin;User:bt-controller\n" in props
    assert "ANONYMOUS" not in props
    assert "min.insync.replicas=1\n" in props
    # Services' passwords derive from the secret, differ from each other and do not reveal it.
    assert server.password_of("bt-admin") == "s3cret"
    assert len({server.password_of("bt-fee"), server.password_of("bt-intake"), "s3cret"}) == 3


def test_smtp_sink_keeps_messages(tmp_path: Path) -> None:
    sink = SmtpSink(free_port(), tmp_path)
    sink.start()
    try:
        message = EmailMessage()
        message["From"] = "no-reply@birtereze.local"
        message["To"] = "citizen@example.kz"
        message["Subject"] = "Ваше заявление принято"
        message.set_content("Расписка № 1")
        with smtplib.SMTP(sink.host, sink.port) as client:
            client.send_message(message)
        [got] = sink.wait_for("Citizen@example.kz", timeout=5)
    finally:
        sink.stop()
    assert got.subject == "Ваше заявление принято"
    assert got.text().strip() == "Расписка № 1"
    assert got.path is not None
    assert got.path.suffix == ".eml"
    assert b"Subject:" in got.path.read_bytes()
    assert sink.messages_to("someone@else.kz") == []


def test_child_process_stops_and_kills_by_pid(tmp_path: Path) -> None:
    child = ChildProcess("sleeper", ["sleep", "60"], log_path=tmp_path / "sleep.log", stop_timeout=5)
    child.start()
    assert child.running
    child.stop()
    assert not child.running
    assert child.returncode == -signal.SIGTERM
    child.start()
    child.kill()
    assert child.returncode == -signal.SIGKILL
    assert (tmp_path / "sleep.log").read_text().count("starting sleeper") == 2


def test_gateway_env_points_at_the_other_services(tmp_path: Path) -> None:
    stack = Stack(
        tmp_path, PortPlan.fixed(), postgres=ExternalPostgres("postgresql://postgres@127.0.0.1:1/x")
    )
    write_secret(stack.kafka.secret_path, "s3cret")  # what formatting the broker leaves beside its data
    env = stack.env_for("gateway")
    assert env["BT_INTAKE_URL"] == "http://127.0.0.1:8001"
    assert env["BT_FEE_URL"] == "http://127.0.0.1:8004"
    assert env["BT_DATABASE_URL"].endswith("/bt_gateway")
    notification = stack.env_for("notification", BT_RELAY_ENABLED="false")
    assert notification["BT_SMTP_PORT"] == "8025"
    assert notification["BT_RELAY_ENABLED"] == "false"
    # Each service logs in to Kafka as its own principal (ADR 0023).
    assert (notification["BT_KAFKA_USERNAME"], env["BT_KAFKA_USERNAME"]) == ("bt-notification", "bt-gateway")
    assert notification["BT_KAFKA_PASSWORD"] == stack.kafka.password_of("bt-notification") != "s3cret"
    # Migrations are the stack's pre-start step; the services only verify their schema (ADR 0015).
    assert env["BT_MIGRATE_ON_START"] == notification["BT_MIGRATE_ON_START"] == "false"
    with pytest.raises(KeyError):
        stack.env_for("nonexistent")


def test_clusters_whose_work_folder_is_gone_are_swept(tmp_path: Path) -> None:
    root, clone = tmp_path / "clusters", tmp_path / "clone"
    clone.mkdir()

    def cluster(name: str, owner: Path | None, pid: int | None = None) -> Path:
        folder = root / name
        (folder / "data").mkdir(parents=True)
        if owner is not None:
            (folder / "workdir").write_text(f"{owner}\n")
        if pid is not None:
            (folder / "data" / "postmaster.pid").write_text(f"{pid}\n/some/data\n")
        return folder

    orphan = cluster("orphan", tmp_path / "deleted-clone")
    crashed = cluster("crashed", tmp_path / "deleted-too", pid=_exited_pid(tmp_path))
    kept = cluster("kept", clone)
    running = cluster("running", tmp_path / "deleted-while-running", pid=os.getpid())
    unknown = cluster("unknown", None)
    _sweep_orphans(root)
    assert not orphan.exists()
    assert not crashed.exists()
    assert kept.exists()
    assert running.exists()
    assert unknown.exists()


def _exited_pid(tmp_path: Path) -> int:
    child = ChildProcess("true", ["true"], log_path=tmp_path / "true.log")
    child.start()
    child.wait(10)
    assert child.pid is not None
    return child.pid


def test_each_work_folder_has_its_own_cluster_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CLUSTERS_ENV, str(tmp_path / "clusters"))
    first, second = cluster_dir_for(tmp_path / "a" / ".run"), cluster_dir_for(tmp_path / "b" / ".run")
    assert first != second
    assert first.parent == second.parent == tmp_path / "clusters"
    assert cluster_dir_for(tmp_path / "a" / "x" / ".." / ".run") == first
