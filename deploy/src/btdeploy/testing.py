"""pytest plugin: real PostgreSQL, Kafka, an SMTP sink and the whole stack on free ports, once per test session.

Fixtures are synchronous (async work runs in a helper thread's own loop), so they serve sync and async tests
alike, whatever loop scope pytest-asyncio gives the test. Everything started here is stopped by pid when the
session ends, and only when some test asked for it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from btdeploy import kafka as kafka_mod
from btdeploy.aio import run_sync
from btdeploy.kafka import KafkaServer
from btdeploy.kafka_admin import KafkaAdmin
from btdeploy.payment_gateway_standin import StandinProcess
from btdeploy.ports import free_port, free_ports
from btdeploy.postgres import ExternalPostgres, PostgresServer, postgres_from_env
from btdeploy.smtp_sink import SmtpSink
from btdeploy.stack import SERVICE_NAMES, PortPlan, Stack
from btkernel import testing as kernel_testing
from btkernel.topics import TopicSpec, dead_letter_topic
from civreg.topics import ALL_TOPICS

# In-process apps trust this session's test key (btkernel.testing.actor_headers), addressed to any service of
# the platform; set before a test imports an app module, whose module-level app reads the environment. The
# stack's processes get the stack's own key instead (Stack.env_for).
kernel_testing.trust_test_key(SERVICE_NAMES)


@pytest.fixture(scope="session")
def bt_workdir() -> Iterator[Path]:
    """One folder for the session's servers, removed at the end.

    Not pytest's tmp_path: that lives under a 0700 folder the `postgres` OS user cannot enter.
    """
    path = Path(tempfile.mkdtemp(prefix="bt-test-"))
    path.chmod(0o755)
    yield path
    if not os.environ.get("BT_KEEP_TEST_DIRS"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server(bt_workdir: Path) -> Iterator[PostgresServer | ExternalPostgres]:
    """A fast (no fsync) private PostgreSQL, or the server of DATABASE_URL when that is set."""
    server = postgres_from_env(bt_workdir / "postgres", free_port(), fast=True)
    try:
        server.start()
        yield server
    finally:
        # Run as root, the cluster is outside bt_workdir (see PostgresServer) and goes with its own remove().
        if isinstance(server, PostgresServer) and not os.environ.get("BT_KEEP_TEST_DIRS"):
            server.remove()
        else:
            server.stop()


@pytest.fixture(scope="session")
def kafka_server(bt_workdir: Path) -> Iterator[KafkaServer]:
    """A single-node Kafka as `make run` has it (SASL/SCRAM, ACLs, no automatic topics), with every platform topic
    and every service's principal created (ADR 0023)."""
    kafka_mod.fetch()
    port, controller_port = free_ports(2)
    server = KafkaServer(bt_workdir / "kafka", port, controller_port)
    try:
        server.start()
        server.provision(ALL_TOPICS)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_server: KafkaServer) -> str:
    return kafka_server.bootstrap


@pytest.fixture(scope="session")
def kafka_options(kafka_server: KafkaServer) -> dict[str, Any]:
    """aiokafka options of the administrator (btkernel.kafka_client): for tests' own producers and readers."""
    return kafka_server.admin_options()


@pytest.fixture(scope="session")
def kafka_admin(kafka_server: KafkaServer) -> KafkaAdmin:
    return kafka_server.admin()


class TopicFactory:
    """`make_topic()` creates a fresh topic (and its dead-letter topic) as the administrator and returns its name:
    the broker creates no topic by itself."""

    def __init__(self, admin: KafkaAdmin) -> None:
        self.admin = admin

    def __call__(self, prefix: str = "test", *, partitions: int = 3, dead_letters: bool = True) -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:12]}"
        specs = [TopicSpec(name, partitions=partitions)]
        if dead_letters:
            specs.append(TopicSpec(dead_letter_topic(name), partitions=1))
        self.admin.ensure_topics(specs)
        return name


@pytest.fixture(scope="session")
def make_topic(kafka_admin: KafkaAdmin) -> TopicFactory:
    return TopicFactory(kafka_admin)


class DatabaseFactory:
    """`await make_database()` (or `.sync()` from sync code) gives the DSN of a new, empty database, as the login
    role that owns it (no superuser, ADR 0022) — the one that runs migrations, so a test migrates and runs on one
    DSN. `runtime_dsn(dsn)` is the same database as the service's own role, which cannot change the history
    (ADR 0030)."""

    def __init__(self, server: PostgresServer | ExternalPostgres) -> None:
        self.server = server
        self.created: list[str] = []

    async def __call__(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        await self.server.create_database(name)
        self.created.append(name)
        return self.server.owner_dsn(name)

    def runtime_dsn(self, dsn: str) -> str:
        """The database of `dsn` (one this factory made), as the service's own role."""
        return self.server.dsn(urlsplit(dsn).path.strip("/"))

    def sync(self, prefix: str = "t") -> str:
        return run_sync(self(prefix))


@pytest.fixture(scope="session")
def make_database(postgres_server: PostgresServer | ExternalPostgres) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(postgres_server)
    yield factory
    # Our own server's folder goes away with the session; someone else's server is left as we found it.
    if isinstance(postgres_server, ExternalPostgres):
        for name in factory.created:
            run_sync(postgres_server.drop_database(name))


@pytest.fixture(scope="session")
def smtp_sink(bt_workdir: Path) -> Iterator[SmtpSink]:
    """Catches the platform's mail; tests look only at their own unique recipient (`messages_to`)."""
    sink = SmtpSink(free_port(), bt_workdir / "mail")
    try:
        sink.start()
        yield sink
    finally:
        sink.stop()


@pytest.fixture(scope="session")
def stack(
    bt_workdir: Path,
    postgres_server: PostgresServer | ExternalPostgres,
    kafka_server: KafkaServer,
    smtp_sink: SmtpSink,
) -> Iterator[Stack]:
    """The five services as processes, sharing the session's PostgreSQL, Kafka and SMTP sink; the SMS sink and the
    payment gateway's stand-in are the stack's own, as in `make run`."""
    whole = Stack(
        bt_workdir / "stack",
        PortPlan.free(),
        env_name="test",
        fast=True,
        postgres=postgres_server,
        kafka=kafka_server,
        smtp=smtp_sink,
    )
    whole.start()  # cleans up after itself when it fails
    try:
        yield whole
    finally:
        whole.stop()


@pytest.fixture(scope="session")
def payment_gateway(stack: Stack) -> StandinProcess:
    """The stack's stand-in of the e-government payment gateway, to drive from a test (ADR 0034)."""
    return stack.payment_gateway


# The agency that decides the Kyrgyz social services (ADR 0040); onboarded ONCE per session, because onboarding
# again replaces the password and would lock out the stand-in that runs with the first one.
DECIDING_AGENCY = "kg-mlsd"


@pytest.fixture(scope="session")
def deciding_agency(kafka_server: KafkaServer) -> Any:
    """`btdeploy.partners.PartnerConnection` of the deciding agency: its own SCRAM login, topics and ACLs."""
    from btdeploy import partners

    return partners.onboard(
        kafka_server.admin(), DECIDING_AGENCY, bootstrap=kafka_server.bootstrap, gateway_url="http://gw.test"
    )


@pytest.fixture(scope="session")
def agency_standin(stack: Stack, deciding_agency: Any) -> Iterator[Any]:
    """The deciding agency as its own process (btdeploy.agency_standin) on the session's stack, verifying requests
    against the gateway's published keys; stopped by its pid when the session ends."""
    from btdeploy.agency_standin import AgencyStandinProcess, with_gateway

    standin = AgencyStandinProcess(
        stack.run_dir / "agency-standin", with_gateway(deciding_agency, stack.url("gateway"))
    )
    standin.start()
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture
def clock_at() -> Iterator[Callable[[dt.datetime], None]]:
    """Moves this process's clock (`btkernel.clock`) to a fixed moment; put back when the test ends.

    Call it after the app under test is built: `create_app` sets the clock from the service's settings.
    """
    from btkernel import clock

    before = clock.offset_s()
    yield clock.travel_to
    clock.set_offset(before)
