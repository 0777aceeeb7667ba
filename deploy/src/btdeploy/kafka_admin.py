"""What only the Kafka administrator does, through the Admin API (confluent-kafka: aiokafka has no SCRAM or ACL
calls): create topics with their configs, SCRAM principals and their ACLs (docs/adr/0023-kafka-principals-and-acls.md).

Every operation is idempotent and converges: running it again leaves the broker as this code says, removing ACLs
a principal no longer has in the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

from confluent_kafka import KafkaError, KafkaException

# confluent-kafka re-exports these without `as` or __all__, which mypy --strict does not count as an export.
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from btdeploy.kafka_access import Grant
from btkernel.kafka_client import SASL_MECHANISM, SECURITY_PROTOCOL, KafkaOptions
from btkernel.topics import TopicSpec

# Kafka's minimum for SCRAM-SHA-512 is 4096; 8192 costs a few milliseconds per login.
SCRAM_ITERATIONS = 8192

_KIND = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "transactional_id": ResourceType.TRANSACTIONAL_ID,
}
_KIND_NAME = {v: k for k, v in _KIND.items()}
_PATTERN = {"literal": ResourcePatternType.LITERAL, "prefixed": ResourcePatternType.PREFIXED}
_PATTERN_NAME = {v: k for k, v in _PATTERN.items()}


def librdkafka_config(kafka: KafkaOptions) -> dict[str, str | int | float | bool]:
    """The aiokafka options of btkernel.kafka_client as librdkafka configuration."""
    protocol = str(kafka.get("security_protocol", SECURITY_PROTOCOL))
    # log_level 3: errors only; librdkafka's notices about its own shutdown are noise in a command's output.
    config: dict[str, str | int | float | bool] = {
        "bootstrap.servers": str(kafka["bootstrap_servers"]),
        "security.protocol": protocol,
        "log_level": "3",
    }
    if protocol.startswith("SASL"):
        config |= {
            "sasl.mechanism": str(kafka.get("sasl_mechanism", SASL_MECHANISM)),
            "sasl.username": str(kafka["sasl_plain_username"]),
            "sasl.password": str(kafka["sasl_plain_password"]),
        }
    return config


class KafkaAdmin:
    """An admin client logged in as the administrator (or, in tests, as someone who should be refused)."""

    def __init__(self, kafka: KafkaOptions, *, timeout_s: float = 30.0) -> None:
        self.kafka = kafka
        self.timeout_s = timeout_s
        self.client = AdminClient(librdkafka_config(kafka))

    # -- topics --

    def ensure_topics(self, specs: Iterable[TopicSpec], *, replication_factor: int = -1) -> None:
        """Create the topics that do not exist yet (existing ones are left as they are) and wait until all are
        listed: callers produce right after this returns. Replicas: `replication_factor`, or -1 for the brokers'
        `default.replication.factor` (btdeploy.kafka sets it to the cluster's size)."""
        specs = list(specs)
        if not specs:
            return
        durability = {}
        if replication_factor > 1:
            # Said on the topic too, not only as the brokers' default: acks=all waits for a majority of replicas
            # (docs/adr/0029-more-than-one-machine.md).
            durability = {"min.insync.replicas": str(replication_factor // 2 + 1)}
        futures = self.client.create_topics(
            [
                NewTopic(
                    spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=replication_factor,
                    config={
                        "retention.ms": str(spec.retention_ms),
                        "cleanup.policy": "delete",
                        **durability,
                    },
                )
                for spec in specs
            ],
            operation_timeout=self.timeout_s,
            request_timeout=self.timeout_s,
        )
        failures = []
        for name, future in futures.items():
            error = _error_of(future, self.timeout_s)
            if error is not None and error.code() != KafkaError.TOPIC_ALREADY_EXISTS:
                failures.append(f"{name}: {error.str()}")
        if failures:
            raise RuntimeError("creating Kafka topics failed: " + "; ".join(failures))
        wanted = {spec.name for spec in specs}
        deadline = time.monotonic() + self.timeout_s
        while not wanted <= self.topic_names():
            if time.monotonic() > deadline:
                raise RuntimeError(f"topics not listed after {self.timeout_s:.0f} s: {sorted(wanted)}")
            time.sleep(0.1)

    def topic_names(self) -> set[str]:
        return set(self.client.list_topics(timeout=self.timeout_s).topics)

    def delete_topic(self, name: str) -> None:
        error = _error_of(
            self.client.delete_topics([name], operation_timeout=self.timeout_s)[name], self.timeout_s
        )
        if error is not None and error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise KafkaException(error)

    # -- principals --

    def upsert_user(self, user: str, password: str) -> None:
        """The SCRAM-SHA-512 credential of `user`, created or replaced."""
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
        futures = self.client.alter_user_scram_credentials(
            [UserScramCredentialUpsertion(user, info, password.encode())], request_timeout=self.timeout_s
        )
        futures[user].result(self.timeout_s)
        self._until(lambda: self.user_exists(user), f"the credential of {user} is not visible")

    def delete_user(self, user: str) -> bool:
        """Remove `user`'s credential; False when there was none."""
        futures = self.client.alter_user_scram_credentials(
            [UserScramCredentialDeletion(user, ScramMechanism.SCRAM_SHA_512)], request_timeout=self.timeout_s
        )
        error = _error_of(futures[user], self.timeout_s)
        if error is None:
            self._until(lambda: not self.user_exists(user), f"the credential of {user} is still there")
            return True
        if error.code() == KafkaError.RESOURCE_NOT_FOUND:
            return False
        raise KafkaException(error)

    def user_exists(self, user: str) -> bool:
        described = self.client.describe_user_scram_credentials([user], request_timeout=self.timeout_s)
        assert isinstance(described, dict)
        return _error_of(described[user], self.timeout_s) is None

    # -- ACLs --

    def grants_of(self, user: str) -> set[Grant]:
        bindings = self.client.describe_acls(
            AclBindingFilter(
                ResourceType.ANY,
                None,  # type: ignore[arg-type]  # None matches any name
                ResourcePatternType.ANY,
                _principal(user),
                None,  # type: ignore[arg-type]
                AclOperation.ANY,
                AclPermissionType.ANY,
            ),
            request_timeout=self.timeout_s,
        ).result(self.timeout_s)
        grants = set()
        for b in bindings:
            if b.permission_type != AclPermissionType.ALLOW or b.host != "*":
                raise RuntimeError(f"unexpected ACL for {user}: {b} (only ALLOW on host * is ours)")
            grants.add(
                Grant(
                    _KIND_NAME[b.restype],  # type: ignore[arg-type]
                    b.name,
                    _PATTERN_NAME[b.resource_pattern_type],  # type: ignore[arg-type]
                    b.operation.name,
                )
            )
        return grants

    def set_grants(self, user: str, wanted: Iterable[Grant]) -> None:
        """Make `user`'s ACLs exactly `wanted`: add the missing ones, remove those the table no longer has."""
        wanted = set(wanted)
        existing = self.grants_of(user)
        stale = existing - wanted
        if stale:
            deleted = self.client.delete_acls(
                [_filter(user, g) for g in sorted(stale)], request_timeout=self.timeout_s
            )
            for future in deleted.values():
                future.result(self.timeout_s)
        missing = wanted - existing
        if missing:
            created = self.client.create_acls(
                [_binding(user, g) for g in sorted(missing)], request_timeout=self.timeout_s
            )
            for future in created.values():
                future.result(self.timeout_s)
        if stale or missing:
            self._until(lambda: self.grants_of(user) == wanted, f"the ACLs of {user} are not yet in force")

    def _until(self, done: Callable[[], bool], what: str) -> None:
        """The controller applies a change, then each broker's metadata catches up: callers (a test, a partner
        handed its password) act at once, so wait until the broker answers with the change."""
        deadline = time.monotonic() + self.timeout_s
        while not done():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} after {self.timeout_s:.0f} s")
            time.sleep(0.05)

    def ensure_principal(self, user: str, password: str, grants: Iterable[Grant]) -> None:
        self.upsert_user(user, password)
        self.set_grants(user, grants)


def _principal(user: str) -> str:
    return f"User:{user}"


def _binding(user: str, grant: Grant) -> AclBinding:
    return AclBinding(
        _KIND[grant.kind],
        grant.name,
        _PATTERN[grant.pattern],
        _principal(user),
        "*",
        AclOperation[grant.operation],
        AclPermissionType.ALLOW,
    )


def _filter(user: str, grant: Grant) -> AclBindingFilter:
    return AclBindingFilter(
        _KIND[grant.kind],
        grant.name,
        _PATTERN[grant.pattern],
        _principal(user),
        "*",
        AclOperation[grant.operation],
        AclPermissionType.ALLOW,
    )


def _error_of(future: Future[Any], timeout_s: float) -> KafkaError | None:
    try:
        future.result(timeout_s)
    except KafkaException as exc:
        error: KafkaError = exc.args[0]
        return error
    return None
