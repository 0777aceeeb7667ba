"""Fixtures of the API fuzz test: the gateway to fuzz, its merged OpenAPI document, a bearer token per role.

The fuzz test runs on the session's shared stack and changes its state (a supervisor's fuzzed calendar overrides
move deadlines, fuzzed applications fill worklists), so its tests are moved to the end of the session.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from btdeploy.stack import Stack
from gateway.roles import ALL_ROLES
from gateway.seed import DEV_USERS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Last, whatever order the paths were given in: no other test may see what the fuzzer created.
    fuzz = [item for item in items if item.get_closest_marker("fuzz") is not None]
    if fuzz:
        items[:] = [item for item in items if item.get_closest_marker("fuzz") is None] + fuzz


@pytest.fixture(scope="session")
def gateway_url(request: pytest.FixtureRequest) -> str:
    """The session's stack, or a gateway already running at BT_FUZZ_GATEWAY (e.g. `make run`'s, whose data the
    fuzzer then changes)."""
    if url := os.environ.get("BT_FUZZ_GATEWAY"):
        return url.rstrip("/")
    stack: Stack = request.getfixturevalue("stack")
    return stack.url("gateway")


@pytest.fixture(scope="session")
def openapi_document(gateway_url: str) -> dict[str, Any]:
    response = httpx.get(f"{gateway_url}/openapi.json", timeout=30)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    # A service whose document could not be fetched would silently shrink what is fuzzed.
    assert not document["info"].get("x-unavailable-services"), document["info"]
    return document


@pytest.fixture(scope="session")
def role_tokens(gateway_url: str) -> dict[str, str]:
    """One bearer token per role, of the first development user holding it (seeded by the gateway)."""
    tokens: dict[str, str] = {}
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        for user in DEV_USERS:
            if user.role in tokens:
                continue
            response = client.post(
                "/api/v1/auth/token", data={"username": user.username, "password": user.password}
            )
            assert response.status_code == 200, response.text
            tokens[user.role] = response.json()["access_token"]
    assert set(tokens) == set(ALL_ROLES), f"no development user for {set(ALL_ROLES) - set(tokens)}"
    return tokens
