"""Strimzi `KafkaTopic` and `KafkaUser` resources from the tables `make run` provisions with (ADR 0023): the topics
of `civreg.topics.ALL_TOPICS` and of every contracted partner agency, and one SCRAM user per service with exactly the
grants of `btdeploy.kafka_access.SERVICE_ACCESS`. The Topic and User Operators then converge the cluster to them,
as `KafkaServer.provision` does on loopback."""

from __future__ import annotations

from typing import Any

from btdeploy.k8s import KAFKA_CLUSTER, NAMESPACE, PART_OF
from btdeploy.kafka_access import (
    ADMIN,
    SERVICE_ACCESS,
    Grant,
    contracted_partner_topics,
    partner_grants,
    partner_principal,
)
from btkernel.topics import TopicSpec
from civreg.topics import ALL_TOPICS

STRIMZI_API = "kafka.strimzi.io/v1"
# Three brokers, every partition on each; a write is acknowledged by two (acks=all), so one broker may be away.
REPLICAS = 3
MIN_INSYNC_REPLICAS = 2
# The partner agency given as the example of onboarding on Kubernetes: its contract exists, so its topic does.
EXAMPLE_AGENCY = "kz-statistics"

_RESOURCE_TYPE = {"topic": "topic", "group": "group", "transactional_id": "transactionalId"}
_PATTERN = {"literal": "literal", "prefixed": "prefix"}


def _metadata(name: str, component: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": NAMESPACE,
        "labels": {
            # The operators act only on resources labelled with their cluster.
            "strimzi.io/cluster": KAFKA_CLUSTER,
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/component": component,
        },
    }


def topic_resource(spec: TopicSpec) -> dict[str, Any]:
    return {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaTopic",
        "metadata": _metadata(spec.name, "kafka-topic"),
        "spec": {
            # Explicit, though equal to the resource's name: a Kubernetes name cannot hold every topic name.
            "topicName": spec.name,
            "partitions": spec.partitions,
            "replicas": REPLICAS,
            "config": {
                "retention.ms": spec.retention_ms,
                "cleanup.policy": "delete",
                "min.insync.replicas": MIN_INSYNC_REPLICAS,
            },
        },
    }


def topics() -> list[dict[str, Any]]:
    specs = [*ALL_TOPICS, *contracted_partner_topics()]
    return [topic_resource(spec) for spec in sorted(specs, key=lambda s: s.name)]


def acls(grants: frozenset[Grant]) -> list[dict[str, Any]]:
    """One rule per resource, with every operation granted on it."""
    operations: dict[tuple[str, str, str], set[str]] = {}
    for grant in grants:
        operations.setdefault((grant.kind, grant.name, grant.pattern), set()).add(
            grant.operation.capitalize()
        )
    return [
        {
            "type": "allow",
            "resource": {"type": _RESOURCE_TYPE[kind], "name": name, "patternType": _PATTERN[pattern]},
            "operations": sorted(ops),
            "host": "*",
        }
        for (kind, name, pattern), ops in sorted(operations.items())
    ]


def user_resource(principal: str, grants: frozenset[Grant] | None, component: str) -> dict[str, Any]:
    """A SCRAM-SHA-512 user; the User Operator generates its password into the Secret `<principal>` (key
    `password`), which the service's pods read. `grants` None: no ACL managed (a super user)."""
    spec: dict[str, Any] = {"authentication": {"type": "scram-sha-512"}}
    if grants is not None:
        # An empty list is still "simple" authorization: the user exists and may do nothing (the gateway).
        spec["authorization"] = {"type": "simple", "acls": acls(grants)}
    return {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaUser",
        "metadata": _metadata(principal, component),
        "spec": spec,
    }


def users() -> list[dict[str, Any]]:
    out = [user_resource(ADMIN, None, "kafka-admin")]
    out += [user_resource(a.principal, a.grants(), "kafka-service-user") for a in SERVICE_ACCESS]
    # The example agency, as `python -m btdeploy partners onboard` would grant it; others follow the same shape.
    out.append(
        user_resource(partner_principal(EXAMPLE_AGENCY), partner_grants(EXAMPLE_AGENCY), "kafka-partner")
    )
    return out
