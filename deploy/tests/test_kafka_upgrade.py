"""A `make run` workdir formatted before SASL/ACLs (no administrator secret) is upgraded in place at the next start:
its topics and records stay, and from then on it takes only SCRAM logins (ADR 0023)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from btdeploy import kafka as kafka_mod
from btdeploy.kafka import KafkaServer, new_cluster_id
from btdeploy.kafka_admin import KafkaAdmin
from btdeploy.ports import free_ports
from btkernel.topics import TopicSpec

pytestmark = pytest.mark.integration


def _format_as_before(server: KafkaServer) -> None:
    """What the previous btdeploy did: PLAINTEXT listeners, no authorizer, no SCRAM user in the metadata."""
    server.workdir.mkdir(parents=True, exist_ok=True)
    server.properties_path.write_text(server._plaintext_properties())
    argv = [
        *server._java(),
        "kafka.tools.StorageTool",
        "format",
        "--standalone",
        "-t",
        new_cluster_id(),
        "-c",
        str(server.properties_path),
    ]
    subprocess.run(argv, cwd=server.workdir, capture_output=True, text=True, check=True)


async def _produce(bootstrap: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _first(options: dict[str, object], topic: str) -> bytes | None:
    consumer = AIOKafkaConsumer(topic, **options, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    return record.value


def test_a_workdir_from_before_sasl_keeps_its_data(bt_workdir: Path) -> None:
    kafka_mod.fetch()
    port, controller_port = free_ports(2)
    server = KafkaServer(bt_workdir / "kafka-upgrade", port, controller_port)
    _format_as_before(server)
    server.process = server._jvm()
    server.process.start()
    try:
        server._wait_ready({"bootstrap_servers": server.bootstrap}, 90.0)
        KafkaAdmin({"bootstrap_servers": server.bootstrap, "security_protocol": "PLAINTEXT"}).ensure_topics(
            [TopicSpec("civreg.record", partitions=1, retention_ms=-1)]
        )
        asyncio.run(_produce(server.bootstrap, "civreg.record", b"registered before the upgrade"))
    finally:
        server.stop()
    assert not server.secret_path.exists()

    server.start()  # upgrades: one PLAINTEXT start to add the administrator's credential, then SASL
    try:
        assert server.secret_path.stat().st_mode & 0o777 == 0o600
        assert server.properties_path.stat().st_mode & 0o777 == 0o600
        assert (
            asyncio.run(_first(server.admin_options(), "civreg.record")) == b"registered before the upgrade"
        )
        with pytest.raises(Exception):  # noqa: B017,PT011  anonymous is refused now (a timeout or a closed socket)
            asyncio.run(asyncio.wait_for(_produce(server.bootstrap, "civreg.record", b"anonymous"), 10))
    finally:
        server.stop()
