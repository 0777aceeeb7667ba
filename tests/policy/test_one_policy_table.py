"""One table of who may do what (civreg.policy, ADR 0014): every public route of every service and of the
gateway has exactly one entry in it, each side lets in exactly the roles it names, and the drift issue 8 found
(`registry_worker` on deadlines and fees) stays resolved.

The service apps are built without being started (no database): the role check runs before any handler, so a
refusal needs none; an allowed role must get past it and past any check of the handler's own to the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from btkernel.testing import actor_headers
from civreg.policy import ALL_ROLES, POLICY, PUBLIC_PREFIX, Permission, Role, shape
from gateway import routes

# Each service's composition root and the name the gateway's route table gives it.
SERVICE_APPS = {
    "intake": "intake.main",
    "registry": "registry.main",
    "notification": "notification.main",
    "fee": "fees.main",
}
SITE = {
    Role.CENTRE_OPERATOR: "almaty-con-1",
    Role.REGISTRY_CHANCELLERY: "almaty-almaly",
    Role.REGISTRY_HEAD: "almaty-almaly",
    Role.REGISTRY_EXECUTIVE: "almaty-almaly",
    Role.REGISTRY_WORKER: "almaty-almaly",
}


class _NoDatabase:
    """Stands for the pool: a handler that gets past every role check reaches it, and its answer is a 500 — never
    a 403. So an allowed role that gets a 403 was refused by a check of its own that drifted from the table."""

    def __getattr__(self, name: str) -> object:
        raise RuntimeError(f"no database in this test (pool.{name})")


def _app(service: str) -> FastAPI:
    module = __import__(SERVICE_APPS[service], fromlist=["app"])
    app: FastAPI = module.app
    app.state.runtime = SimpleNamespace(pool=_NoDatabase())
    return app


def _public_operations(app: FastAPI) -> Iterator[tuple[str, str]]:
    for route_context in iter_route_contexts(app.routes):
        route, path = route_context.original_route, route_context.path or ""
        if isinstance(route, APIRoute) and path.startswith(PUBLIC_PREFIX):
            for method in sorted(route.methods or ()):
                yield method, path


def _served() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(method, shape) -> [(service, path as it spells it)] over every service app."""
    served: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for service in SERVICE_APPS:
        for method, path in _public_operations(_app(service)):
            served.setdefault((method, shape(path)), []).append((service, path))
    return served


def _concrete(path: str) -> str:
    # A value every path parameter accepts; the role check answers before any parameter is validated anyway.
    return re.sub(r"\{[^}/]+\}", "KZ", path)


def _call(client: TestClient, permission: Permission, role: str) -> tuple[int, dict[str, object]]:
    headers = actor_headers("someone", role, SITE.get(Role(role)) if role in ALL_ROLES else None)
    r = client.request(permission.method, _concrete(permission.path), headers=headers)
    is_problem = r.headers.get("content-type", "").startswith("application/problem+json")
    return r.status_code, (r.json() if is_problem else {})


def test_every_operation_is_served_by_exactly_one_service_and_routed_there() -> None:
    served = _served()
    policy = {(p.method, shape(p.path)): p for p in POLICY.permissions}
    gateway = {(r.method, shape(r.path)): r for r in routes.RouteTable().routes}
    assert set(served) == set(policy), "a service serves what the table does not name, or the reverse"
    assert set(gateway) == set(policy), "the gateway routes what the table does not name, or the reverse"
    for key, permission in policy.items():
        ((service, path),) = served[key]  # exactly one service serves it
        route = gateway[key]
        assert route.service == service, (
            f"{key}: the gateway routes it to {route.service}, {service} serves it"
        )
        assert path == permission.path == route.path, (
            f"{key}: spelled {path}, {permission.path}, {route.path}"
        )
        assert route.roles == {r.value for r in permission.roles}, f"{key}: the gateway's roles differ"


@pytest.mark.parametrize("service", list(SERVICE_APPS))
def test_each_service_lets_in_exactly_the_roles_of_the_table(service: str) -> None:
    client = TestClient(_app(service), raise_server_exceptions=False)
    operations = {(m, shape(p)) for m, p in _public_operations(client.app)}  # type: ignore[arg-type]
    permissions = [p for p in POLICY.permissions if (p.method, shape(p.path)) in operations]
    assert permissions, f"{service} serves no public operation"
    for permission in permissions:
        for role in sorted(ALL_ROLES - permission.roles):
            status, problem = _call(client, permission, role)
            assert status == 403, f"{permission.method} {permission.path} let {role} in: {status}"
            assert problem["allowed_roles"] == sorted(permission.roles)
        # Every allowed role passes: whatever the handler answers without its database, never a 403.
        for role in sorted(permission.roles):
            status, problem = _call(client, permission, role)
            assert status != 403, f"{permission.method} {permission.path} refused {role}: {problem}"


def test_the_registry_worker_sees_its_deadlines_and_no_fees() -> None:
    """Issue 8's drift, decided in the table: the worker's registration step of annulment has a term the deadline
    engine tracks (S002/App.10 p.5(1), p.7), so it sees the deadlines; annulment has no fee (S002/App.10), so it
    sees no fee decision — and the gateway and the two services say the same."""
    table = routes.RouteTable()
    deadlines, fees = table.find("GET", "/api/v1/deadlines"), table.find("GET", "/api/v1/fees")
    assert deadlines is not None
    assert "registry_worker" in deadlines.roles
    assert fees is not None
    assert "registry_worker" not in fees.roles
    assert fees.roles == {
        "supervisor",
        "centre_operator",
        "registry_chancellery",
        "registry_head",
        "registry_executive",
    }

    worker = actor_headers("worker1", "registry_worker", "almaty-almaly")
    registry = TestClient(_app("registry"), raise_server_exceptions=False)
    r = registry.get("/api/v1/deadlines", headers=worker)
    assert r.status_code != 403, r.text
    fee = TestClient(_app("fee"), raise_server_exceptions=False)
    r = fee.get("/api/v1/fees", params={"application_id": "a-1"}, headers=worker)
    assert r.status_code == 403
    assert "registry_worker" not in r.json()["allowed_roles"]
