"""Nothing inside trusts a bare header (issue 9): straight to each service's port, forged X-Actor-* headers or a
token signed by any key but the gateway's get 401; through the gateway the same request works. The gateway's
staff directory answers the registry, which shows the token of the request it serves, and nobody else."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from services_flow import CENTRE, Office, find_case, ok, step, submit

from btdeploy.e2e import Gateway, dev_user
from btdeploy.samples import birth_application
from btdeploy.stack import Stack
from btkernel import internal_token
from btkernel.context import Actor

pytestmark = pytest.mark.e2e

SUPERVISOR = dev_user("supervisor")
# Per service, a route that shows personal data (applicants, cases, their mail, their fees) to a supervisor, and
# what a vouched-for supervisor gets there (mail and fee of an application nobody filed: the handler's 404).
LISTINGS: dict[str, tuple[str, dict[str, str], int]] = {
    "intake": ("/api/v1/applications", {}, 200),
    "registry": ("/api/v1/cases", {}, 200),
    "notification": ("/api/v1/notifications", {"application_id": "any-application"}, 404),
    "fee": ("/api/v1/fees", {"application_id": "any-application"}, 404),
}
FORGED = {
    "X-Actor-Id": SUPERVISOR.username,
    "X-Actor-Role": "supervisor",
    "X-Actor-Name": "Mallory",
    "X-Actor-Site": "",
}
MALLORY = internal_token.Signer(internal_token.generate_private_key())


def _supervisor() -> Actor:
    return Actor(id=SUPERVISOR.username, name=SUPERVISOR.full_name, role="supervisor")


@pytest.mark.parametrize("service", sorted(LISTINGS))
async def test_straight_to_the_port_forged_identity_is_refused(stack: Stack, service: str) -> None:
    path, params, _ = LISTINGS[service]
    async with httpx.AsyncClient(base_url=stack.url(service), timeout=10.0) as direct:
        bare = await direct.get(path, params=params, headers=FORGED)
        other_key = MALLORY.sign(_supervisor(), service)
        signed_by_another = await direct.get(
            path, params=params, headers={**FORGED, internal_token.HEADER: other_key}
        )
        no_alg = _unsigned(other_key)
        unsigned = await direct.get(path, params=params, headers={internal_token.HEADER: no_alg})
        health = await direct.get("/health")
    assert bare.status_code == 401, bare.text
    assert signed_by_another.status_code == 401, signed_by_another.text
    assert "unknown key" in signed_by_another.json()["detail"]
    assert unsigned.status_code == 401, unsigned.text
    # Readiness stays open: it names no person.
    assert health.status_code == 200


@pytest.mark.parametrize("service", sorted(LISTINGS))
async def test_the_same_request_through_the_gateway_works(gateway: Gateway, service: str) -> None:
    path, params, status = LISTINGS[service]
    r = await gateway.as_(SUPERVISOR, "GET", path, params=params)
    assert r.status_code == status, r.text


async def test_a_token_for_one_service_is_refused_by_another(stack: Stack) -> None:
    """Even the gateway's own key: a token lifted from one service's request does not open another."""
    key = internal_token.load_private_key(stack.env_for("gateway")["BT_INTERNAL_TOKEN_KEY_FILE"])
    token = internal_token.Signer(key).sign(_supervisor(), "fee")
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=10.0) as direct:
        r = await direct.get("/api/v1/applications", headers={internal_token.HEADER: token})
    assert r.status_code == 401
    assert "another service" in r.json()["detail"]


async def test_the_staff_directory_refuses_callers_without_the_gateways_token(stack: Stack) -> None:
    executive = dev_user("registry_executive", "almaty-almaly")
    path = f"/internal/v1/staff/{executive.username}"
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=10.0) as local:
        bare = await local.get(path)
        forged = await local.get(path, headers={internal_token.HEADER: MALLORY.sign(_head(), "registry")})
    assert bare.status_code == 401, bare.text
    assert forged.status_code == 401, forged.text


async def test_the_staff_directory_answers_the_registry(gateway: Gateway) -> None:
    """The head's resolution makes the registry ask the directory with the request's token: an executive of the
    office is assigned, an operator is refused by name — both answers came from the directory."""
    people = Office()
    accepted = await submit(gateway, people, "state_corporation", birth_application())
    case = await find_case(gateway, people, accepted["application_id"])
    await step(gateway, people.chancellery, case["case_id"], "chancellery-registration")
    operator = dev_user("centre_operator", CENTRE)
    refused = await gateway.as_(
        people.head,
        "POST",
        f"/api/v1/cases/{case['case_id']}/resolution",
        json={"executive_id": operator.username},
    )
    assert refused.status_code == 422, refused.text
    assert "not an executive" in refused.json()["detail"]
    await step(
        gateway, people.head, case["case_id"], "resolution", {"executive_id": people.executive.username}
    )
    shown = ok(await gateway.as_(people.head, "GET", f"/api/v1/cases/{case['case_id']}"))
    assert people.executive.username in str(shown)


def _head() -> Actor:
    head = dev_user("registry_head", "almaty-almaly")
    return Actor(id=head.username, name=head.full_name, role=head.role, site=head.site)


def _unsigned(token: str) -> str:
    """The same claims under {"alg": "none"} with no signature."""
    _, claims, _ = token.split(".")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
    return f"{header}.{claims}."
