"""The broker enforces what an agency that decides services may do (ADR 0040, ADR 0023), shown with the same
independent client as test_kafka_security (kcat): logged in as `partner-kg-mlsd` with its own onboarding, it reads
its request topic, writes only its answer topic, and reads nothing else — not another agency's topic, not the
platform's, not even its own answers back."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from btdeploy.kafka import KafkaServer
from btdeploy.kafka_access import partner_principal, partner_topic
from btdeploy.kafka_admin import KafkaAdmin
from btkernel.topics import TopicSpec, dead_letter_topic
from civreg import topics
from civreg.partners.agency_services import ANSWER_TYPE, answers_topic, requests_topic

sys.path.insert(0, str(Path(__file__).parent))
from test_kafka_security import _denied, _read, kcat

pytestmark = pytest.mark.integration

AGENCY = "kg-mlsd"
# A topic shaped like another deciding agency's answers: the agency must not write it.
FOREIGN_ANSWERS = "agency.kz-acl-probe.answers"


def _answer_headers(application_id: str) -> list[str]:
    """A well-formed answer's CloudEvents headers (binary mode), as kcat `-H` arguments."""
    headers = {
        "ce_specversion": "1.0",
        "ce_id": str(uuid.uuid4()),
        "ce_source": f"/agencies/{AGENCY}",
        "ce_type": ANSWER_TYPE,
        "ce_subject": application_id,
        "content-type": "application/json",
    }
    return [arg for name, value in headers.items() for arg in ("-H", f"{name}={value}")]


def test_the_deciding_agency_reads_its_requests_and_writes_only_its_answers(
    kafka_server: KafkaServer, kafka_admin: KafkaAdmin, deciding_agency: Any
) -> None:
    assert deciding_agency.username == partner_principal(AGENCY)
    login = (deciding_agency.username, deciding_agency.password)
    admin = ("bt-admin", kafka_server.password_of("bt-admin"))
    kafka_admin.ensure_topics([TopicSpec(FOREIGN_ANSWERS, partitions=1)])

    # The platform's request (written here as the administrator) reaches the agency on its request topic.
    marker = f"request-{uuid.uuid4().hex}"
    sent = kcat(
        kafka_server.bootstrap, "-P", "-t", requests_topic(AGENCY), "-k", marker, login=admin, stdin=marker
    )
    assert sent.returncode == 0, sent.stderr
    assert marker in _read(kafka_server, requests_topic(AGENCY), login).stdout
    grouped = kcat(
        kafka_server.bootstrap,
        "-G",
        f"partner.{AGENCY}.acl-proof",
        "-X",
        "auto.offset.reset=earliest",
        requests_topic(AGENCY),
        "-e",
        "-q",
        "-f",
        "%s\n",
        login=login,
    )
    assert marker in grouped.stdout, grouped.stderr

    # It answers on its own answer topic (an answer for no case: the registry dead-letters it, changes nothing).
    application_id = str(uuid.uuid4())
    body = f'{{"application_id": "{application_id}", "kind": "accepted", "at": "2026-12-02T10:00:00+06:00"}}'
    answered = kcat(
        kafka_server.bootstrap,
        "-P",
        "-t",
        answers_topic(AGENCY),
        "-k",
        application_id,
        *_answer_headers(application_id),
        login=login,
        stdin=body,
    )
    assert answered.returncode == 0, answered.stderr

    # Nowhere else: not another agency's answers, not its own request topic, not its records topic, no civreg topic.
    for topic in (
        FOREIGN_ANSWERS,
        requests_topic(AGENCY),
        partner_topic(AGENCY),
        topics.CASE,
        topics.APPLICATION,
    ):
        done = kcat(kafka_server.bootstrap, "-P", "-t", topic, "-k", "x", login=login, stdin="forged")
        assert _denied(done), (topic, done.stderr)

    # It reads nothing but its own topics: not another agency's, not the platform's, not its answers back (only the
    # registry reads those), nor their dead letters.
    unreadable = [
        partner_topic("kz-tax-authority"),
        partner_topic("kg-social-fund"),
        FOREIGN_ANSWERS,
        answers_topic(AGENCY),
        dead_letter_topic(answers_topic(AGENCY)),
        *topics.ENTITY_TOPICS,
    ]
    for topic in unreadable:
        assert _denied(_read(kafka_server, topic, login)), topic
    listed = kcat(kafka_server.bootstrap, "-L", "-m", "10", login=login)
    assert listed.returncode == 0, listed.stderr
    assert requests_topic(AGENCY) in listed.stdout
    assert "civreg." not in listed.stdout
    assert FOREIGN_ANSWERS not in listed.stdout
