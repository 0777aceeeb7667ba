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
    ServiceAccess("intake", publishes=(topics.APPLICATION,), consumes=(topics.CASE, topics.RECORD)),
    ServiceAccess(
        "registry",
        publishes=(topics.CASE, topics.RECORD),
        consumes=(topics.APPLICATION, topics.CASE, topics.NOTIFICATION),
        extra=_PARTNER_PUBLISHER,
    ),
    ServiceAccess(
        "notification", publishes=(topics.NOTIFICATION,), consumes=(topics.APPLICATION, topics.CASE)
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
    """Its own topic only (READ, DESCRIBE), under groups of its own prefix; nothing else, not even a list."""
    return frozenset(
        {
            Grant("topic", partner_topic(agency), "literal", "READ"),
            Grant("topic", partner_topic(agency), "literal", "DESCRIBE"),
            Grant("group", partner_group_prefix(agency), "prefixed", "READ"),
        }
    )


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
    return tuple(partner_topic_spec(agency) for agency in sorted(known_agencies() or {}))
