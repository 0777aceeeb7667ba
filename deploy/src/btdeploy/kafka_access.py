"""Who may do what on the broker, as data: one SCRAM principal per service with least-privilege ACLs, and what a
partner agency gets when it is onboarded (docs/adr/0023-kafka-principals-and-acls.md).

A service WRITEs the topics it publishes (its outbox topics; it READs them too, without a group, when its relay takes
over: btkernel.outbox_takeover) and the dead-letter topics of the topics it consumes
(btkernel.consumer dead-letters to `<topic>.dlq`), READs what it consumes, under consumer groups named
`<service>.<x>`, and may DESCRIBE the shared review group of dead letters (btkernel.health reads its offsets; only the
administrator commits to it). WRITE and READ imply DESCRIBE, which is all /health needs of a topic (end offsets,
committed offsets). `deploy/tests/test_kafka_access.py` compares this table with what the services really consume
(their ConsumerSpecs) and publish (the topics of the events they construct), so it cannot drift.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from btkernel.health import DLQ_REVIEWED_GROUP
from btkernel.topics import TopicSpec, dead_letter_topic
from civreg import topics
from civreg.partners.agency_services import answers_topic, requests_topic
from civreg.partners.contracts import deciding_agencies

ResourceKind = Literal["topic", "group", "transactional_id"]
Pattern = Literal["literal", "prefixed"]
Operation = Literal["READ", "WRITE", "DESCRIBE", "DELETE"]

ADMIN = "bt-admin"
# The broker's own login on the controller listener (SASL/PLAIN, static): never a client's.
CONTROLLER = "bt-controller"
SUPER_USERS = (ADMIN, CONTROLLER)


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL for a principal on any host."""

    kind: ResourceKind
    name: str
    pattern: Pattern
    operation: Operation


@dataclass(frozen=True)
class ServiceAccess:
    service: str
    publishes: tuple[str, ...] = ()
    consumes: tuple[str, ...] = ()
    # What the service does beyond its outbox and its ConsumerSpecs (the partner publisher's topics).
    extra: tuple[Grant, ...] = field(default=())

    @property
    def principal(self) -> str:
        return service_principal(self.service)

    @property
    def group_prefix(self) -> str:
        return f"{self.service}."

    def grants(self) -> frozenset[Grant]:
        out: set[Grant] = set(self.extra)
        for topic in self.publishes:
            out.add(Grant("topic", topic, "literal", "WRITE"))
            # A relay taking over reads back what its dead predecessor sent but did not mark
            # (btkernel.outbox_takeover): no group, partitions assigned by hand.
            out.add(Grant("topic", topic, "literal", "READ"))
        if self.publishes:
            # The relay sends each round in a transaction of its own id, `<service>.outbox.<database>`
            # (btkernel.outbox.relay_transactional_id).
            out.add(Grant("transactional_id", f"{self.service}.outbox.", "prefixed", "WRITE"))
            out.add(Grant("transactional_id", f"{self.service}.outbox.", "prefixed", "DESCRIBE"))
        for topic in self.consumes:
            out.add(Grant("topic", topic, "literal", "READ"))
            out.add(Grant("topic", dead_letter_topic(topic), "literal", "WRITE"))
        if self.consumes:
            out.add(Grant("group", self.group_prefix, "prefixed", "READ"))
            out.add(Grant("group", DLQ_REVIEWED_GROUP, "literal", "DESCRIBE"))
        return frozenset(out)


def service_principal(service: str) -> str:
    return f"bt-{service}"


# The partner publisher in the registry service (issue 9, "Partner contracts"): it reads the record stream under a
# `registry.` group and writes every agency's `partner.<agency>` topic in transactions of its own id prefix.
PARTNER_TOPIC_PREFIX = "partner."
PARTNER_TRANSACTIONAL_PREFIX = "registry.partners"
_PARTNER_PUBLISHER = (
    Grant("topic", topics.RECORD, "literal", "READ"),
    Grant("topic", PARTNER_TOPIC_PREFIX, "prefixed", "WRITE"),
    Grant("topic", PARTNER_TOPIC_PREFIX, "prefixed", "DESCRIBE"),
    # Re-publication truncates an agency's topic (DeleteRecords) before publishing it again from the beginning.
    Grant("topic", PARTNER_TOPIC_PREFIX, "prefixed", "DELETE"),
    Grant("transactional_id", PARTNER_TRANSACTIONAL_PREFIX, "prefixed", "WRITE"),
    Grant("transactional_id", PARTNER_TRANSACTIONAL_PREFIX, "prefixed", "DESCRIBE"),
    Grant("group", "registry.", "prefixed", "READ"),
)

SERVICE_ACCESS: tuple[ServiceAccess, ...] = (
    ServiceAccess(
        "intake", publishes=(topics.APPLICATION,), consumes=(topics.CASE, topics.RECORD, topics.COMPLAINT)
    ),
    ServiceAccess(
        "registry",
        publishes=(topics.CASE, topics.RECORD, topics.COMPLAINT),
        consumes=(
            topics.APPLICATION,
            topics.CASE,
            topics.NOTIFICATION,
            topics.COMPLAINT,
            # The answers of agencies that decide services' cases (ADR 0040); their requests are `partner.` topics.
            *(answers_topic(agency) for agency in deciding_agencies()),
        ),
        extra=_PARTNER_PUBLISHER,
    ),
    ServiceAccess(
        "notification",
        publishes=(topics.NOTIFICATION,),
        consumes=(topics.APPLICATION, topics.CASE, topics.COMPLAINT),
    ),
    ServiceAccess("fee", publishes=(topics.FEE,), consumes=(topics.APPLICATION,)),
    # The gateway publishes and consumes nothing: its principal exists only so that it never runs as another.
    ServiceAccess("gateway"),
)


def access_of(service: str) -> ServiceAccess:
    for access in SERVICE_ACCESS:
        if access.service == service:
            return access
    raise KeyError(f"no Kafka access for service {service!r}")


# -- partner agencies -----------------------------------------------------------------------------------------

AGENCY_ID = re.compile(r"^[a-z][a-z0-9-]{1,30}$")
# Per-record order holds because the publisher keys each event by its record id; three partitions let an agency
# read with up to three consumers of its group.
PARTNER_PARTITIONS = 3


def partner_principal(agency: str) -> str:
    return f"partner-{agency}"


def partner_topic(agency: str) -> str:
    return f"{PARTNER_TOPIC_PREFIX}{agency}"


def partner_group_prefix(agency: str) -> str:
    return f"{PARTNER_TOPIC_PREFIX}{agency}."


def partner_topic_spec(agency: str) -> TopicSpec:
    # Kept for ever: an agency that joins late, or lost its state, reads its topic from the beginning.
    return TopicSpec(partner_topic(agency), partitions=PARTNER_PARTITIONS, retention_ms=-1)


def partner_grants(agency: str) -> frozenset[Grant]:
    """Its own topic only (READ, DESCRIBE), under groups of its own prefix; nothing else, not even a list. An agency
    that decides services' cases also reads its request topic and writes its answer topic, and nothing more
    (ADR 0040): the answer topic is how the platform knows who answered."""
    grants = {
        Grant("topic", partner_topic(agency), "literal", "READ"),
        Grant("topic", partner_topic(agency), "literal", "DESCRIBE"),
        Grant("group", partner_group_prefix(agency), "prefixed", "READ"),
    }
    if agency in deciding_agencies():
        grants |= {
            Grant("topic", requests_topic(agency), "literal", "READ"),
            Grant("topic", requests_topic(agency), "literal", "DESCRIBE"),
            Grant("topic", answers_topic(agency), "literal", "WRITE"),
            Grant("topic", answers_topic(agency), "literal", "DESCRIBE"),
        }
    return frozenset(grants)


def known_agencies() -> dict[str, str] | None:
    """Agency id → topic from the partner contracts (`civreg.partners.all_contracts()`), or None while that module
    does not exist (a bridge for when it was written in parallel: then any well-formed id is accepted)."""
    try:
        module = importlib.import_module("civreg.partners")
    except ImportError:
        return None
    contracts: Any = getattr(module, "all_contracts", None)
    if contracts is None:
        return None
    return {str(c.agency): str(c.topic) for c in contracts()}


def contracted_partner_topics() -> tuple[TopicSpec, ...]:
    """The topic of every agency with a contract, created with the platform's topics so that the partner publisher
    can fill it before the agency is onboarded (onboarding creates it too, and alone gives access to it)."""
    specs = [partner_topic_spec(agency) for agency in sorted(known_agencies() or {})]
    for agency in deciding_agencies():
        # Requests and answers are kept for ever, like the record stream: a case may wait months at the agency.
        specs.append(TopicSpec(requests_topic(agency), partitions=PARTNER_PARTITIONS, retention_ms=-1))
        specs.append(TopicSpec(answers_topic(agency), partitions=PARTNER_PARTITIONS, retention_ms=-1))
        specs.append(TopicSpec(dead_letter_topic(answers_topic(agency)), partitions=1, retention_ms=-1))
    return tuple(specs)
