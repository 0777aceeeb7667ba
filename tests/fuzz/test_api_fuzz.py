"""Every operation of the gateway's OpenAPI, fuzzed by schemathesis as every role that may call it, on the whole
platform running as processes: no answer is a 5xx, and every answer is one the document describes (status code,
media type, body schema, headers).

Schemathesis's engine (what its command line runs) does the work: the examples phase, the coverage phase
(boundary and schema-breaking values of every parameter, deterministic) and the fuzzing phase, whose examples per
operation BT_FUZZ_EXAMPLES sets (`make fuzz` runs many more than `make test`). Seeded and derandomized, so the
same command finds the same failures; each failure is listed with a curl command that reproduces it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events, from_schema

from gateway.roles import ALL_ROLES

pytestmark = [pytest.mark.e2e, pytest.mark.fuzz]

# The caller without a token: the gateway's public operations (sign-in, health) are fuzzed as this one.
ANONYMOUS = "anonymous"
FUZZ_ROLES = (*sorted(ALL_ROLES), ANONYMOUS)
# Examples per operation and role in the fuzzing phase. This default keeps the whole test within about three
# minutes on a 2-core machine: most requests come from the coverage phase, whose size the schema sets.
DEFAULT_EXAMPLES = 10
# The bar: no 5xx, and every answer as documented. Whether a schema-valid request is accepted
# (`positive_data_acceptance`) is not asked: a schema cannot say everything the domain refuses (an IIN's
# checksum, a record that must exist).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def may_call(role: str, operation: dict[str, Any]) -> bool:
    """Whether `role` may call `operation` of the merged document.

    The gateway lists the allowed roles of each routed operation in `x-roles` (gateway/openapi.py); its own
    operations either need any signed-in role (they declare `security`) or nobody's (sign-in, health). Fuzzing an
    operation as a role the gateway turns away would only test its 403.
    """
    roles = operation.get("x-roles")
    if roles is not None:
        return role in roles
    if operation.get("security"):
        return role != ANONYMOUS
    return role == ANONYMOUS


def fuzz_config(base_url: str, headers: dict[str, str]) -> schemathesis.Config:
    """Bounded, reproducible, writing nothing to disk, and going on past the first failure of an operation so
    that one run lists everything there is to fix."""
    return schemathesis.Config.from_dict(
        {
            "seed": _env_int("BT_FUZZ_SEED", 7),
            "cache": {"enabled": False},
            "base-url": base_url,
            "headers": headers,
            "request-timeout": 30,
            "continue-on-failure": True,
            "generation": {
                "mode": "all",  # valid requests, and requests that break the schema (which must get a 4xx)
                "max-examples": _env_int("BT_FUZZ_EXAMPLES", DEFAULT_EXAMPLES),
                "deterministic": True,
                "database": "none",
            },
            # Stateful sequences need links between operations, which the document does not declare.
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )


@dataclass
class Finding:
    """One distinct failure: an operation, what was wrong, and the status it answered with."""

    operation: str
    title: str
    status: int | None
    count: int = 0
    curl: str = ""
    response: str = ""
    message: str = ""

    def describe(self) -> str:
        return (
            f"{self.operation}: {self.title} (HTTP {self.status}, {self.count}×)\n"
            f"    {self.message}\n    {self.curl}\n    → {self.response}"
        )


@dataclass
class FuzzRun:
    role: str
    tested: set[str] = field(default_factory=set)
    findings: dict[tuple[str, str, int | None], Finding] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    stop_reason: str = ""

    def record(self, event: events.ScenarioFinished) -> None:
        if event.status != Status.SKIP and event.label:
            self.tested.add(event.label)
        recorder = event.recorder
        self.requests += len(recorder.interactions)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.status != Status.FAILURE or check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                interaction = recorder.interactions.get(case_id)
                response = interaction.response if interaction is not None else None
                status = response.status_code if response is not None else None
                key = (event.label or "?", failure.title, status)
                finding = self.findings.setdefault(key, Finding(*key))
                finding.count += 1
                curl = check.failure_info.code_sample.replace("\n", " ")
                if not finding.curl or len(curl) < len(finding.curl):  # the shortest reproduction
                    finding.curl = curl
                    finding.message = " ".join((failure.message or "").split())[:300]
                    finding.response = (
                        response.content[:300].decode("utf-8", "replace") if response is not None else "-"
                    )

    def report(self) -> str:
        lines = [f"as {self.role}: {len(self.findings)} distinct failures, {len(self.errors)} errors"]
        lines += [finding.describe() for _, finding in sorted(self.findings.items(), key=str)]
        lines += [f"error: {error}" for error in self.errors]
        return "\n".join(lines)


def fuzz(document: dict[str, Any], base_url: str, role: str, token: str | None) -> FuzzRun:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    schema = schemathesis.openapi.from_dict(document, config=fuzz_config(base_url, headers)).include(
        lambda ctx: may_call(role, ctx.operation.definition.raw)
    )
    run = FuzzRun(role)
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            run.record(event)
        elif isinstance(event, events.NonFatalError):
            run.errors.append(f"{event.label}: {event.value!r}"[:500])
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            run.stop_reason = str(event.stop_reason)
    return run


def _operations(document: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield f"{method.upper()} {path}", operation


@pytest.mark.parametrize("role", FUZZ_ROLES)
def test_every_operation_as_every_role(
    role: str, gateway_url: str, openapi_document: dict[str, Any], role_tokens: dict[str, str]
) -> None:
    started = time.monotonic()
    run = fuzz(openapi_document, gateway_url, role, role_tokens.get(role))
    print(f"\n{role}: {run.requests} requests in {time.monotonic() - started:.0f} s ({run.stop_reason})")
    expected = {label for label, operation in _operations(openapi_document) if may_call(role, operation)}
    assert expected, f"no operation of the document is open to {role}"
    assert run.tested == expected, f"not fuzzed as {role}: {sorted(expected - run.tested)}"
    if run.findings or run.errors:
        pytest.fail(run.report(), pytrace=False)
