"""The policy table (`civreg.policy`) is checked when built, and every service enforces it on each public route
before the handler runs (`btkernel.access`, installed by `create_app`)."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from btkernel.service import ActorDep, ApplicationIdQuery, create_app
from btkernel.settings import ServiceSettings
from btkernel.testing import actor_headers
from civreg.policy import ALL_ROLES, POLICY, REGISTRY_ROLES, Permission, Policy, Role

FEES = "/api/v1/fees"
CATALOGUE = "/api/v1/services"


def _app(*routers: APIRouter) -> FastAPI:
    # No `with` around the client: the lifespan, which needs a database, is not started.
    return create_app(
        settings=ServiceSettings(),
        title="t",
        description="d",
        migrations=None,
        routers=routers,
        policy=POLICY,
    )


def _router() -> APIRouter:
    router = APIRouter()

    @router.get(FEES)
    async def fees(actor: ActorDep, application_id: ApplicationIdQuery) -> dict[str, str]:
        # No role check here: the table's is made before this runs.
        return {"role": actor.role, "application_id": application_id}

    @router.get(CATALOGUE)
    async def catalogue() -> dict[str, str]:
        return {"status": "listed"}

    @router.get("/internal/probe")
    async def probe() -> dict[str, str]:
        return {"status": "not public, not policed"}

    return router


def test_the_table_names_each_role_once_and_each_operation_once() -> None:
    assert {r.value for r in Role} == {
        "centre_operator",
        "registry_chancellery",
        "registry_head",
        "registry_executive",
        "registry_worker",
        "supervisor",
        "portal",
    }
    assert Role.REGISTRY_WORKER in REGISTRY_ROLES
    assert Role.SUPERVISOR not in REGISTRY_ROLES
    # A role from an identity header is a plain string; the enum compares and hashes as one.
    assert "portal" in ALL_ROLES
    assert Role("portal") == "portal"
    keys = [(p.method, p.path) for p in POLICY.permissions]
    assert len(keys) == len(set(keys))
    found = POLICY.find("get", "/api/v1/cases/{id}")
    assert found is not None
    assert found.path == "/api/v1/cases/{case_id}"
    assert POLICY.find("PATCH", "/api/v1/cases/{case_id}") is None


@pytest.mark.parametrize(
    ("permissions", "complaint"),
    [
        (
            [Permission("GET", "/api/a", frozenset({Role.PORTAL})), Permission("GET", "/api/a", ALL_ROLES)],
            "twice",
        ),
        (
            [
                Permission("GET", "/api/a/{x}", frozenset({Role.PORTAL})),
                Permission("POST", "/api/a/{y}", frozenset({Role.PORTAL})),
            ],
            "apart",
        ),
        ([Permission("GET", "/api/a", frozenset())], "no role"),
        ([Permission("get", "/api/a", ALL_ROLES)], "capitals"),
        ([Permission("GET", "/health", ALL_ROLES)], "/api/"),
    ],
)
def test_a_table_that_contradicts_itself_is_refused(permissions: list[Permission], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        Policy(permissions)


def test_the_service_refuses_a_role_the_table_leaves_out_before_the_handler() -> None:
    client = TestClient(_app(_router()))
    allowed = POLICY.find("GET", FEES)
    assert allowed is not None
    assert Role.REGISTRY_WORKER not in allowed.roles
    worker = actor_headers("w", "registry_worker", "almaty-almaly")
    # Refused before the query is even validated: nothing of the handler's is reached.
    for params in ({"application_id": "a-1"}, {}):
        r = client.get(FEES, params=params, headers=worker)
        assert r.status_code == 403, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["allowed_roles"] == sorted(allowed.roles)
        assert body["detail"].startswith("role registry_worker may not do this; needs one of: ")
        assert r.headers["x-request-id"]
    for role in ("citizen", ""):
        assert (
            client.get(FEES, params={"application_id": "a-1"}, headers=actor_headers("x", role)).status_code
            == 403
        )
    ok = client.get(FEES, params={"application_id": "a-1"}, headers=actor_headers("s", "supervisor"))
    assert ok.status_code == 200
    assert ok.json() == {"role": "supervisor", "application_id": "a-1"}


def test_without_an_identity_only_what_every_role_may_read_is_answered() -> None:
    client = TestClient(_app(_router()))
    refused = client.get(FEES, params={"application_id": "a-1"})
    assert refused.status_code == 401
    assert refused.json()["title"] == "Not authenticated"
    assert client.get(CATALOGUE).json() == {"status": "listed"}
    assert client.get("/internal/probe").status_code == 200


def test_a_public_route_missing_from_the_table_stops_the_build() -> None:
    router = APIRouter()

    @router.post("/api/v1/payments")
    async def pay() -> None:
        return None

    with pytest.raises(ValueError, match=r"POST /api/v1/payments is not in the policy table"):
        _app(router)
