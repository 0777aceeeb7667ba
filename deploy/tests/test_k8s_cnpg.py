"""The CloudNativePG Cluster of deploy/k8s/postgres.yaml against the validator generated from CloudNativePG's own
CRD (npm `@kubernetes-models/cloudnative-pg`, pinned in deploy/tests/k8s-cnpg/package-lock.json): no registry here
serves the CRD file itself (docs/deployment.md, "Validation"). That validator checks types, enums and required
fields; unknown fields it lets through, as the CRD does (the strict check of test_k8s_schemas.py needs the CRD file).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).parent / "k8s-cnpg"
MANIFEST = Path(__file__).parents[1] / "k8s" / "postgres.yaml"


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("Node.js and npm are needed (this machine kind has them)")
    if not (HERE / "node_modules" / "@kubernetes-models" / "cloudnative-pg").exists():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=HERE,
            check=True,
            capture_output=True,
        )
    return subprocess.run(
        [node, str(HERE / "validate.mjs"), str(path)], cwd=HERE, capture_output=True, text=True, check=False
    )


def test_the_cluster_is_valid_for_cloudnative_pg() -> None:
    done = _validate(MANIFEST)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok " in done.stdout


@pytest.mark.parametrize(
    ("path", "value"),
    [(("spec", "instances"), "three"), (("spec", "postgresql", "pg_hba"), "host all all 0.0.0.0/0 trust")],
    ids=["instances-not-integer", "pg_hba-not-a-list"],
)
def test_a_broken_cluster_is_refused(tmp_path: Path, path: tuple[str, ...], value: object) -> None:
    docs = list(yaml.safe_load_all(MANIFEST.read_text()))
    cluster = next(d for d in docs if d and d.get("kind") == "Cluster")
    target = cluster
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    broken = tmp_path / "postgres.yaml"
    broken.write_text(yaml.safe_dump_all(docs))
    done = _validate(broken)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "invalid" in done.stdout
