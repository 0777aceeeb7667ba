"""The merged document of the real services lists, on every operation, the problem responses it gives: one
`Problem` schema, never FastAPI's HTTPValidationError."""

from __future__ import annotations

import importlib
import json
from typing import Any

import httpx
import pytest
from gateway_fakes import FakeUpstreams

from civreg.policy import POLICY
from gateway.routes import TABLE

SERVICE_APPS = {
    "intake": "intake.main",
    "registry": "registry.main",
    "notification": "notification.main",
    "fee": "fees.main",
}
PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture
async def merged(client: httpx.AsyncClient, upstreams: FakeUpstreams) -> dict[str, Any]:
    for service, module in SERVICE_APPS.items():
        # Each service's own /openapi.json, as its kernel documents it (the apps are built, not started).
        upstreams.openapi[service] = importlib.import_module(module).app.openapi()
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    assert "x-unavailable-services" not in doc["info"]
    return doc


def _operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"][path][method.lower()]
    return operation


def test_every_routed_operation_documents_the_gateways_problems(merged: dict[str, Any]) -> None:
    for route in TABLE:
        responses = _operation(merged, route.method, route.path)["responses"]
        expected = {"401", "403", "422", "503", "504"} | ({"413"} if route.method != "GET" else set())
        assert expected <= set(responses), f"{route.method} {route.path}: {sorted(responses)}"
        assert responses["503"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
        for status, answer in responses.items():
            if int(status) >= 400:
                assert answer["content"] == {"application/problem+json": {"schema": PROBLEM}}, (
                    f"{route.method} {route.path} {status}"
                )


def test_404_and_409_where_the_operation_gives_them(merged: dict[str, Any]) -> None:
    for route in TABLE:
        responses = _operation(merged, route.method, route.path)["responses"]
        # A path parameter names something that may not exist (or not at the caller's site).
        assert ("404" in responses) >= ("{" in route.path), f"{route.method} {route.path}"
        # A command on an aggregate may meet a concurrent change.
        if route.method == "POST" and "{" in route.path:
            assert "409" in responses, f"{route.method} {route.path}"
    # An Idempotency-Key used for another request.
    assert "409" in _operation(merged, "POST", "/api/v1/applications")["responses"]
    # Declared by the route (problem_docs.declare): lookups by a query parameter, a duplicate decree.
    for path in ("/api/v1/fees", "/api/v1/notifications", "/api/v1/deadlines"):
        assert "404" in _operation(merged, "GET", path)["responses"], path
    assert "409" in _operation(merged, "POST", "/api/v1/calendar/overrides")["responses"]
    # A list never answers 404, nor a read 409.
    assert "404" not in _operation(merged, "GET", "/api/v1/applications")["responses"]
    assert "409" not in _operation(merged, "GET", "/api/v1/cases/{case_id}")["responses"]


def test_one_problem_schema_and_no_fastapi_validation_error(merged: dict[str, Any]) -> None:
    schemas = merged["components"]["schemas"]
    problem = schemas["Problem"]
    assert {"type", "title", "status", "detail", "instance", "errors", "code"} <= set(problem["properties"])
    assert problem["properties"]["errors"]["items"]["required"] == ["path", "reason"]
    text = json.dumps(merged)
    assert "HTTPValidationError" not in text
    assert not [name for name in schemas if name.endswith("Problem") and name != "Problem"], (
        "no renamed copies"
    )


def test_the_gateways_own_operations(merged: dict[str, Any]) -> None:
    token = _operation(merged, "POST", "/api/v1/auth/token")["responses"]
    assert {"401", "422", "429"} <= set(token)
    assert token["429"]["headers"]["Retry-After"]
    me = _operation(merged, "GET", "/api/v1/auth/me")["responses"]
    assert me["401"]["content"]["application/problem+json"]["schema"] == PROBLEM
    # A readiness probe answers 503 with its health document, not a problem.
    health = _operation(merged, "GET", "/health")["responses"]
    assert "application/problem+json" not in json.dumps(health.get("503", {}))


def test_every_routed_operation_lists_the_roles_of_the_policy_table(merged: dict[str, Any]) -> None:
    # The `x-roles` a client (and the fuzz test) reads are the one table's, on every operation (ADR 0014).
    for permission in POLICY.permissions:
        operation = _operation(merged, permission.method, permission.path)
        assert operation["x-roles"] == sorted(r.value for r in permission.roles), permission.path
        assert "403" in operation["responses"]
