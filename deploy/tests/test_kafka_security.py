"""The broker enforces who reads and writes what (issue 9, docs/adr/0023-kafka-principals-and-acls.md), shown with
an independent client: `kcat` (Debian's package; see `kcat()` below for the librdkafka it runs with)."""

from __future__ import annotations

import atexit
import functools
import glob
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from btdeploy import partners
from btdeploy.kafka import KafkaServer
from btdeploy.kafka_access import partner_principal, partner_topic, service_principal
from btdeploy.kafka_admin import KafkaAdmin
from btkernel.envelope import Envelope
from btkernel.topics import TopicSpec
from civreg import topics

pytestmark = pytest.mark.integration

# Two agencies with contracts (civreg.partners): one reads, the other's topic is what it must not read. The marker
# record this module writes is not a partner event: the agency is one whose topic no other test reads (the e2e
# tests of the feeds read kz-statistics and kz-population-register, and so does the example consumer's).
AGENCY = "kg-social-fund"
OTHER_AGENCY = "kz-tax-authority"
Login = tuple[str, str]


@functools.cache
def _librdkafka_dir() -> str:
    """Debian bookworm's kcat links librdkafka 2.0.2, whose SCRAM client-final message Kafka 4.x rejects (fixed in
    librdkafka 2.6.1, confluentinc/librdkafka#4895). The same kcat runs with the newer librdkafka that the locked
    confluent-kafka wheel carries; the ABI is stable across 2.x."""
    import confluent_kafka

    site = Path(confluent_kafka.__file__).parent.parent
    found = glob.glob(str(site / "confluent_kafka.libs" / "librdkafka*.so.1"))
    if not found:
        pytest.fail("no librdkafka in the confluent-kafka wheel to run kcat with")
    folder = tempfile.mkdtemp(prefix="bt-rdkafka-")
    # Gone with the test process: one such folder per run was left in /tmp.
    atexit.register(shutil.rmtree, folder, True)
    os.symlink(found[0], os.path.join(folder, "librdkafka.so.1"))
    return folder


def kcat(
    bootstrap: str, *args: str, login: Login | None = None, stdin: str | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("kcat")
    if exe is None:
        pytest.fail("kcat is not installed: `make test` installs it (Debian package kcat)")
    argv = [exe, "-b", bootstrap]
    if login is not None:
        argv += ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanisms=SCRAM-SHA-512"]
        argv += ["-X", f"sasl.username={login[0]}", "-X", f"sasl.password={login[1]}"]
    env = {**os.environ, "LD_LIBRARY_PATH": _librdkafka_dir()}
    return subprocess.run(
        [*argv, *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def _login(server: KafkaServer, principal: str) -> Login:
    return principal, server.password_of(principal)


def _read(server: KafkaServer, topic: str, login: Login) -> subprocess.CompletedProcess[str]:
    return kcat(server.bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n", login=login)


def _denied(done: subprocess.CompletedProcess[str]) -> bool:
    return done.returncode != 0 and "authorization failed" in done.stderr.lower()


def _onboard(server: KafkaServer, agency: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    argv = ["--bootstrap", server.bootstrap, "--secret-file", str(server.secret_path)]
    assert partners.main([*argv, "onboard", agency, "--json", "--gateway", "http://gw.test"]) == 0
    printed: dict[str, Any] = json.loads(capsys.readouterr().out)
    return printed


def _revoke(server: KafkaServer, agency: str) -> None:
    argv = ["--bootstrap", server.bootstrap, "--secret-file", str(server.secret_path)]
    assert partners.main([*argv, "revoke", agency]) == 0


# -- authentication ------------------------------------------------------------------------------------------


def test_the_kcat_used_here_speaks_scram_with_this_broker(kafka_server: KafkaServer) -> None:
    done = kcat(kafka_server.bootstrap, "-L", "-m", "10", login=_login(kafka_server, "bt-admin"))
    assert done.returncode == 0, done.stderr
    assert topics.APPLICATION in done.stdout


def test_an_anonymous_client_is_refused(kafka_server: KafkaServer) -> None:
    done = kcat(kafka_server.bootstrap, "-L", "-m", "5")
    assert done.returncode != 0
    assert "Failed to acquire metadata" in done.stderr
    assert topics.APPLICATION not in done.stdout


def test_a_wrong_password_is_refused(kafka_server: KafkaServer) -> None:
    done = kcat(kafka_server.bootstrap, "-L", "-m", "5", login=("bt-admin", "not-the-password"))
    assert done.returncode != 0
    assert "Authentication failed" in done.stderr


def test_the_controller_port_refuses_clients(kafka_server: KafkaServer) -> None:
    controller = f"127.0.0.1:{kafka_server.controller_port}"
    anonymous = kcat(controller, "-L", "-m", "5")
    assert anonymous.returncode != 0
    # Not even the administrator's SCRAM login: the controller takes only its own static PLAIN user.
    admin = kcat(controller, "-L", "-m", "5", login=_login(kafka_server, "bt-admin"))
    assert admin.returncode != 0
    assert "PLAIN" in admin.stderr  # "broker's supported mechanisms: PLAIN"
    guessed = kcat(
        controller,
        "-L",
        "-m",
        "5",
        "-X",
        "security.protocol=SASL_PLAINTEXT",
        "-X",
        "sasl.mechanisms=PLAIN",
        "-X",
        "sasl.username=bt-controller",
        "-X",
        "sasl.password=guess",
    )
    assert guessed.returncode != 0
    assert "Authentication failed" in guessed.stderr


# -- services ------------------------------------------------------------------------------------------------


def _probe(n: int) -> tuple[str, list[str]]:
    """A well-formed CloudEvent of a type no consumer acts on (they skip it): safe on the shared topic."""
    env = Envelope.new(
        type="kz.civreg.test.acl-probe.v1",
        source="/tests/kafka-security",
        subject=f"probe-{uuid.uuid4().hex[:8]}",
        data={"n": n},
        correlation_id=None,
        causation_id=None,
    )
    _key, value, headers = env.to_kafka()
    args = []
    for name, raw in headers:
        args += ["-H", f"{name}={raw.decode()}"]
    return value.decode(), args


def test_only_intake_writes_the_application_topic(kafka_server: KafkaServer) -> None:
    value, headers = _probe(1)
    for other in ("fee", "registry", "notification", "gateway"):
        done = kcat(
            kafka_server.bootstrap,
            "-P",
            "-t",
            topics.APPLICATION,
            *headers,
            login=_login(kafka_server, service_principal(other)),
            stdin=value,
        )
        assert _denied(done), (other, done.stderr)
    done = kcat(
        kafka_server.bootstrap,
        "-P",
        "-t",
        topics.APPLICATION,
        *headers,
        login=_login(kafka_server, service_principal("intake")),
        stdin=value,
    )
    assert done.returncode == 0, done.stderr


def test_a_service_reads_only_what_it_consumes(kafka_server: KafkaServer) -> None:
    fee = _login(kafka_server, service_principal("fee"))
    assert _denied(_read(kafka_server, topics.RECORD, fee))
    assert _denied(_read(kafka_server, topics.CASE, fee))
    assert _read(kafka_server, topics.APPLICATION, fee).returncode == 0


def test_only_the_administrator_creates_topics_and_nothing_is_created_automatically(
    kafka_server: KafkaServer, kafka_admin: KafkaAdmin
) -> None:
    name = f"partner.unsolicited-{uuid.uuid4().hex[:6]}"
    # The registry may write every partner.* topic, but not create one.
    registry = KafkaAdmin(kafka_server.client_options(service_principal("registry")), timeout_s=10)
    with pytest.raises(RuntimeError, match=r"(?i)authoriz"):
        registry.ensure_topics([TopicSpec(name, partitions=1)])
    # Producing to a topic that does not exist fails, even for the administrator, and creates nothing.
    done = kcat(
        kafka_server.bootstrap,
        "-P",
        "-t",
        name,
        "-X",
        "message.timeout.ms=4000",
        login=_login(kafka_server, "bt-admin"),
        stdin="x",
    )
    assert done.returncode != 0
    assert name not in kafka_admin.topic_names()


# -- partner agencies ----------------------------------------------------------------------------------------


def test_a_partner_reads_its_topic_and_nothing_else_until_revoked(
    kafka_server: KafkaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    printed = _onboard(kafka_server, AGENCY, capsys)
    _onboard(kafka_server, OTHER_AGENCY, capsys)
    assert printed["username"] == partner_principal(AGENCY)
    assert printed["topic"] == partner_topic(AGENCY)
    assert printed["group_prefix"] == f"partner.{AGENCY}."
    assert printed["signing_keys_url"] == "http://gw.test/.well-known/bt-partner-keys.json"
    assert (printed["security_protocol"], printed["sasl_mechanism"]) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")
    login = (printed["username"], printed["password"])
    # The password is nowhere in clear beside the broker.
    for path in kafka_server.workdir.iterdir():
        if path.is_file():
            assert printed["password"] not in path.read_text(errors="replace")

    marker = f"record-{uuid.uuid4().hex}"
    admin = _login(kafka_server, "bt-admin")
    sent = kcat(
        kafka_server.bootstrap, "-P", "-t", partner_topic(AGENCY), "-k", marker, login=admin, stdin=marker
    )
    assert sent.returncode == 0, sent.stderr

    # Its topic, without a group and under a group of its prefix.
    assert marker in _read(kafka_server, partner_topic(AGENCY), login).stdout
    grouped = kcat(
        kafka_server.bootstrap,
        "-G",
        f"partner.{AGENCY}.reader",
        "-X",
        "auto.offset.reset=earliest",
        partner_topic(AGENCY),
        "-e",
        "-q",
        "-f",
        "%s\n",
        login=login,
    )
    assert marker in grouped.stdout, grouped.stderr
    foreign_group = kcat(
        kafka_server.bootstrap,
        "-G",
        f"partner.{OTHER_AGENCY}.reader",
        "-X",
        "auto.offset.reset=earliest",
        partner_topic(AGENCY),
        "-e",
        "-q",
        login=login,
        timeout=60,
    )
    assert foreign_group.returncode != 0 or marker not in foreign_group.stdout

    # Not another agency's topic, not one internal topic; the metadata does not even list them.
    for topic in [partner_topic(OTHER_AGENCY), *topics.ENTITY_TOPICS, f"{topics.RECORD}.dlq"]:
        assert _denied(_read(kafka_server, topic, login)), topic
    listed = kcat(kafka_server.bootstrap, "-L", "-m", "10", login=login)
    assert listed.returncode == 0, listed.stderr
    assert partner_topic(AGENCY) in listed.stdout
    assert "civreg." not in listed.stdout
    assert partner_topic(OTHER_AGENCY) not in listed.stdout
    # It cannot write, not even its own topic.
    assert _denied(
        kcat(kafka_server.bootstrap, "-P", "-t", partner_topic(AGENCY), login=login, stdin="forged")
    )

    _revoke(kafka_server, AGENCY)
    after = kcat(kafka_server.bootstrap, "-L", "-m", "5", login=login)
    assert after.returncode != 0
    assert "Authentication failed" in after.stderr
    # The topic stays for the agency's return (and the publisher keeps filling it).
    assert marker in _read(kafka_server, partner_topic(AGENCY), admin).stdout


def test_onboarding_refuses_an_agency_without_a_contract(
    kafka_server: KafkaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--bootstrap", kafka_server.bootstrap, "--secret-file", str(kafka_server.secret_path)]
    assert partners.main([*argv, "onboard", "acme-spies"]) == 2
    assert "no partner contract" in capsys.readouterr().err
    assert partners.main([*argv, "onboard", "Not_An_Id"]) == 2


def test_onboarding_again_replaces_the_password(
    kafka_server: KafkaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _onboard(kafka_server, OTHER_AGENCY, capsys)
    second = _onboard(kafka_server, OTHER_AGENCY, capsys)
    assert first["password"] != second["password"]
    old = kcat(kafka_server.bootstrap, "-L", "-m", "5", login=(first["username"], first["password"]))
    new = kcat(kafka_server.bootstrap, "-L", "-m", "5", login=(second["username"], second["password"]))
    assert old.returncode != 0
    assert new.returncode == 0
    _revoke(kafka_server, OTHER_AGENCY)
