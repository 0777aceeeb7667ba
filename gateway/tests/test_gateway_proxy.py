"""Forwarding to the owning service: roles, the signed internal token, what passes through, and failures
upstream."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from gateway_fakes import FakeUpstreams, sent_claims

from btkernel import internal_token

Auth = Callable[[str], dict[str, str]]


async def test_request_reaches_the_owning_service_with_identity(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    response = await client.post(
        "/api/v1/applications?draft=false&x=%D0%B0",
        json={"service_id": "birth-registration"},
        headers={**auth("operator1"), "Idempotency-Key": "key-123", "Accept": "application/json"},
    )

    assert response.status_code == 200
    assert response.json()["service"] == "intake"
    sent = upstreams.last("intake")
    assert sent.method == "POST"
    assert str(sent.url) == "http://intake.test/api/v1/applications?draft=false&x=%D0%B0"
    assert json.loads(sent.content) == {"service_id": "birth-registration"}
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["idempotency-key"] == "key-123"
    assert sent.headers["accept"] == "application/json"
    claims = sent_claims(sent)
    assert (claims["sub"], claims["role"], claims["site"]) == ("operator1", "centre_operator", "almaty-con-1")
    assert claims["name"] == "Сейткали Айгерим Нурлановна"
    assert not any(name.startswith("x-actor") for name in sent.headers)
    assert "authorization" not in sent.headers


async def test_the_token_is_signed_by_the_gateway_for_the_one_service_called(
    app: FastAPI, client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    await client.get("/api/v1/cases/c-1", headers=auth("head1"))
    sent = upstreams.last("registry")
    token = sent.headers[internal_token.HEADER]
    signer = app.state.gateway.internal_tokens.signer
    verified = internal_token.Verifier([signer.public_key], "registry").verify(token)
    assert (verified.actor.id, verified.actor.role) == ("head1", "registry_head")
    claims = sent_claims(sent)
    assert claims["exp"] - claims["iat"] == internal_token.TTL_S
    # Another service refuses it: it is addressed to the registry alone.
    with pytest.raises(internal_token.InvalidToken) as refused:
        internal_token.Verifier([signer.public_key], "intake").verify(token)
    assert refused.value.kind == "audience"


async def test_request_id_is_new_when_not_given_and_correlation_follows_it(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    response = await client.get("/api/v1/applications", headers=auth("supervisor"))

    sent = upstreams.last("intake")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 36
    assert sent.headers["x-request-id"] == request_id
    assert sent.headers["x-correlation-id"] == request_id
    assert sent_claims(sent)["site"] is None


async def test_caller_request_and_correlation_ids_are_kept(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    headers = {**auth("head1"), "X-Request-Id": "req-1", "X-Correlation-Id": "corr-1"}

    response = await client.get("/api/v1/cases/c-1", headers=headers)

    sent = upstreams.last("registry")
    assert (sent.headers["x-request-id"], sent.headers["x-correlation-id"]) == ("req-1", "corr-1")
    assert response.headers["x-request-id"] == "req-1"


async def test_caller_sent_actor_headers_are_replaced(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    forged = {
        "X-Internal-Token": "forged",
        "X-Actor-Id": "supervisor",
        "X-Actor-Role": "supervisor",
        "X-Actor-Site": "almaty-bostandyk",
        "X-Actor-Name": "Someone Else",
        "X-Actor-Extra": "anything",
    }

    await client.get("/api/v1/worklist", headers={**auth("executive1a"), **forged})

    sent = upstreams.last("registry")
    claims = sent_claims(sent)
    assert (claims["sub"], claims["role"], claims["site"]) == (
        "executive1a",
        "registry_executive",
        "almaty-almaly",
    )
    assert claims["name"] == "Касымова Динара Маратовна"
    assert not any(name.startswith("x-actor") for name in sent.headers)


async def test_upstream_status_body_and_content_type_are_returned(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    upstreams.handlers["intake"] = lambda request: httpx.Response(
        422,
        content=b'{"title":"Invalid input"}',
        headers={"Content-Type": "application/problem+json", "X-Internal": "secret", "Location": "/x"},
    )

    response = await client.post("/api/v1/applications", json={}, headers=auth("operator2"))

    assert response.status_code == 422
    assert response.content == b'{"title":"Invalid input"}'
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["location"] == "/x"
    assert "x-internal" not in response.headers
    assert "x-request-id" in response.headers


async def test_binary_bodies_pass_unchanged(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    pdf = b"%PDF-1.7\x00\xff\xfe"
    upstreams.handlers["registry"] = lambda request: httpx.Response(
        200, content=pdf, headers={"Content-Type": "application/pdf", "Content-Disposition": "attachment"}
    )

    response = await client.get("/api/v1/records/r-1", headers=auth("supervisor"))

    assert response.content == pdf
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == "attachment"


async def test_wrong_role_gets_403_naming_the_allowed_roles(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    response = await client.post("/api/v1/cases/c-1/resolution", json={}, headers=auth("executive1a"))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["allowed_roles"] == ["registry_head"]
    assert "registry_head" in body["detail"]
    assert upstreams.requests == []


async def test_each_service_is_routed(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    cases = [
        ("/api/v1/notifications", "notification"),
        ("/api/v1/fees", "fee"),
        ("/api/v1/records", "registry"),
        ("/api/v1/services/birth-registration", "intake"),
    ]
    for path, service in cases:
        response = await client.get(path, headers=auth("supervisor"))

        assert response.status_code == 200, path
        assert response.json() == {"service": service, "method": "GET", "path": path, "body": None}


async def test_catalogue_is_open_to_every_role(client: httpx.AsyncClient, auth: Auth) -> None:
    for user in ("operator1", "chancellery2", "head1", "executive2b", "supervisor"):
        assert (await client.get("/api/v1/services", headers=auth(user))).status_code == 200, user


async def test_unknown_path_is_404_problem(client: httpx.AsyncClient, auth: Auth) -> None:
    for path in ("/api/v1/nothing-here", "/api/v1/applications/a-1/unknown", "/elsewhere"):
        response = await client.get(path, headers=auth("supervisor"))

        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"


async def test_known_path_wrong_method_is_405_with_allow(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    response = await client.delete("/api/v1/applications", headers=auth("operator1"))

    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert sorted(m.strip() for m in response.headers["allow"].split(",")) == ["GET", "POST"]
    assert (await client.get("/api/v1/auth/token")).status_code == 405
    assert upstreams.requests == []


async def test_service_down_is_503_naming_it(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    upstreams.down.add("registry")

    response = await client.get("/api/v1/cases", headers=auth("head2"))

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["service"] == "registry"
    assert "registry" in response.json()["detail"]


async def test_service_timeout_is_504_naming_it(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    upstreams.slow.add("fee")

    response = await client.get("/api/v1/fees", headers=auth("operator1"))

    assert response.status_code == 504
    assert response.json()["service"] == "fee"


async def test_a_relay_carries_no_cookie_a_service_once_set(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    """Relays go to the transport without an httpx client's cookie jar (gateway.upstream, issue 13): a cookie one
    caller's answer set must never ride on another caller's request."""
    upstreams.handlers["intake"] = lambda request: httpx.Response(
        200, json={}, headers={"Set-Cookie": "session=operator1-secret; Path=/"}
    )
    await client.get("/api/v1/applications", headers=auth("operator1"))
    await client.get("/api/v1/applications", headers=auth("operator2"))

    sent = upstreams.last("intake")
    assert "cookie" not in sent.headers
    assert sent_claims(sent)["sub"] == "operator2"
