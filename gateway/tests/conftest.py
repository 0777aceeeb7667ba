"""Test setup of the gateway: the app with in-memory users and fake upstream services, no network."""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

# pytest (--import-mode=importlib) names this file `gateway.tests.conftest` after its folder and registers the
# folder /work/main/gateway as a namespace package `gateway`, which hides the real package in gateway/src.
# Put the real one back before anything imports from it.
if getattr(sys.modules.get("gateway"), "__file__", None) is None:
    sys.modules.pop("gateway", None)
    importlib.import_module("gateway")

# importlib mode does not put test folders on sys.path either; the helper module carries a gateway-specific
# name so it cannot clash with another package's.
sys.path.insert(0, str(Path(__file__).parent))

from gateway_fakes import FakeUpstreams, MemoryUsers, bearer, make_settings, make_users

from gateway.main import build_app


@pytest.fixture
def upstreams() -> FakeUpstreams:
    return FakeUpstreams()


@pytest.fixture
def users() -> MemoryUsers:
    return MemoryUsers(make_users())


@pytest.fixture
async def app(upstreams: FakeUpstreams, users: MemoryUsers) -> AsyncIterator[FastAPI]:
    # The lifespan is not run (it needs PostgreSQL): the fakes are attached the way the lifespan would.
    app = build_app(make_settings())
    app.state.gateway.attach(users, upstreams.transport())
    yield app
    await app.state.gateway.detach()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as c:
        yield c


@pytest.fixture
def auth(users: MemoryUsers) -> Callable[[str], dict[str, str]]:
    """Authorization headers of a known test user, minted directly (the token endpoint has its own tests)."""
    return lambda username: bearer(users.users[username])


@pytest.fixture
def login(client: httpx.AsyncClient) -> Callable[[str, str], Awaitable[httpx.Response]]:
    async def _login(username: str, password: str) -> httpx.Response:
        return await client.post("/api/v1/auth/token", data={"username": username, "password": password})

    return _login
