"""Caller headers the gateway cannot forward are refused naming them (or ignored, for preferences); what the
service answers comes back with its replay marker and, for an outage, always with Retry-After."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from gateway_fakes import FakeUpstreams

Auth = Callable[[str], dict[str, str]]


@pytest.mark.parametrize(
    "raw",
    [
        "ключ-1".encode(),  # non-ASCII UTF-8
        b"\xff\xfe-key",  # invalid UTF-8
        b"two words",  # a space: no token
        b"k" * 201,  # longer than the services keep
    ],
)
async def test_an_unusable_idempotency_key_is_a_422_naming_the_header(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth, raw: bytes
) -> None:
    response = await client.post(
        "/api/v1/applications",
        json={"service_id": "birth-registration"},
        headers=[*auth("operator1").items(), ("Idempotency-Key", raw)],  # type: ignore[list-item]
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["path"] for e in response.json()["errors"]] == ["header.idempotency-key"]
    assert not upstreams.requests, "a refused request reaches no service"


@pytest.mark.parametrize("raw", ["қазақ тілі".encode(), b"\xc3\x28", b"ru-RU\xa0"])
async def test_an_unusable_accept_language_is_ignored(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth, raw: bytes
) -> None:
    response = await client.get(
        "/api/v1/applications",
        headers=[*auth("operator1").items(), ("Accept-Language", raw), ("Accept", b"application/json")],  # type: ignore[list-item]
    )

    assert response.status_code == 200
    sent = upstreams.last("intake")
    assert "accept-language" not in sent.headers
    assert sent.headers["accept"] == "application/json"


async def test_a_usable_accept_language_is_forwarded(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    await client.get("/api/v1/applications", headers={**auth("operator1"), "Accept-Language": "kk, ru;q=0.8"})

    assert upstreams.last("intake").headers["accept-language"] == "kk, ru;q=0.8"


@pytest.mark.parametrize(
    ("name", "raw"), [("X-Request-Id", "запрос".encode()), ("X-Correlation-Id", b"\xff")]
)
async def test_unusable_caller_ids_are_a_422_naming_the_header(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth, name: str, raw: bytes
) -> None:
    response = await client.get("/api/v1/applications", headers=[*auth("operator1").items(), (name, raw)])  # type: ignore[list-item]

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == f"header.{name.lower()}"
    assert not upstreams.requests


async def test_a_non_ascii_content_type_is_a_422(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    response = await client.post(
        "/api/v1/applications",
        content=b"{}",
        headers=[*auth("operator1").items(), ("Content-Type", "application/json; charset=ütf-8".encode())],  # type: ignore[list-item]
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "header.content-type"


async def test_a_replayed_answer_keeps_its_marker(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    upstreams.handlers["intake"] = lambda request: httpx.Response(
        201, json={"application_id": "a-1"}, headers={"Idempotent-Replayed": "true"}
    )

    response = await client.post(
        "/api/v1/applications", json={}, headers={**auth("operator1"), "Idempotency-Key": "visit-17"}
    )

    assert response.status_code == 201
    assert response.headers["idempotent-replayed"] == "true"
    assert response.json() == {"application_id": "a-1"}


async def test_a_file_name_in_utf8_comes_back_byte_for_byte(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    disposition = 'attachment; filename="расписка.pdf"'.encode()
    upstreams.handlers["intake"] = lambda request: httpx.Response(
        200,
        content=b"%PDF",
        headers=[(b"Content-Type", b"application/pdf"), (b"Content-Disposition", disposition)],
    )

    response = await client.get("/api/v1/applications/a-1", headers=auth("operator1"))

    assert response.status_code == 200
    assert response.headers.raw.count((b"content-disposition", disposition)) == 1
    assert response.headers["content-type"] == "application/pdf"


async def test_an_unreachable_service_is_a_503_with_retry_after(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    upstreams.down.add("intake")

    response = await client.get("/api/v1/applications", headers=auth("operator1"))

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["service"] == "intake"


async def test_a_service_503_without_retry_after_gets_one(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    upstreams.handlers["registry"] = lambda request: httpx.Response(503, json={"title": "down"})

    response = await client.get("/api/v1/cases", headers=auth("head1"))

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0


async def test_a_service_503_keeps_its_own_retry_after(
    client: httpx.AsyncClient, upstreams: FakeUpstreams, auth: Auth
) -> None:
    upstreams.handlers["registry"] = lambda request: httpx.Response(
        503, json={"title": "down"}, headers={"Retry-After": "11"}
    )

    response = await client.get("/api/v1/cases", headers=auth("head1"))

    assert response.headers.get_list("retry-after") == ["11"]
