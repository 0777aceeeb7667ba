"""What the Kubernetes manifests say, against what the platform needs: every variable `make run` gives a service
(btdeploy.stack.Stack.env_for), the ACLs and topics of btdeploy's tables, the pod security, and who may reach whom."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from btdeploy.k8s import generate, kafka_resources, schemas, workloads
from btdeploy.kafka_access import SERVICE_ACCESS, Grant, Pattern, ResourceKind, contracted_partner_topics
from btdeploy.stack import SERVICE_NAMES, SERVICES, PortPlan, Stack
from civreg.topics import ALL_TOPICS

K8S = generate.k8s_dir()
# Loopback only: on the cluster spans go to the collector (BT_OTEL_EXPORTER_OTLP_ENDPOINT), not to a file.
LOOPBACK_ONLY = {"BT_TRACE_FILE"}


def _load(name: str) -> list[dict[str, Any]]:
    path = K8S / name
    return list(schemas.documents(path))


def _generated(name: str) -> list[dict[str, Any]]:
    return _load(f"generated/{name}")


def _one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]


def _pod(service: str) -> dict[str, Any]:
    spec: dict[str, Any] = _one(_generated(f"service-{service}.yaml"), "Deployment")["spec"]["template"][
        "spec"
    ]
    return spec


class _Postgres:
    def dsn(self, database: str) -> str:
        return f"postgresql://{database}:pw@127.0.0.1:1/{database}"


class _Kafka:
    bootstrap = "127.0.0.1:2"

    def password_of(self, principal: str) -> str:
        return "pw"


class _Smtp:
    host = "127.0.0.1"
    port = 3


@pytest.fixture
def loopback_stack(tmp_path: Path) -> Stack:
    """A stack that is never started: only its env_for is asked."""
    return Stack(tmp_path, PortPlan.fixed(), postgres=_Postgres(), kafka=_Kafka(), smtp=_Smtp())  # type: ignore[arg-type]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_variable_of_make_run_is_set_on_the_cluster(loopback_stack: Stack, service: str) -> None:
    pod = _pod(service)
    for container in pod["containers"] + pod["initContainers"]:
        names = {e["name"] for e in container["env"]}
        missing = set(loopback_stack.env_for(service)) - LOOPBACK_ONLY - names
        assert not missing, f"{service}/{container['name']} lacks {sorted(missing)} (btdeploy.k8s.workloads)"
        env = {e["name"]: e for e in container["env"]}
        assert env["BT_ENV"]["value"] == "production"
        assert env["BT_MIGRATE_ON_START"]["value"] == "false"
        # Passwords never stand in a manifest: they come from Secrets.
        for secret in ("PGPASSWORD", "BT_KAFKA_PASSWORD", "BT_JWT_SECRET"):
            if secret in env:
                assert "secretKeyRef" in env[secret]["valueFrom"]
        assert "pw@" not in env["BT_DATABASE_URL"]["value"]


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_the_pod_migrates_first_then_serves_the_app(spec: Any) -> None:
    pod = _pod(spec.name)
    (migrate,) = pod["initContainers"]
    assert migrate["command"] == ["python", "-m", "btkernel.migrate", spec.app]
    (serve,) = pod["containers"]
    assert serve["command"][:4] == ["python", "-m", "btkernel.serve", spec.app]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert serve[probe]["httpGet"]["path"] == "/health"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_pods_run_unprivileged_on_a_read_only_root(service: str) -> None:
    pod = _pod(service)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"] + pod["initContainers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["limits"]["memory"]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_each_service_has_its_service_budget_and_policy(service: str) -> None:
    docs = _generated(f"service-{service}.yaml")
    assert [d["kind"] for d in docs] == [
        "ServiceAccount",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "NetworkPolicy",
    ]
    replicas = _one(docs, "Deployment")["spec"]["replicas"]
    assert replicas == (2 if service in ("gateway", "intake", "registry") else 1)
    budget = _one(docs, "PodDisruptionBudget")["spec"]
    # A budget never blocks a drain for ever: with one instance, that one may go.
    assert budget.get("minAvailable", 0) < replicas


def test_only_the_gateway_is_reachable_from_outside() -> None:
    ingress = _one(_load("ingress.yaml"), "Ingress")
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"bt-gateway"}
    default_deny = _load("default-deny.yaml")[0]
    assert default_deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    for service in SERVICE_NAMES:
        policy = _one(_generated(f"service-{service}.yaml"), "NetworkPolicy")
        peers = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
        namespaces = {
            p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for p in peers
            if "namespaceSelector" in p
        }
        pods = {
            p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in peers if "podSelector" in p
        }
        if service == "gateway":
            assert namespaces == {workloads.INGRESS_NAMESPACE, workloads.MONITORING_NAMESPACE}
            assert pods == {"bt-registry"}  # the staff directory (ADR 0024)
        else:
            assert namespaces == {workloads.MONITORING_NAMESPACE}
            assert pods == {"bt-gateway"}
    for service in SERVICE_NAMES:
        assert _one(_generated(f"service-{service}.yaml"), "Service")["spec"]["type"] == "ClusterIP"


def _grants_of(user: dict[str, Any]) -> frozenset[Grant]:
    kinds: dict[str, ResourceKind] = {
        "topic": "topic",
        "group": "group",
        "transactionalId": "transactional_id",
    }
    patterns: dict[str, Pattern] = {"literal": "literal", "prefix": "prefixed"}
    out = set()
    for rule in user["spec"].get("authorization", {}).get("acls", []):
        assert rule["type"] == "allow"
        assert rule["host"] == "*"
        resource = rule["resource"]
        for op in rule["operations"]:
            kind, pattern = kinds[resource["type"]], patterns[resource["patternType"]]
            out.add(Grant(kind, resource["name"], pattern, op.upper()))
    return frozenset(out)


def test_each_service_user_has_exactly_the_grants_of_the_table() -> None:
    users = {u["metadata"]["name"]: u for u in _generated("kafka-users.yaml")}
    for access in SERVICE_ACCESS:
        user = users[access.principal]
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert _grants_of(user) == access.grants()
        # The gateway's user exists with no ACL at all: simple authorization denies it everything.
        assert user["spec"]["authorization"]["type"] == "simple"
    assert "authorization" not in users["bt-admin"]["spec"]  # the super user of kafka.yaml
    partner = users[f"partner-{kafka_resources.EXAMPLE_AGENCY}"]
    assert {g.name for g in _grants_of(partner)} == {
        f"partner.{kafka_resources.EXAMPLE_AGENCY}",
        f"partner.{kafka_resources.EXAMPLE_AGENCY}.",
    }


def test_every_topic_is_declared_replicated_three_times() -> None:
    topics = {t["spec"]["topicName"]: t["spec"] for t in _generated("kafka-topics.yaml")}
    wanted = {s.name: s for s in (*ALL_TOPICS, *contracted_partner_topics())}
    assert set(topics) == set(wanted)
    for name, spec in topics.items():
        assert spec["partitions"] == wanted[name].partitions
        assert spec["replicas"] == 3
        assert spec["config"]["retention.ms"] == wanted[name].retention_ms
        assert spec["config"]["min.insync.replicas"] == 2


def test_the_kafka_cluster_keeps_the_loopback_security_and_adds_tls() -> None:
    docs = _load("kafka.yaml")
    pool = _one(docs, "KafkaNodePool")["spec"]
    assert pool["replicas"] == 3
    assert sorted(pool["roles"]) == ["broker", "controller"]
    kafka = _one(docs, "Kafka")["spec"]["kafka"]
    assert kafka["authorization"]["type"] == "simple"
    assert kafka["config"]["auto.create.topics.enable"] is False
    assert kafka["config"]["min.insync.replicas"] == 2
    for listener in kafka["listeners"]:
        assert listener["tls"] is True
        assert listener["authentication"]["type"] == "scram-sha-512"


def test_the_postgres_cluster_gives_each_service_an_owner_and_a_service_role() -> None:
    cluster = _one(_load("postgres.yaml"), "Cluster")["spec"]
    assert cluster["instances"] == 3
    assert cluster["postgresql"]["parameters"]["password_encryption"] == "scram-sha-256"
    roles = {r["name"]: r for r in cluster["managed"]["roles"]}
    initdb = cluster["bootstrap"]["initdb"]
    made = " ; ".join(initdb["postInitApplicationSQL"])
    template = " ; ".join(initdb["postInitTemplateSQL"])
    for spec in SERVICES:
        owner, runtime = workloads.db_role(spec, owner=True), workloads.db_role(spec)
        for name, is_owner in ((owner, True), (runtime, False)):
            role = roles[name]
            assert role["login"] is True
            assert role["superuser"] is False
            assert role["createrole"] is False
            assert role["passwordSecret"]["name"] == workloads.db_secret(spec, owner=is_owner)
        assert f"REVOKE ALL ON DATABASE {spec.database} FROM PUBLIC" in made
        assert f"GRANT CONNECT, TEMPORARY ON DATABASE {spec.database} TO {runtime}" in made
        assert (
            f"FOR ROLE {owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {runtime}"
            in template
        )
        if spec.database == initdb["database"]:
            assert initdb["owner"] == owner
        else:
            assert f"CREATE DATABASE {spec.database} OWNER {owner}" in made


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_migrations_run_as_the_owner_and_the_service_as_its_own_role(spec: Any) -> None:
    pod = _pod(spec.name)
    for container, owner in ((pod["initContainers"][0], True), (pod["containers"][0], False)):
        env = {e["name"]: e for e in container["env"]}
        assert env["BT_DATABASE_URL"]["value"].startswith(
            f"postgresql://{workloads.db_role(spec, owner=owner)}@"
        )
        assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == workloads.db_secret(
            spec, owner=owner
        )
