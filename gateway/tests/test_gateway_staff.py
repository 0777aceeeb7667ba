"""The staff directory the registry asks before an executive is assigned (gateway.staff): only for a caller that
shows an internal token this gateway signed for the registry, not in the public API, and it says who a user is —
nothing about passwords. Being on this host proves nothing."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from gateway_fakes import MemoryUsers

from btkernel import internal_token
from btkernel.context import Actor

HEAD = Actor(id="head1", name="head1", role="registry_head", site="almaty-almaly")


async def _get(app: FastAPI, path: str, client_host: str, token: str | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
    headers = {internal_token.HEADER: token} if token is not None else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as c:
        return await c.get(path, headers=headers)


def _signed(app: FastAPI, audience: str, ttl_s: int | None = None) -> str:
    token: str = app.state.gateway.internal_tokens.signer.sign(HEAD, audience, ttl_s=ttl_s)
    return token


async def test_the_registry_serving_a_request_learns_role_site_and_state(
    app: FastAPI, users: MemoryUsers
) -> None:
    username, user = next(iter(users.users.items()))
    r = await _get(app, f"/internal/v1/staff/{username}", "127.0.0.1", _signed(app, "registry"))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "username": user.username,
        "role": user.role,
        "site": user.site,
        "active": user.active,
    }
    missing = await _get(app, "/internal/v1/staff/nobody-such", "127.0.0.1", _signed(app, "registry"))
    assert missing.status_code == 404


async def test_a_caller_on_this_host_without_a_token_is_refused(app: FastAPI, users: MemoryUsers) -> None:
    username = next(iter(users.users))
    r = await _get(app, f"/internal/v1/staff/{username}", "127.0.0.1")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert not any(path.startswith("/internal") for path in app.openapi().get("paths", {}))


@pytest.mark.parametrize(
    ("token", "status"),
    [
        ("intake", 403),  # a good token, but intake may not ask
        ("expired", 401),
        ("stranger", 401),
        ("garbage", 401),
    ],
)
async def test_only_an_unexpired_token_of_this_gateway_for_the_registry_passes(
    app: FastAPI, users: MemoryUsers, token: str, status: int
) -> None:
    presented = {
        "intake": lambda: _signed(app, "intake"),
        "expired": lambda: _signed(app, "registry", ttl_s=-60),
        "stranger": lambda: internal_token.Signer(internal_token.generate_private_key()).sign(
            HEAD, "registry"
        ),
        "garbage": lambda: "garbage",
    }[token]()
    username = next(iter(users.users))
    r = await _get(app, f"/internal/v1/staff/{username}", "127.0.0.1", presented)
    assert r.status_code == status, r.text
