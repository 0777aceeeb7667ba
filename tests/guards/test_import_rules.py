"""The import rules of `make lint` hold (ADR 0019): a service's `domain/` module that imports I/O, a web
framework, or the kernel's I/O modules or clock fails the lint; the same import elsewhere passes.

Each probe is handed to ruff on stdin under a path in the real tree, so the repository's own pyproject.toml (its
`banned-api` and the per-file rule that limits it to `**/domain/**`) decides, and nothing is written there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).parent / "ruff"
DOMAINS = (
    "intake-service/src/intake/domain",
    "registry-service/src/registry/domain",
    "notification-service/src/notification/domain",
    "fee-service/src/fees/domain",
)
BANNED = (
    ("import asyncpg", "asyncpg"),
    ("from asyncpg import Connection", "asyncpg"),
    ("from fastapi import HTTPException", "fastapi"),
    ("from starlette.responses import Response", "starlette"),
    ("import aiokafka.errors", "aiokafka"),
    ("import httpx", "httpx"),
    ("import smtplib", "smtplib"),
    ("from btkernel import clock", "btkernel.clock"),
    ("from btkernel.eventstore import PgEventStore", "btkernel.eventstore"),
    ("from btkernel.unit_of_work import PgUnitOfWork", "btkernel.unit_of_work"),
    ("from btkernel.problems import problem_response", "btkernel.problems"),
)


def _lint(source: str, path: str) -> list[dict[str, object]]:
    """ruff's findings for `source` as if it were the file at `path` (relative to the repository root)."""
    name = source.split()[-1].split(".")[0]
    text = f'"""A probe."""\n\n{source}\n\n__all__ = ["{name}"]\n'
    done = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--output-format", "json", "--stdin-filename", path, "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode in (0, 1), done.stderr
    findings: list[dict[str, object]] = json.loads(done.stdout)
    return findings


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize(("source", "banned"), BANNED)
def test_a_domain_module_that_imports_io_fails_the_lint(domain: str, source: str, banned: str) -> None:
    findings = _lint(source, f"{domain}/probe.py")
    assert [f["code"] for f in findings] == ["TID251"], findings
    assert f"`{banned}` is banned" in str(findings[0]["message"])


@pytest.mark.parametrize("layer", ["app", "adapters", "api"])
@pytest.mark.parametrize(("source", "banned"), BANNED[:6])
def test_the_same_import_outside_the_domain_passes(layer: str, source: str, banned: str) -> None:
    assert _lint(source, f"fee-service/src/fees/{layer}/probe.py") == []


def test_the_domain_modules_keep_the_rules_today() -> None:
    done = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--select", "TID251", *DOMAINS],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout
