"""Every manifest of deploy/k8s against its kind's schema (Kubernetes' own JSON Schemas, Strimzi's and
CloudNativePG's CRDs: btdeploy.k8s.schemas), the generated files against their generator, and broken manifests
refused."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from btdeploy.k8s import generate, schemas

K8S = generate.k8s_dir()


def _manifest_files() -> list[Path]:
    return [p for p in sorted(K8S.glob("*.yaml")) if p.name != "kustomization.yaml"] + sorted(
        generate.generated_dir().glob("*.yaml")
    )


def _all_documents() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.relative_to(K8S)}:{doc['kind']}/{doc['metadata']['name']}", doc)
        for path in _manifest_files()
        for doc in schemas.documents(path)
    ]


DOCUMENTS = _all_documents()


def _first(kind: str, name: str | None = None) -> dict[str, Any]:
    for _, doc in DOCUMENTS:
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name):
            return copy.deepcopy(doc)
    raise AssertionError(f"no {kind} {name or ''} in deploy/k8s")


def _validated(doc: dict[str, Any]) -> list[str]:
    try:
        return [str(p) for p in schemas.problems(doc)]
    except schemas.SchemaUnavailable as exc:
        if (
            doc["kind"] == "Cluster"
        ):  # CloudNativePG's CRD comes from outside the registries (module docstring)
            pytest.skip(str(exc))
        raise


def test_the_generated_files_are_what_the_tables_give() -> None:
    assert generate.stale() == [], "run `python -m btdeploy k8s` and commit deploy/k8s/generated/"


def test_stale_names_a_file_that_differs(tmp_path: Path) -> None:
    generate.write(tmp_path)
    assert generate.stale(tmp_path) == []
    (tmp_path / "kafka-topics.yaml").write_text("# edited by hand\n")
    (tmp_path / "leftover.yaml").write_text("")
    assert generate.stale(tmp_path) == ["kafka-topics.yaml", "leftover.yaml"]


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(str(p.relative_to(K8S)) for p in _manifest_files())


def test_every_kind_in_use_is_validated() -> None:
    kinds = {doc["kind"] for _, doc in DOCUMENTS}
    expected = {
        "Namespace",
        "NetworkPolicy",
        "ConfigMap",
        "Ingress",
        "ServiceAccount",
        "Deployment",
        "Service",
    }
    expected |= {"PodDisruptionBudget", "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Cluster"}
    assert kinds == expected


@pytest.mark.parametrize("doc", [d for _, d in DOCUMENTS], ids=[i for i, _ in DOCUMENTS])
def test_manifest_is_valid_for_its_schema(doc: dict[str, Any]) -> None:
    assert _validated(doc) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


CONTAINER = "spec.template.spec.containers.0"
BROKEN = [
    # (kind, name, change, what the error names)
    ("Deployment", "bt-intake", _set(f"{CONTAINER}.imagePullPolicyy", "Always"), "imagePullPolicyy"),
    ("Deployment", "bt-intake", _set("spec.replicas", "two"), "/spec/replicas"),
    ("Deployment", "bt-gateway", _set(f"{CONTAINER}.securityContext.runAsNonRoot", "yes"), "runAsNonRoot"),
    ("Service", "bt-fee", _set("spec.ports.0.port", "http"), "/spec/ports/0/port"),
    ("NetworkPolicy", "bt-registry", _set("metadata.lables", {}), "lables"),
    ("Ingress", None, _set("spec.rules.0.http.paths.0.pathType", 7), "pathType"),
    ("Kafka", None, _set("spec.kafka.replicas", 3), "replicas"),
    ("Kafka", None, _set("spec.kafka.listeners.0.tls", "yes"), "/spec/kafka/listeners/0/tls"),
    ("KafkaNodePool", None, _set("spec.replicas", "three"), "/spec/replicas"),
    ("KafkaTopic", "civreg.case", _set("spec.partitions", "six"), "/spec/partitions"),
    ("KafkaTopic", "civreg.case", _set("spec.retention", 1), "retention"),
    ("KafkaUser", "bt-fee", _set("spec.authorization.acls.0.operations", ["Reed"]), "Reed"),
    ("Cluster", None, _set("spec.instancez", 3), "instancez"),
    ("Cluster", None, _set("spec.instances", "three"), "/spec/instances"),
]


@pytest.mark.parametrize(
    ("kind", "name", "change", "named"), BROKEN, ids=[f"{k}-{n}" for k, _, _, n in BROKEN]
)
def test_a_broken_manifest_is_refused(
    kind: str, name: str | None, change: Callable[[dict[str, Any]], None], named: str
) -> None:
    doc = _first(kind, name)
    assert _validated(doc) == []
    change(doc)
    errors = _validated(doc)
    assert errors, f"{kind} accepted after the change"
    assert any(named in e for e in errors), errors


def test_an_unknown_kind_or_api_version_is_refused() -> None:
    assert schemas.problems({"apiVersion": "apps/v1", "kind": "Deploymint", "metadata": {"name": "x"}})
    assert schemas.problems({"kind": "Service", "metadata": {"name": "x"}})
    with pytest.raises(schemas.SchemaUnavailable):
        schemas.problems(
            {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaBridge", "metadata": {"name": "x"}}
        )


def test_strict_refuses_unknown_properties_except_where_the_crd_keeps_them() -> None:
    schema = schemas.strict(
        {
            "type": "object",
            "properties": {
                "a": {"type": "object", "properties": {"b": {"type": "string"}}},
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {}},
            },
        }
    )
    assert schema["additionalProperties"] is False
    assert schema["properties"]["a"]["additionalProperties"] is False
    assert "additionalProperties" not in schema["properties"]["config"]
